// Story 4: fail closed. Every way the pipeline can be unable to judge — Bandit exiting 2, Trivy with no
// database, a database older than the policy allows, a scanner printing non-JSON, a failing build, the
// registry down, a wrong registry password — is outcome "error", exit 2, nothing published, reports written.
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  APPS, E2E_FIXTURES, ROOT, dbArgs, isoDay, labEnv, labRun, nonce, outDir, policyFrom, portcullis, publishArgs,
  readReports, registryTags, runEnv, type CliResult,
} from "./helpers.js";

/** Exit 2, outcome error, the reason in verdict.json, and never a "Published:" line. */
function expectError(result: CliResult, out: string, reason: RegExp) {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).not.toMatch(/^Published:/m);
  const reports = readReports(out);
  expect(reports.verdict.outcome).toBe("error");
  expect(reports.verdict.errors.join("\n")).toMatch(reason);
  expect(reports.summary.length).toBeGreaterThan(0);
  expect(reports.junit).toContain("<testsuite");
  return reports;
}

const app = path.join(ROOT, "app");

describe("story 4: fail closed", () => {
  it("Bandit exiting 2 (a configuration it cannot parse) is an error, not a pass", async () => {
    const out = outDir("bandit-exit-2");
    const result = await labRun(
      ["--source", app, "--policy", policyFrom("app-waiver.yaml", 30), "--bandit-config", path.join(E2E_FIXTURES, "bandit-invalid.yaml"), "--out", out, ...(await dbArgs())],
      { env: await runEnv() },
    );
    expectError(result, out, /Bandit exited 2/);
  });

  it("Trivy with no vulnerability database is an error", async () => {
    const out = outDir("no-db");
    const env = await labEnv();
    const result = await labRun(
      [
        "--source", app, "--out", out, "--db-repository", `127.0.0.1:5000/portcullis-e2e/no-such-db-${nonce()}`,
        "--db-username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--db-password-env", "PORTCULLIS_LAB_REGISTRY_PASSWORD",
      ],
      { env: await runEnv() },
    );
    expectError(result, out, /Trivy exited [1-9]/);
  });

  it("a database older than the policy's maxDbAgeDays is an error", async () => {
    const out = outDir("stale-db");
    // Judged 30 days from now, the lab's freshly built DB is older than the default policy's 7 days.
    const result = await labRun(["--source", app, "--out", out, "--now", `${isoDay(30)}T12:00:00Z`, ...(await dbArgs())], {
      env: await runEnv(),
    });
    expectError(result, out, /Trivy vulnerability DB is stale/);
  });

  it.each(["bandit", "trivy"] as const)("a %s that prints non-JSON is an error", async (tool) => {
    const out = outDir(`non-json-${tool}`);
    const env = await labEnv();
    const result = await portcullis(
      ["lab", "exec", "--", process.execPath, "--import", "tsx", path.join(ROOT, "test/e2e/drivers/fake-scanner.ts"), tool, out],
      { env: { PORTCULLIS_LAB_REGISTRY_USER: env.PORTCULLIS_LAB_REGISTRY_USER!, PORTCULLIS_LAB_REGISTRY_PASSWORD: env.PORTCULLIS_LAB_REGISTRY_PASSWORD! } },
    );
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as { outcome: string; errors: string[] };
    expect(printed.outcome).toBe("error");
    const reports = readReports(out);
    expect(reports.verdict.outcome).toBe("error");
    expect(reports.verdict.errors.join("\n")).toMatch(new RegExp(`${tool === "bandit" ? "Bandit" : "Trivy"}'s output is not a ${tool === "bandit" ? "Bandit" : "Trivy"} JSON report`));
  });

  it("a failing unit test stops the build: error, no scan, pytest's output in build.log", async () => {
    const out = outDir("failing-test");
    const repository = "portcullis-e2e/failing-test";
    const tag = nonce();
    const result = await labRun(
      ["--source", path.join(APPS, "failing-test"), "--out", out, ...(await dbArgs()), ...(await publishArgs(`127.0.0.1:5000/${repository}:${tag}`))],
      { env: await runEnv() },
    );
    const reports = expectError(result, out, /the image build failed/);
    expect(result.stderr).toMatch(/^- scan\s+skipped/m);
    // pytest's own report of the failing test, not just "the build failed".
    expect(reports.buildLog).toMatch(/test_healthz_counts_the_advisory_added_for_jinja2/);
    expect(reports.verdict.findings.filter((f) => f.stage === "image")).toEqual([]);
    expect(await registryTags(repository)).not.toContain(tag);
  });

  it("the registry down: a passing image that cannot be pushed is an error, and the reports say so", async () => {
    const out = outDir("registry-down");
    const result = await labRun(
      ["--source", app, "--policy", policyFrom("app-waiver.yaml", 30), "--out", out, ...(await dbArgs()), ...(await publishArgs(`127.0.0.1:5999/portcullis-e2e/app:${nonce()}`))],
      { env: await runEnv() },
    );
    expectError(result, out, /publishing to 127\.0\.0\.1:5999\/portcullis-e2e\/app:\w+ failed/);
  });

  it("a wrong registry password: error, nothing published", async () => {
    const out = outDir("wrong-password");
    const repository = "portcullis-e2e/app";
    const tag = nonce();
    const env = await labEnv();
    const result = await labRun(
      [
        "--source", app, "--policy", policyFrom("app-waiver.yaml", 30), "--out", out, ...(await dbArgs()),
        "--publish", `127.0.0.1:5000/${repository}:${tag}`, "--username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--password-env", "E2E_WRONG_PASSWORD",
      ],
      { env: await runEnv({ E2E_WRONG_PASSWORD: `wrong-${nonce()}` }) },
    );
    expectError(result, out, new RegExp(`publishing to 127\\.0\\.0\\.1:5000/${repository}:${tag} failed`));
    expect(await registryTags(repository)).not.toContain(tag);
  });
});
