import { dag, Container, Directory, File, object, func, ReturnType } from "@dagger.io/dagger";
import { DEFAULT_POLICY_YAML, evaluate, parseBandit, parsePolicy, renderReports, toolFailure, type ToolRun } from "./core/index.js";
import { describeEngineError, tail } from "./support.js";

/** Base image for Bandit when no `banditImage` is given: pinned, and also what the lab provides offline. */
export const PYTHON_IMAGE = "python:3.11-slim";
/** Bandit from PyPI, pinned: the `sarif` extra brings CWE data; Debian's 1.6 has neither. */
export const BANDIT_REQUIREMENT = "bandit[sarif]==1.9.4";

const SOURCE_DIR = "/src";
// Outputs go to /tmp, which every image has, so no output directory needs creating.
const REPORT_PATH = "/tmp/portcullis-bandit.json";
const LOG_PATH = "/tmp/portcullis-bandit.log";
const CA_BUNDLE_PATH = "/etc/ssl/certs/portcullis-ca-bundle.crt";

/** Where the extra CA goes before it is appended to the system bundle. */
const EXTRA_CA_PATH = "/usr/local/share/portcullis/extra-ca.crt";

/**
 * Adds a CA bundle for TLS-inspecting networks: appends it to the image's trust store
 * and points pip, requests, OpenSSL and Go at the result.
 */
export function withExtraCa(container: Container, caBundle?: File): Container {
  if (!caBundle) return container;
  return container
    .withFile(EXTRA_CA_PATH, caBundle)
    .withExec(["sh", "-c", `cat /etc/ssl/certs/ca-certificates.crt "${EXTRA_CA_PATH}" > "${CA_BUNDLE_PATH}"`])
    .withEnvVariable("SSL_CERT_FILE", CA_BUNDLE_PATH)
    .withEnvVariable("PIP_CERT", CA_BUNDLE_PATH)
    .withEnvVariable("REQUESTS_CA_BUNDLE", CA_BUNDLE_PATH);
}

/** The pinned Bandit container: a Python base with Bandit installed by pip (cached by the engine). */
export function banditContainer(caBundle?: File): Container {
  return withExtraCa(dag.container().from(PYTHON_IMAGE), caBundle).withExec([
    "pip",
    "install",
    "--no-cache-dir",
    "--disable-pip-version-check",
    BANDIT_REQUIREMENT,
  ]);
}

/** Runs Bandit over `source`; its exit code is data (0 clean, 1 findings), so the exec never fails by itself. */
export function runBandit(opts: { source: Directory; config?: File; banditImage?: Container; caBundle?: File }): SastRun {
  const base = opts.banditImage ? withExtraCa(opts.banditImage, opts.caBundle) : banditContainer(opts.caBundle);
  const args = ["bandit", "-r", ".", "-f", "json", "-q"];
  let container = base
    .withMountedDirectory(SOURCE_DIR, opts.source)
    .withWorkdir(SOURCE_DIR);
  if (opts.config) {
    container = container.withMountedFile("/etc/portcullis/bandit.yaml", opts.config);
    args.push("-c", "/etc/portcullis/bandit.yaml");
  }
  const executed = container.withExec(args, {
    expect: ReturnType.Any,
    redirectStdout: REPORT_PATH,
    redirectStderr: LOG_PATH,
  });
  return new SastRun(executed, base);
}

/**
 * One Bandit run over a source directory: the raw JSON report, Bandit's log,
 * and what portcullis makes of them (normalised findings, SARIF).
 */
@object()
export class SastRun {
  /** The container after Bandit ran; its exit code and files are the run's record. */
  private readonly executed: Container;
  /** The Bandit container before the scan, asked for `bandit --version` (its JSON report carries no version). */
  private readonly tool: Container;

  constructor(executed: Container, tool: Container) {
    this.executed = executed;
    this.tool = tool;
  }

  /** Bandit's raw JSON report, exactly as Bandit wrote it. */
  @func()
  report(): File {
    return this.executed.file(REPORT_PATH);
  }

  /** Bandit's own log (its standard error): where a configuration error or a crash is explained. */
  @func()
  log(): File {
    return this.executed.file(LOG_PATH);
  }

  /** Bandit's exit code: 0 nothing found, 1 findings, anything else an error. */
  @func()
  async exitCode(): Promise<number> {
    return this.executed.exitCode();
  }

  /**
   * The findings as portcullis' normalised JSON (rule, severity, confidence, file, line, CWE, fingerprint).
   * Throws when Bandit failed (exit code 2, a crash, output that is not a Bandit report).
   */
  @func()
  async findings(): Promise<string> {
    const run = await this.toolRun();
    if (run.errors.length > 0) throw new Error(`Bandit did not complete: ${run.errors.join("; ")}`);
    return JSON.stringify(run.findings, null, 2);
  }

  /**
   * This run alone as a SARIF 2.1.0 log, judged against the default policy
   * (so levels and suppressions read as they would in the pipeline's report).
   */
  @func()
  async sarif(): Promise<File> {
    const run = await this.toolRun();
    const policy = parsePolicy(DEFAULT_POLICY_YAML, { filePath: "default policy" });
    const reports = renderReports(evaluate({ runs: [run], policy, now: new Date() }));
    return dag.directory().withNewFile("bandit.sarif", reports["portcullis.sarif"]).file("bandit.sarif");
  }

  /** The run as the core's ToolRun; never throws for a tool failure, which becomes the run's error instead. */
  async toolRun(): Promise<ToolRun> {
    let exitCode: number;
    let reportText: string;
    let logText: string;
    let versionText: string;
    try {
      [exitCode, reportText, logText, versionText] = await Promise.all([
        this.executed.exitCode(),
        this.report().contents(),
        this.log().contents(),
        this.tool.withExec(["bandit", "--version"], { expect: ReturnType.Any }).stdout(),
      ]);
    } catch (err) {
      const { message, output } = describeEngineError(err);
      return toolFailure("bandit", `Bandit could not run: ${message}${output ? `\n${tail(output)}` : ""}`);
    }
    if (exitCode !== 0 && exitCode !== 1) {
      return toolFailure("bandit", `Bandit exited ${exitCode} (an error, not a result): ${tail(logText, 5) || "no output"}`);
    }
    try {
      const run = parseBandit(reportText, { filePath: "bandit.json" });
      const version = /^bandit (\S+)/m.exec(versionText)?.[1];
      return run.version || !version ? run : { ...run, version };
    } catch (err) {
      return toolFailure("bandit", `Bandit's output is not a Bandit JSON report: ${(err as Error).message}`);
    }
  }
}
