// Story 1: a service that binds "0.0.0.0" literally fails the gate on Bandit B104 and is not published;
// the same service reading its host from the environment (app/) passes SAST.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { APPS, ROOT, dbArgs, labRun, nonce, outDir, policyFrom, publishArgs, readReports, registryTags, runEnv } from "./helpers.js";

describe("story 1: a literal bind-all address blocks at SAST", () => {
  let policy: string;
  beforeAll(() => {
    policy = policyFrom("app-waiver.yaml", 30);
  });

  it("literal-bind: B104 fails the gate (exit 1), the SARIF points at the line, nothing is published", async () => {
    const out = outDir("literal-bind");
    const repository = `portcullis-e2e/literal-bind`;
    const tag = nonce();
    const env = await runEnv();
    const result = await labRun(
      [
        "--source", path.join(APPS, "literal-bind"), "--policy", policy, "--out", out, ...(await dbArgs()),
        ...(await publishArgs(`127.0.0.1:5000/${repository}:${tag}`)),
      ],
      { env },
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^- publish\s+skipped\s+not published: the gate's outcome is fail/m);
    expect(result.stdout).not.toMatch(/^Published:/m);

    const { verdict, sarif, junit } = readReports(out);
    expect(verdict.outcome).toBe("fail");
    const b104 = verdict.blocking.filter((f) => f.ruleId === "B104");
    expect(b104).toHaveLength(1);
    expect(b104[0]!.location).toMatchObject({ path: "advisory_api/config.py", line: 10 });

    const bandit = sarif.runs.find((r) => r.tool.driver.name.toLowerCase() === "bandit");
    const result104 = bandit?.results.find((r) => r.ruleId === "B104");
    expect(result104?.locations?.[0]?.physicalLocation).toMatchObject({
      artifactLocation: { uri: "advisory_api/config.py" },
      region: { startLine: 10 },
    });
    expect(junit).toContain("B104");
    expect(await registryTags(repository)).not.toContain(tag);
  });

  it("app/: the host comes from the environment with a loopback default, so SAST passes", async () => {
    const out = outDir("app-sast");
    const result = await labRun(["--source", path.join(ROOT, "app"), "--policy", policy, "--out", out, ...(await dbArgs())], {
      env: await runEnv(),
    });
    const { verdict } = readReports(out);
    expect(verdict.findings.filter((f) => f.stage === "sast" && f.ruleId === "B104")).toEqual([]);
    expect(verdict.blocking.filter((f) => f.stage === "sast")).toEqual([]);
    expect(result.stderr).toMatch(/^✓ sast\s/m);
    expect(result.code, result.stderr).toBe(0);
  });
});
