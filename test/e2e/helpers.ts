/** Shared plumbing for the end-to-end stories: the real CLI through the lab engine, the lab registry, reports. */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { variantsDir } from "../app/variants.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "ci/bin/portcullis.mjs");
/** The sample service's variants (app/ plus one patch each), generated on demand. */
export const APPS = variantsDir();
export const E2E_FIXTURES = path.join(ROOT, "test/fixtures/e2e");
export const DB_REPOSITORY = "127.0.0.1:5000/trivy-db";

/** Every CLI output of this test process lands here, so the secret-leak story can grep it all. */
export const ARTIFACTS = mkdtempSync(path.join(tmpdir(), "portcullis-e2e-"));

/** A short random tag so runs never collide in the shared lab registry. */
export const nonce = (): string => randomBytes(4).toString("hex");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node ci/bin/portcullis.mjs ARGS` from the repo root; output is also saved under ARTIFACTS. */
export function portcullis(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; record?: boolean } = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 900_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr, ms: Date.now() - started };
      if (opts.record === false) return resolve(result);
      const base = path.join(ARTIFACTS, `cli-${Date.now()}-${nonce()}`);
      writeFileSync(`${base}.cmd`, args.join(" "));
      writeFileSync(`${base}.stdout`, stdout);
      writeFileSync(`${base}.stderr`, stderr);
      resolve(result);
    });
  });
}

/** `portcullis lab exec -- portcullis run ARGS`: the documented way to run the pipeline on the lab. */
export function labRun(runArgs: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return portcullis(["lab", "exec", "--", process.execPath, CLI, "run", ...runArgs], opts);
}

let cachedEnv: Record<string, string> | undefined;

/** The variables `portcullis lab env` exports (registry address and credentials, the engine session). */
export async function labEnv(): Promise<Record<string, string>> {
  if (cachedEnv) return cachedEnv;
  // Not recorded: `lab env` prints the credentials by design; everything recorded is grepped for them.
  const result = await portcullis(["lab", "env"], { record: false });
  if (result.code !== 0) throw new Error(`portcullis lab env failed (is the lab up?): ${result.stderr.trim()}`);
  const env: Record<string, string> = {};
  for (const line of result.stdout.split("\n")) {
    const m = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!;
    if (/^'.*'$/.test(value)) value = value.slice(1, -1).replace(/'\\''/g, "'");
    else if (/^".*"$/.test(value)) value = value.slice(1, -1);
    env[m[1]!] = value;
  }
  for (const name of ["PORTCULLIS_LAB_REGISTRY", "PORTCULLIS_LAB_REGISTRY_USER", "PORTCULLIS_LAB_REGISTRY_PASSWORD"]) {
    if (!env[name]) throw new Error(`portcullis lab env did not export ${name}`);
  }
  cachedEnv = env;
  return env;
}

/** Arguments that point Trivy at the lab's DB mirror with the registry's credentials. */
export async function dbArgs(): Promise<string[]> {
  const env = await labEnv();
  return ["--db-repository", DB_REPOSITORY, "--db-username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--db-password-env", "PORTCULLIS_LAB_REGISTRY_PASSWORD"];
}

/** The environment a run needs for `--password-env PORTCULLIS_LAB_REGISTRY_PASSWORD`. */
export async function runEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const env = await labEnv();
  return { PORTCULLIS_LAB_REGISTRY_PASSWORD: env.PORTCULLIS_LAB_REGISTRY_PASSWORD, ...extra };
}

/** A fresh reports directory under ARTIFACTS. */
export function outDir(name: string): string {
  const dir = path.join(ARTIFACTS, `reports-${name}-${nonce()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const DAY_MS = 86_400_000;

/** ISO date (YYYY-MM-DD) `days` from today. */
export function isoDay(days: number): string {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Writes a policy from a template in test/fixtures/e2e/policies/, filling `{{EXPIRES}}` so a
 * waiver's expiry is relative to today (a fixed date would rot the suite).
 */
export function policyFrom(template: string, expiresInDays: number): string {
  const text = readFileSync(path.join(E2E_FIXTURES, "policies", template), "utf8").replaceAll("{{EXPIRES}}", isoDay(expiresInDays));
  const file = path.join(ARTIFACTS, `policy-${nonce()}-${template}`);
  writeFileSync(file, text);
  return file;
}

export interface Reports {
  verdict: Verdict;
  sarif: Sarif;
  summary: string;
  junit: string;
  buildLog?: string;
}

/** The parts of verdict.json the stories read. */
export interface Verdict {
  outcome: "pass" | "fail" | "error";
  errors: string[];
  blocking: Array<{ ruleId: string; stage: string; severity: string; location?: { path: string; line: number }; package?: { name: string } }>;
  waived: unknown[];
  expiredWaivers: Array<{ id: string }>;
  /** Every finding with its disposition (blocking, warning, waived, info); warnings are read from here. */
  findings: Array<{ ruleId: string; stage: string; severity: string; disposition: string; package?: { name: string } }>;
}

export interface Sarif {
  runs: Array<{
    tool: { driver: { name: string } };
    results: Array<{
      ruleId: string;
      locations?: Array<{ physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number } } }>;
      suppressions?: Array<{ kind: string; justification?: string; status?: string }>;
    }>;
  }>;
}

/** Reads the four reports (and build.log when present) from an --out directory; a missing one fails the test. */
export function readReports(dir: string): Reports {
  const read = (name: string) => readFileSync(path.join(dir, name), "utf8");
  return {
    verdict: JSON.parse(read("verdict.json")) as Verdict,
    sarif: JSON.parse(read("portcullis.sarif")) as Sarif,
    summary: read("summary.md"),
    junit: read("junit.xml"),
    ...(existsSync(path.join(dir, "build.log")) ? { buildLog: read("build.log") } : {}),
  };
}

/** Wall time per stage from the CLI's progress lines (`✓ sast    12.3s  …`). */
export function stageTimes(stderr: string): Record<string, number> {
  const times: Record<string, number> = {};
  for (const m of stderr.matchAll(/^[✓✗] (\w+)\s+([\d.]+)s/gm)) times[m[1]!] = Number(m[2]);
  const overlap = /sast ∥ build overlap: ([\d.]+)s/.exec(stderr);
  if (overlap) times.overlap = Number(overlap[1]);
  return times;
}

/** An authenticated GET on the lab registry's HTTP API. */
export async function registryGet(pathname: string, accept?: string): Promise<Response> {
  const env = await labEnv();
  const auth = Buffer.from(`${env.PORTCULLIS_LAB_REGISTRY_USER}:${env.PORTCULLIS_LAB_REGISTRY_PASSWORD}`).toString("base64");
  return fetch(`http://${env.PORTCULLIS_LAB_REGISTRY}${pathname}`, {
    headers: { Authorization: `Basic ${auth}`, ...(accept ? { Accept: accept } : {}) },
  });
}

/** Tags of a repository in the lab registry ([] when the repository does not exist). */
export async function registryTags(repository: string): Promise<string[]> {
  const res = await registryGet(`/v2/${repository}/tags/list`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`registry tags/list ${repository}: HTTP ${res.status}`);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

export const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** Pulls a manifest by digest and checks the bytes hash to that digest (what a pull by digest guarantees). */
export async function pullManifest(repository: string, digest: string): Promise<{ config: { digest: string }; layers: Array<{ digest: string; mediaType: string }> }> {
  const res = await registryGet(`/v2/${repository}/manifests/${digest}`, MANIFEST_TYPES);
  if (!res.ok) throw new Error(`pull ${repository}@${digest}: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const actual = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  if (actual !== digest) throw new Error(`manifest of ${repository}@${digest} hashes to ${actual}`);
  return JSON.parse(body.toString("utf8"));
}

/** A blob of the lab registry, as bytes. */
export async function pullBlob(repository: string, digest: string): Promise<Buffer> {
  const res = await registryGet(`/v2/${repository}/blobs/${digest}`);
  if (!res.ok) throw new Error(`blob ${repository}@${digest}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Splits `127.0.0.1:5000/repo/name:tag@sha256:…` into repository and digest. */
export function parseReference(ref: string): { repository: string; digest: string } {
  const m = /^[^/]+\/(.+?)(?::[\w.-]+)?@(sha256:[0-9a-f]{64})$/.exec(ref.trim());
  if (!m) throw new Error(`not a digest-pinned reference: ${ref}`);
  return { repository: m[1]!, digest: m[2]! };
}

/** The `Published: …` line the CLI prints after a successful publish. */
export function publishedReference(stdout: string): string | undefined {
  return /^Published: (\S+)$/m.exec(stdout)?.[1];
}

/** `--publish ADDRESS` with the lab registry's user and the password from the environment (never on the command line). */
export async function publishArgs(address: string): Promise<string[]> {
  const env = await labEnv();
  return ["--publish", address, "--username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--password-env", "PORTCULLIS_LAB_REGISTRY_PASSWORD"];
}

/** The lab engine's counters (requests served, containers run, steps executed, cache hits). */
export async function engineCounters(): Promise<{ requestsServed: number; containersRun: number; stepsExecuted: number; cacheHits: number }> {
  const { engineState } = await import("../../lab/engine/service.js");
  const { resolveLabDir } = await import("../../lab/paths.js");
  const state = await engineState(resolveLabDir());
  if (!state?.running || !state.counters) throw new Error("the lab engine is not running (portcullis lab up)");
  return state.counters;
}
