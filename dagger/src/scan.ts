import { dag, Container, File, Secret, object, func, ReturnType } from "@dagger.io/dagger";
import {
  DEFAULT_POLICY_YAML,
  evaluate,
  parseDbMetadata,
  parsePolicy,
  parseTrivy,
  renderReports,
  toolFailure,
  type DbMetadata,
  type ToolRun,
} from "./core/index.js";
import { withExtraCa } from "./sast.js";
import { describeEngineError, tail, trivyDbCacheKey } from "./support.js";

/** Trivy, pinned; its image runs `trivy` as entrypoint, which portcullis calls by name instead. */
export const TRIVY_IMAGE = "aquasec/trivy:0.74.0";

const CACHE_DIR = "/var/cache/trivy";
const SCAN_DIR = "/scan";
// Relative to SCAN_DIR, so reports name the artifact "image.tar" rather than a container path.
const IMAGE_TARBALL = "image.tar";
// Outputs go to /tmp, which every image has, so no output directory needs creating.
const REPORT_PATH = "/tmp/portcullis-trivy.json";
const LOG_PATH = "/tmp/portcullis-trivy.log";
const METADATA_PATH = "/tmp/portcullis-trivy-db-metadata.json";

/** What a Trivy scan needs besides the image; kept as Dagger types so it survives between module calls. */
export interface TrivyOptions {
  /** The day the scan is for (YYYY-MM-DD): part of the cache key, so a cached scan is at most a day old. */
  scanDate?: string;
  dbRepository?: string;
  dbUsername?: string;
  dbPassword?: Secret;
  trivyImage?: Container;
  caBundle?: File;
}

/** Trivy's arguments: vulnerabilities only, and with a DB mirror no other network (air-gapped mirrors have no Java DB). */
export function trivyArgs(format: "json" | "cyclonedx", dbRepository?: string): string[] {
  const args = ["image", "--input", IMAGE_TARBALL, "--scanners", "vuln", "--format", format];
  if (dbRepository) {
    args.push("--db-repository", dbRepository, "--skip-java-db-update", "--offline-scan", "--skip-version-check", "--disable-telemetry");
  }
  return args;
}

/** Runs Trivy over the image tarball with the DB on a cache volume; exit codes are data, output goes to /out. */
export function runTrivy(image: Container, format: "json" | "cyclonedx", opts: TrivyOptions): Container {
  if (opts.dbPassword && !opts.dbUsername) throw new Error("dbPassword was given without dbUsername");
  let container = withExtraCa(opts.trivyImage ?? dag.container().from(TRIVY_IMAGE), opts.caBundle)
    .withEnvVariable("TRIVY_NO_PROGRESS", "true")
    .withEnvVariable("TRIVY_CACHE_DIR", CACHE_DIR)
    .withMountedCache(CACHE_DIR, dag.cacheVolume(trivyDbCacheKey(opts.dbRepository)))
    .withMountedFile(`${SCAN_DIR}/${IMAGE_TARBALL}`, image.asTarball())
    .withWorkdir(SCAN_DIR)
    // A cache volume is not part of the engine's cache key: without the date a cached scan would hide newer CVEs.
    .withEnvVariable("PORTCULLIS_SCAN_DATE", opts.scanDate ?? new Date().toISOString().slice(0, 10));
  if (opts.dbUsername) container = container.withEnvVariable("TRIVY_USERNAME", opts.dbUsername);
  if (opts.dbPassword) container = container.withSecretVariable("TRIVY_PASSWORD", opts.dbPassword);
  // One shell step: Trivy, then a copy of the DB metadata out of the cache (a cache mount is not readable as a File).
  const script = `trivy "$@"; rc=$?; cp "${CACHE_DIR}/db/metadata.json" "${METADATA_PATH}" 2>/dev/null; exit $rc`;
  return container.withExec(["sh", "-c", script, "trivy", ...trivyArgs(format, opts.dbRepository)], {
    expect: ReturnType.Any,
    redirectStdout: REPORT_PATH,
    redirectStderr: LOG_PATH,
  });
}

/** Scans `image` with Trivy (lazily: nothing runs until a result is asked for). */
export function scanWithTrivy(image: Container, opts: TrivyOptions): ImageScan {
  const executed = runTrivy(image, "json", opts);
  return new ImageScan(image, executed, opts.dbRepository, opts.dbUsername, opts.dbPassword, opts.trivyImage, opts.caBundle);
}

/**
 * One Trivy scan of a container image: the raw JSON report, Trivy's log, the
 * vulnerability database's metadata (its age is part of the verdict), and a CycloneDX SBOM.
 */
@object()
export class ImageScan {
  /** The image that was scanned. */
  @func()
  image: Container;

  /** The container after Trivy ran; its exit code and files are the scan's record. */
  private readonly executed: Container;
  private readonly dbRepository?: string;
  private readonly dbUsername?: string;
  private readonly dbPassword?: Secret;
  private readonly trivyImage?: Container;
  private readonly caBundle?: File;

  // Dagger-typed parameters only: the module runtime reads every constructor of an @object.
  constructor(
    image: Container,
    executed: Container,
    dbRepository?: string,
    dbUsername?: string,
    dbPassword?: Secret,
    trivyImage?: Container,
    caBundle?: File,
  ) {
    this.image = image;
    this.executed = executed;
    this.dbRepository = dbRepository;
    this.dbUsername = dbUsername;
    this.dbPassword = dbPassword;
    this.trivyImage = trivyImage;
    this.caBundle = caBundle;
  }

  private options(): TrivyOptions {
    return {
      dbRepository: this.dbRepository,
      dbUsername: this.dbUsername,
      dbPassword: this.dbPassword,
      trivyImage: this.trivyImage,
      caBundle: this.caBundle,
    };
  }

  /** Trivy's raw JSON report, exactly as Trivy wrote it. */
  @func()
  report(): File {
    return this.executed.file(REPORT_PATH);
  }

  /** Trivy's own log (its standard error): where a missing database or a crash is explained. */
  @func()
  log(): File {
    return this.executed.file(LOG_PATH);
  }

  /** Trivy's exit code: 0 the scan completed (findings or not), anything else an error. */
  @func()
  async exitCode(): Promise<number> {
    return this.executed.exitCode();
  }

  /** The vulnerability database's `metadata.json` as Trivy used it (UpdatedAt, NextUpdate). */
  @func()
  dbMetadata(): File {
    return this.executed.file(METADATA_PATH);
  }

  /**
   * The findings as portcullis' normalised JSON (vulnerability, severity, package, installed and fixed version).
   * Throws when Trivy failed (no database, a crash, output that is not a Trivy report).
   */
  @func()
  async findings(): Promise<string> {
    const run = await this.toolRun();
    if (run.errors.length > 0) throw new Error(`Trivy did not complete: ${run.errors.join("; ")}`);
    return JSON.stringify(run.findings, null, 2);
  }

  /** This scan alone as a SARIF 2.1.0 log, judged against the default policy. */
  @func()
  async sarif(): Promise<File> {
    const [run, db] = await Promise.all([this.toolRun(), this.db()]);
    const policy = parsePolicy(DEFAULT_POLICY_YAML, { filePath: "default policy" });
    const reports = renderReports(evaluate({ runs: [run], policy, now: new Date(), db }));
    return dag.directory().withNewFile("trivy.sarif", reports["portcullis.sarif"]).file("trivy.sarif");
  }

  /** A CycloneDX SBOM of the image (a second Trivy run with the same database). */
  @func()
  async sbom(): Promise<File> {
    const executed = runTrivy(this.image, "cyclonedx", this.options());
    const code = await executed.exitCode();
    if (code !== 0) {
      throw new Error(`Trivy could not write the SBOM (exit ${code}): ${tail(await executed.file(LOG_PATH).contents(), 5)}`);
    }
    return executed.file(REPORT_PATH);
  }

  /** The scan as the core's ToolRun; never throws for a tool failure, which becomes the run's error instead. */
  async toolRun(): Promise<ToolRun> {
    let exitCode: number;
    let reportText: string;
    let logText: string;
    try {
      [exitCode, reportText, logText] = await Promise.all([
        this.executed.exitCode(),
        this.report().contents(),
        this.log().contents(),
      ]);
    } catch (err) {
      const { message, output } = describeEngineError(err);
      return toolFailure("trivy", `Trivy could not run: ${message}${output ? `\n${tail(output)}` : ""}`);
    }
    if (exitCode !== 0) {
      return toolFailure("trivy", `Trivy exited ${exitCode}: ${tail(logText, 5) || "no output"}`);
    }
    try {
      return parseTrivy(reportText, { filePath: "trivy.json" });
    } catch (err) {
      return toolFailure("trivy", `Trivy's output is not a Trivy JSON report: ${(err as Error).message}`);
    }
  }

  /** The DB metadata if Trivy left it; absent means the age is unknown, which the gate reports. */
  async db(): Promise<DbMetadata | undefined> {
    let text: string;
    try {
      text = await this.dbMetadata().contents();
    } catch {
      return undefined;
    }
    return parseDbMetadata(text, { filePath: "trivy-db/metadata.json" });
  }
}
