/**
 * portcullis: a security gate as code. Bandit (SAST) and a multi-stage image build run side
 * by side, Trivy scans the image, a policy decides, and only an image that passed is published.
 * Every run writes SARIF, Markdown, JSON and JUnit reports, whatever the outcome.
 */
import { Container, Directory, File, Secret, object, func, argument } from "@dagger.io/dagger";
import { runBandit, SastRun } from "./sast.js";
import { scanWithTrivy, ImageScan } from "./scan.js";
import { buildImage, PipelineRun } from "./pipeline.js";
import { assertPassed, judge, loadPolicy, publishImage, reportsDirectory } from "./gate.js";
import { parseNow } from "./support.js";
import { parseBandit, parseDbMetadata, parseTrivy, toolFailure, type DbMetadata, type ToolRun } from "./core/index.js";

export { SastRun } from "./sast.js";
export { ImageScan } from "./scan.js";
export { PipelineRun } from "./pipeline.js";

/**
 * Entries never sent to the engine with a source directory: VCS data, dependencies, caches and our
 * own outputs. Exported so client mode (`portcullis run`) sends the same tree as `dagger call`.
 */
export const SOURCE_IGNORE = [".git", "**/node_modules", "**/__pycache__", "**/.venv", "**/.pytest_cache", "reports", "out"];

/**
 * A security gate as code: SAST with Bandit, a multi-stage Docker build, a Trivy image scan,
 * a policy gate with waivers, and publish-by-digest only after a pass.
 */
@object()
export class Portcullis {
  /**
   * Runs Bandit (pinned) over a Python source tree. Its exit code is data: findings never fail
   * this step; exit code 2 or output that is not JSON make the run an error.
   *
   * @param source Source directory to scan (default: the module's context directory).
   * @param config Bandit configuration file, passed as `-c` (optional; default: Bandit's defaults).
   * @param banditImage Container with `bandit` on its PATH to use instead of the pinned python:3.11-slim + bandit 1.9.4 (optional).
   * @param caBundle Extra CA certificates (PEM) for TLS-inspecting networks, added to the trust store (optional; default: none).
   */
  @func()
  lintSast(
    @argument({ defaultPath: "/", ignore: SOURCE_IGNORE })
    source: Directory,
    config?: File,
    banditImage?: Container,
    caBundle?: File,
  ): SastRun {
    return runBandit({ source, config, banditImage, caBundle });
  }

  /**
   * Builds the source's Dockerfile (multi-stage: tests run in the builder stage, so a failing
   * test fails the build) and returns the final stage's image.
   *
   * @param source Build context holding the Dockerfile (default: the module's context directory).
   * @param dockerfile Path of the Dockerfile inside the source (default: "Dockerfile").
   * @param target Build stage to stop at (optional; default: the last stage).
   * @param buildArgs Build arguments as NAME=value (optional; default: none).
   */
  @func()
  buildMultiStage(
    @argument({ defaultPath: "/", ignore: SOURCE_IGNORE })
    source: Directory,
    dockerfile = "Dockerfile",
    target?: string,
    buildArgs?: string[],
  ): Container {
    return buildImage(source, dockerfile, target, buildArgs ?? []);
  }

  /**
   * Scans a container image with Trivy (pinned) for known vulnerabilities, through the image's
   * tarball (no push needed). The database lives on a cache volume; with `dbRepository` Trivy
   * takes it from that mirror and makes no other network call (for air-gapped networks).
   *
   * @param image The image to scan.
   * @param dbRepository OCI repository of a Trivy DB mirror, e.g. "registry.internal/trivy-db" (optional; default: Trivy's public DB).
   * @param dbUsername User name for the DB mirror (optional; default: anonymous).
   * @param dbPassword Password for the DB mirror, as a Secret (optional; needs dbUsername).
   * @param trivyImage Container with `trivy` on its PATH to use instead of the pinned aquasec/trivy:0.74.0 (optional).
   * @param caBundle Extra CA certificates (PEM) for TLS-inspecting networks (optional; default: none).
   */
  @func()
  scanImage(
    image: Container,
    dbRepository?: string,
    dbUsername?: string,
    dbPassword?: Secret,
    trivyImage?: Container,
    caBundle?: File,
  ): ImageScan {
    return scanWithTrivy(image, { dbRepository, dbUsername, dbPassword, trivyImage, caBundle });
  }

  /**
   * Judges scanner reports against a policy and returns the reports (SARIF, Markdown, JSON,
   * JUnit) on a pass; throws with the blocking findings on a fail, and on an error (a report
   * that does not parse, a database older than the policy allows).
   *
   * @param policy Policy YAML (optional; default: portcullis' default policy — CRITICAL image and MEDIUM SAST findings block).
   * @param sastReport Bandit JSON report (optional; default: no SAST stage).
   * @param imageReport Trivy JSON report (optional; default: no image stage).
   * @param dbMetadata Trivy's db/metadata.json, to check the database's age (optional; default: age unknown, reported).
   * @param now The time to judge at, ISO-8601 (optional; default: the current time).
   */
  @func()
  async gate(policy?: File, sastReport?: File, imageReport?: File, dbMetadata?: File, now?: string): Promise<Directory> {
    const at = parseNow(now);
    const judgedPolicy = loadPolicy(policy ? await policy.contents() : undefined, policy ? await policy.name() : "", at);
    const runs: ToolRun[] = [];
    if (sastReport) runs.push(await parseReport("bandit", sastReport, parseBandit));
    if (imageReport) runs.push(await parseReport("trivy", imageReport, parseTrivy));
    const db: DbMetadata | undefined = dbMetadata
      ? parseDbMetadata(await dbMetadata.contents(), { filePath: await dbMetadata.name() })
      : undefined;
    const judgement = judge({ runs, db, extraErrors: [] }, judgedPolicy, at);
    assertPassed(judgement.verdict);
    return reportsDirectory(judgement);
  }

  /**
   * Publishes an image and returns its digest-pinned reference, `address@sha256:…`.
   * This publishes unconditionally: use `pipeline(...).publish(...)` to publish only after the gate passed.
   *
   * @param image The image to publish.
   * @param address Image reference to push to, e.g. "registry.example.com/team/app:1.2.3".
   * @param username Registry user name (optional; default: the engine's own credentials).
   * @param password Registry password or token, as a Secret (required with username).
   */
  @func()
  async publish(image: Container, address: string, username?: string, password?: Secret): Promise<string> {
    return publishImage(image, address, username, password);
  }

  /**
   * The whole gate as one run: SAST and the build concurrently, the scan of the built image,
   * then the policy. Chain `reports` (always available), `outcome`, `verdict`, `gate` (throws
   * unless it passed) or `publish` (only after a pass) on the result.
   *
   * @param source Source directory with the Dockerfile (default: the module's context directory).
   * @param policy Policy YAML (optional; default: portcullis' default policy).
   * @param dockerfile Path of the Dockerfile inside the source (default: "Dockerfile").
   * @param target Build stage to stop at (optional; default: the last stage).
   * @param buildArgs Build arguments as NAME=value (optional; default: none).
   * @param banditConfig Bandit configuration file (optional; default: Bandit's defaults).
   * @param dbRepository OCI repository of a Trivy DB mirror (optional; default: Trivy's public DB).
   * @param dbUsername User name for the DB mirror (optional; default: anonymous).
   * @param dbPassword Password for the DB mirror, as a Secret (optional; needs dbUsername).
   * @param banditImage Container with `bandit` on its PATH instead of the pinned one (optional).
   * @param trivyImage Container with `trivy` on its PATH instead of the pinned one (optional).
   * @param caBundle Extra CA certificates (PEM) for TLS-inspecting networks (optional; default: none).
   * @param now The time to judge at, ISO-8601, for reproducible reports (optional; default: the current time).
   */
  @func()
  pipeline(
    @argument({ defaultPath: "/", ignore: SOURCE_IGNORE })
    source: Directory,
    policy?: File,
    dockerfile = "Dockerfile",
    target?: string,
    buildArgs?: string[],
    banditConfig?: File,
    dbRepository?: string,
    dbUsername?: string,
    dbPassword?: Secret,
    banditImage?: Container,
    trivyImage?: Container,
    caBundle?: File,
    now?: string,
  ): PipelineRun {
    if (now !== undefined) parseNow(now); // a bad date is an argument error now, not a surprise later
    return new PipelineRun(
      source,
      policy,
      dockerfile,
      target,
      buildArgs ?? [],
      banditConfig,
      banditImage,
      trivyImage,
      caBundle,
      dbRepository,
      dbUsername,
      dbPassword,
      now,
    );
  }
}


/** Reads and parses one scanner report; unreadable or foreign input makes the run an error, not an exception. */
async function parseReport(
  tool: "bandit" | "trivy",
  report: File,
  parse: (text: string, opts: { filePath: string }) => ToolRun,
): Promise<ToolRun> {
  const filePath = await report.name();
  try {
    return parse(await report.contents(), { filePath });
  } catch (err) {
    return toolFailure(tool, `${filePath}: ${(err as Error).message}`);
  }
}
