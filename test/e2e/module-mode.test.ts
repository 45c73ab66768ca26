// Story 7: module mode. `portcullis lab functions` runs the SDK's own introspector over dagger/src and
// lists the module's functions with their docs, as `dagger functions` would; `portcullis lab call
// pipeline …` invokes it the way `dagger call` does and reaches the same verdict as `portcullis run`.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { APPS, DB_REPOSITORY, ROOT, dbArgs, labEnv, labRun, nonce, outDir, policyFrom, portcullis, readReports, registryTags, runEnv, type Verdict } from "./helpers.js";

describe("story 7: module mode (dagger functions / dagger call through the lab engine)", () => {
  it("lists lintSast, buildMultiStage, scanImage, gate, publish and pipeline with their docs", async () => {
    const result = await portcullis(["lab", "functions"]);
    expect(result.code, result.stderr).toBe(0);
    const listing = result.stdout;
    const expected: Array<[RegExp, string]> = [
      [/lint-?sast/i, "Runs Bandit (pinned) over a Python source tree"],
      [/build-?multi-?stage/i, "Builds the source's Dockerfile"],
      [/scan-?image/i, "Scans a container image with Trivy"],
      [/\bgate\b/, "Judges scanner reports against a policy"],
      [/\bpublish\b/, "Publishes an image and returns its digest-pinned reference"],
      [/\bpipeline\b/, "The whole gate as one run"],
    ];
    for (const [name, doc] of expected) {
      expect(listing).toMatch(name);
      expect(listing).toContain(doc);
    }
  });

  it("`lab call pipeline … verdict` gives the same verdict as `portcullis run`", async () => {
    const env = await labEnv();
    const policy = policyFrom("app-waiver.yaml", 30);
    const now = new Date().toISOString();

    const out = outDir("client-mode");
    const client = await labRun(["--source", path.join(ROOT, "app"), "--policy", policy, "--out", out, "--now", now, ...(await dbArgs())], {
      env: await runEnv(),
    });
    expect(client.code, client.stderr).toBe(0);
    const clientVerdict = readReports(out).verdict;

    const call = await portcullis(
      [
        "lab", "call", "pipeline", "--source", "app", "--policy", policy, "--now", now,
        "--db-repository", DB_REPOSITORY, "--db-username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--db-password", "env:PORTCULLIS_LAB_REGISTRY_PASSWORD",
        "verdict",
      ],
      { env: await runEnv() },
    );
    expect(call.code, call.stderr).toBe(0);
    const moduleVerdict = JSON.parse(call.stdout) as Verdict;
    // Both modes hand the module the same File (named by its base name): the verdicts are identical.
    expect(moduleVerdict).toEqual(clientVerdict);
    expect(moduleVerdict.outcome).toBe("pass");
  });

  it("`lab call pipeline --source <B104 variant> publish …` refuses to publish a failing image", async () => {
    const env = await labEnv();
    const repository = "portcullis-e2e/module-mode";
    const tag = nonce();
    const call = await portcullis(
      [
        "lab", "call", "pipeline", "--source", path.join(APPS, "literal-bind"),
        "--db-repository", DB_REPOSITORY, "--db-username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--db-password", "env:PORTCULLIS_LAB_REGISTRY_PASSWORD",
        "publish", "--address", `127.0.0.1:5000/${repository}:${tag}`,
        "--username", env.PORTCULLIS_LAB_REGISTRY_USER!, "--password", "env:PORTCULLIS_LAB_REGISTRY_PASSWORD",
      ],
      { env: await runEnv() },
    );
    expect(call.code).not.toBe(0);
    expect(call.stderr).toMatch(/portcullis gate: fail: FAIL: \d+ blocking finding\(s\): .*B104 \(MEDIUM\) at advisory_api\/config\.py:10/);
    expect(await registryTags(repository)).not.toContain(tag);
  });
});
