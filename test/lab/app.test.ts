// End-to-end check of the sample service's image on the lab (needs `npx portcullis lab up`):
// the runtime image builds with its tests, serves /healthz to another container over loopback,
// runs as a non-root uid, stops on SIGTERM within 2 s, carries no compiler or pip, and is at
// most half the size of the single-stage build. A failing unit test fails the build.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labLayout, resolveLabDir } from "../../lab/paths.js";
import { appDir, buildImage, docker, fixtureDir, imageSize, megabytes, requireLabImage, tail } from "../app/images.js";

const RUNTIME = "portcullis-test/advisory-api:runtime";
const SINGLE_STAGE = "portcullis-test/advisory-api:single-stage";
const FAILING = "portcullis-test/advisory-api:failing-test";
const NON_ROOT_UID = 10001;

// Run in the image: which build or package tools are present (PATH, importable modules, Debian packages).
const TOOL_PROBE = `
import importlib.util, json, re, shutil, subprocess
listing = subprocess.run(["dpkg-query", "-W", "-f", "\${db:Status-Abbrev} \${Package}\\n"], capture_output=True, text=True).stdout
installed = [line.split()[1] for line in listing.splitlines() if line.startswith("ii")]
print(json.dumps({
    "commands": sorted(name for name in ("gcc", "cc", "c++", "make", "pip", "pip3", "pip3.11") if shutil.which(name)),
    "modules": sorted(name for name in ("pip", "setuptools", "wheel", "ensurepip") if importlib.util.find_spec(name)),
    "debs": sorted(p for p in installed if re.fullmatch(r"(gcc|g\+\+|cpp)(-[0-9]+)?|build-essential|libc6-dev|python3-(pip|setuptools|wheel)", p)),
}))
`;

interface ToolInventory {
  commands: string[];
  modules: string[];
  debs: string[];
}

async function toolInventory(image: string): Promise<ToolInventory> {
  const run = await docker(["run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", TOOL_PROBE]);
  if (run.code !== 0) throw new Error(`tool probe failed in ${image} (exit ${run.code}): ${run.stderr.trim()}`);
  return JSON.parse(run.stdout) as ToolInventory;
}

const startedContainers: string[] = [];

async function inspect(container: string, format: string): Promise<string> {
  const result = await docker(["inspect", "--format", format, container]);
  if (result.code !== 0) throw new Error(`docker inspect ${container}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("app/ runtime image on the lab", () => {
  let runtimeBuildLog = "";

  beforeAll(async () => {
    await requireLabImage("python:3.11-slim");
    // The runtime image without the layer cache, so the builder's pytest step really runs in this build.
    for (const [context, tag, noCache] of [[appDir, RUNTIME, true], [fixtureDir("single-stage"), SINGLE_STAGE, false]] as const) {
      const build = await buildImage(context, tag, { noCache });
      if (tag === RUNTIME) runtimeBuildLog = build.stdout + build.stderr;
      console.log(`built ${tag} in ${(build.ms / 1000).toFixed(1)} s (exit ${build.code})`);
      if (build.code !== 0) throw new Error(`docker build of ${context} failed (exit ${build.code}):\n${tail(build.stdout + build.stderr)}`);
    }
  });

  afterAll(async () => {
    for (const id of startedContainers) await docker(["rm", "--force", id]);
  });

  it("runs the unit tests in the builder stage, with pytest's report in the build log", () => {
    expect(runtimeBuildLog).toMatch(/tests\/test_server\.py::test_healthz_reports_ok_and_the_data_size PASSED/);
    const summary = runtimeBuildLog.match(/=+ (\d+) passed in [\d.]+s =+/);
    expect(summary, tail(runtimeBuildLog)).not.toBeNull();
    console.log(`builder pytest: ${summary![0]}`);
    expect(Number(summary![1])).toBeGreaterThanOrEqual(40);
  });

  it("declares a non-root user, the container's bind host in its environment, a healthcheck and SIGTERM", async () => {
    const config = JSON.parse(await inspect(RUNTIME, "{{json .Config}}")) as {
      User: string;
      Env: string[];
      Healthcheck?: { Test: string[] };
      StopSignal?: string;
      ExposedPorts?: Record<string, unknown>;
    };
    expect(config.User).toBe(`${NON_ROOT_UID}:${NON_ROOT_UID}`);
    expect(config.Env).toContain("APP_HOST=0.0.0.0");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "python", "-m", "advisory_api.healthcheck"]);
    expect(config.StopSignal).toBe("SIGTERM");
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual(["8080/tcp"]);
  });

  it("serves /healthz to another container over loopback, as a non-root uid, and stops on SIGTERM within 2 s", async () => {
    // The app keeps the image's APP_HOST=0.0.0.0 inside its own namespace, which has only a loopback
    // interface (--network none); the probe container joins that namespace and calls 127.0.0.1.
    const run = await docker(["run", "--detach", "--network", "none", "--health-interval", "1s", RUNTIME]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    startedContainers.push(id);

    await waitFor("the service's 'listening' log line", 30_000, async () => {
      const logs = await docker(["logs", id]);
      return logs.stdout.includes('"msg":"listening"') ? true : undefined;
    });
    const probe = await docker([
      "run", "--rm", "--network", `container:${id}`, "--entrypoint", "python", RUNTIME, "-c",
      "import urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=5); print(r.status, r.read().decode())",
    ]);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout.trim()).toBe('200 {"status":"ok","advisories":6}');

    const lookup = await docker([
      "run", "--rm", "--network", `container:${id}`, "--entrypoint", "python", RUNTIME, "-c",
      "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/v1/advisories?package=PyYAML&version=5.3.1', timeout=5).read().decode())",
    ]);
    expect(lookup.code, lookup.stderr).toBe(0);
    expect(JSON.parse(lookup.stdout)).toMatchObject({ package: "pyyaml", vulnerable: true, advisories: [{ id: "CVE-2020-14343" }] });

    // PID 1 is the server itself; its real, effective, saved and filesystem uids are all the non-root user.
    const status = await docker(["exec", id, "cat", "/proc/1/status"]);
    expect(status.stdout).toMatch(new RegExp(`^Uid:\\s+${NON_ROOT_UID}\\s+${NON_ROOT_UID}\\s+${NON_ROOT_UID}\\s+${NON_ROOT_UID}$`, "m"));

    const health = await waitFor("HEALTHCHECK to report healthy", 30_000, async () => {
      const state = await inspect(id, "{{.State.Health.Status}}");
      return state === "healthy" ? state : undefined;
    });
    expect(health).toBe("healthy");

    const stop = await docker(["stop", "--time", "2", id]);
    expect(stop.code, stop.stderr).toBe(0);
    const exitCode = Number(await inspect(id, "{{.State.ExitCode}}"));
    console.log(`docker stop -t 2 took ${stop.ms.toFixed(0)} ms; exit code ${exitCode}`);
    // 0: the service handled SIGTERM and exited by itself within the 2 s; 137 would mean Docker had to SIGKILL it.
    expect(exitCode).toBe(0);
    const logs = (await docker(["logs", id])).stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.at(-2)).toMatchObject({ msg: "shutting down", reason: "SIGTERM" });
    expect(logs.at(-1)).toMatchObject({ msg: "stopped", level: "info" });
    expect(logs.filter((entry) => entry.logger === "advisory_api.access").length).toBeGreaterThanOrEqual(2);
  });

  it("contains no compiler and no pip, where the single-stage build has both", async () => {
    const runtime = await toolInventory(RUNTIME);
    expect(runtime).toEqual({ commands: [], modules: [], debs: [] });

    const baseline = await toolInventory(SINGLE_STAGE);
    // The same probe finds the tools where they are: it is not blind.
    expect(baseline.commands).toEqual(expect.arrayContaining(["gcc", "pip"]));
    expect(baseline.modules).toEqual(expect.arrayContaining(["pip"]));
  });

  it("is at most half the size of the single-stage image", async () => {
    const [runtimeBytes, singleBytes] = [await imageSize(RUNTIME), await imageSize(SINGLE_STAGE)];
    const ratio = runtimeBytes / singleBytes;
    console.log(
      `image size: runtime ${runtimeBytes} B (${megabytes(runtimeBytes)}), single-stage ${singleBytes} B (${megabytes(singleBytes)}), ` +
        `runtime/single = ${ratio.toFixed(3)}`,
    );
    expect(ratio).toBeLessThanOrEqual(0.5);
  });
});

describe("a failing unit test stops the build", () => {
  it("fails docker build in the builder's pytest step, with the failing test in the output", async () => {
    await requireLabImage("python:3.11-slim");
    await docker(["image", "rm", "--force", FAILING]); // only our own tag, so a stale image cannot pass the last check
    const build = await buildImage(fixtureDir("failing-test"), FAILING);
    const log = build.stdout + build.stderr;
    expect(build.code, tail(log)).not.toBe(0);
    expect(log).toContain("FAILED tests/test_server.py::test_healthz_counts_the_advisory_added_for_jinja2");
    expect(log).toMatch(/assert 6 == 7/);
    expect(log).toMatch(/=+ 1 failed, \d+ passed in [\d.]+s =+/);
    expect(log).toMatch(/The command '.*pytest.*' returned a non-zero code: 1/);
    // No image came out of the failed build.
    expect((await docker(["image", "inspect", FAILING])).code).not.toBe(0);
  });
});

// The variants under test/fixtures/apps must carry what the pipeline's end-to-end tests rely on;
// checked here with the real tools (the lab's Trivy image and database, Bandit from PyPI).
describe("the variants deliver the findings the pipeline's tests expect", () => {
  const BANDIT = "portcullis-test/bandit:1.9.4";
  let scratch: string;

  interface ImageVulnerability { class: string; id: string; pkg: string; installed: string; fixed: string; severity: string }

  async function trivyScan(image: string): Promise<ImageVulnerability[]> {
    const tarball = join(scratch, `${image.replace(/[^a-z0-9]+/gi, "_")}.tar`);
    const saved = await docker(["save", "--output", tarball, image]);
    if (saved.code !== 0) throw new Error(`docker save ${image}: ${saved.stderr.trim()}`);
    const scan = await docker([
      "run", "--rm", "--network", "none", "--volume", `${scratch}:/work`, "aquasec/trivy:0.74.0",
      "image", "--input", `/work/${tarball.split("/").pop()}`, "--cache-dir", "/work/cache", "--skip-db-update",
      "--skip-java-db-update", "--offline-scan", "--skip-version-check", "--disable-telemetry", "--scanners", "vuln",
      "--format", "json", "--quiet",
    ]);
    if (scan.code !== 0) throw new Error(`trivy scan of ${image} failed (exit ${scan.code}): ${scan.stderr.trim()}`);
    const report = JSON.parse(scan.stdout) as {
      Results?: { Class: string; Vulnerabilities?: { VulnerabilityID: string; PkgName: string; InstalledVersion: string; FixedVersion?: string; Severity: string }[] }[];
    };
    return (report.Results ?? []).flatMap((result) =>
      (result.Vulnerabilities ?? []).map((v) => ({
        class: result.Class, id: v.VulnerabilityID, pkg: v.PkgName, installed: v.InstalledVersion, fixed: v.FixedVersion ?? "", severity: v.Severity,
      })),
    );
  }

  async function banditScan(sourceDir: string): Promise<{ results: { test_id: string; filename: string; line_number: number; issue_severity: string; issue_confidence: string }[]; errors: unknown[] }> {
    // `-r .` from the source directory, as the pipeline runs it, so app/.bandit applies.
    const run = await docker(["run", "--rm", "--network", "none", "--volume", `${sourceDir}:/src:ro`, "--workdir", "/src", BANDIT, "-r", ".", "-f", "json", "-q", "--exit-zero"]);
    if (run.code !== 0) throw new Error(`bandit failed on ${sourceDir} (exit ${run.code}): ${run.stderr.trim()}`);
    return JSON.parse(run.stdout);
  }

  beforeAll(async () => {
    await requireLabImage("python:3.11-slim");
    await requireLabImage("aquasec/trivy:0.74.0");
    scratch = mkdtempSync(join(tmpdir(), "portcullis-app-scan-"));
    // Trivy writes its analysis cache next to the DB, so it gets a copy of the lab's DB, not the DB itself.
    cpSync(labLayout(resolveLabDir()).trivyDbDir, join(scratch, "cache", "db"), { recursive: true });
    const banditImage = await docker(
      ["build", "--network", "host", "--tag", BANDIT, "-"],
      { env: { DOCKER_BUILDKIT: "0" }, input: 'FROM python:3.11-slim\nRUN pip install --no-cache-dir "bandit[sarif]==1.9.4"\nENTRYPOINT ["bandit"]\n' },
    );
    if (banditImage.code !== 0) throw new Error(`cannot build ${BANDIT}:\n${tail(banditImage.stdout + banditImage.stderr)}`);
    for (const variant of ["vulnerable-deps", "unpatched-base"] as const) {
      const build = await buildImage(fixtureDir(variant), `portcullis-test/advisory-api:${variant}`);
      console.log(`built portcullis-test/advisory-api:${variant} in ${(build.ms / 1000).toFixed(1)} s (exit ${build.code})`);
      if (build.code !== 0) throw new Error(`docker build of ${variant} failed (exit ${build.code}):\n${tail(build.stdout + build.stderr)}`);
    }
    const runtime = await buildImage(appDir, RUNTIME);
    if (runtime.code !== 0) throw new Error(`docker build of app/ failed (exit ${runtime.code}):\n${tail(runtime.stdout + runtime.stderr)}`);
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("Bandit: app/ is clean, literal-bind has B104 at advisory_api/config.py:10", async () => {
    const clean = await banditScan(appDir);
    expect(clean.errors).toEqual([]);
    expect(clean.results).toEqual([]);
    const literal = await banditScan(fixtureDir("literal-bind"));
    expect(literal.errors).toEqual([]);
    expect(literal.results.map((r) => [r.test_id, r.filename, r.line_number, r.issue_severity, r.issue_confidence])).toEqual([
      ["B104", "./advisory_api/config.py", 10, "MEDIUM", "MEDIUM"],
    ]);
  });

  it("Trivy: vulnerable-deps carries PyYAML CVE-2020-14343 (CRITICAL) and requests CVE-2018-18074 (HIGH); app/ has no Python findings", async () => {
    const vulnerable = await trivyScan("portcullis-test/advisory-api:vulnerable-deps");
    console.log(`vulnerable-deps: ${vulnerable.map((v) => `${v.id} ${v.pkg} ${v.installed} ${v.severity}`).join("; ")}`);
    expect(vulnerable).toContainEqual({ class: "lang-pkgs", id: "CVE-2020-14343", pkg: "PyYAML", installed: "5.3.1", fixed: "5.4", severity: "CRITICAL" });
    expect(vulnerable).toContainEqual({ class: "lang-pkgs", id: "CVE-2018-18074", pkg: "requests", installed: "2.19.1", fixed: "2.20.0", severity: "HIGH" });
    const runtime = await trivyScan(RUNTIME);
    console.log(`app/ runtime: ${runtime.map((v) => `${v.id} ${v.pkg} ${v.installed} ${v.severity} fixed=${v.fixed || "none"}`).join("; ") || "no findings"}`);
    expect(runtime.filter((v) => v.class === "lang-pkgs")).toEqual([]);
  });

  it("Trivy: the apt-get upgrade layer removes every Debian finding that has a fix; unpatched-base still has them", async () => {
    const patched = await trivyScan(RUNTIME);
    const unpatched = await trivyScan("portcullis-test/advisory-api:unpatched-base");
    const fixable = unpatched.filter((v) => v.class === "os-pkgs" && v.fixed !== "");
    console.log(`unpatched-base, fixable: ${fixable.map((v) => `${v.id} ${v.pkg} ${v.installed} -> ${v.fixed} ${v.severity}`).join("; ")}`);
    expect(fixable.length).toBeGreaterThan(0);
    expect(patched.filter((v) => v.class === "os-pkgs" && v.fixed !== "")).toEqual([]);
  });
});
