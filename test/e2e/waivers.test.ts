// Story 3: a waiver for the CRITICAL with a future expiry lets the image pass, and the SARIF marks the
// finding suppressed with the waiver's reason; the same waiver expired no longer waives: fail, and the
// report lists the expired waiver.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, dbArgs, labRun, outDir, policyFrom, readReports, runEnv } from "./helpers.js";

const ZLIB = "CVE-2023-45853";

async function runApp(expiresInDays: number) {
  const out = outDir(`waiver-${expiresInDays}`);
  const result = await labRun(
    ["--source", path.join(ROOT, "app"), "--policy", policyFrom("app-waiver.yaml", expiresInDays), "--out", out, ...(await dbArgs())],
    { env: await runEnv() },
  );
  return { result, reports: readReports(out) };
}

describe("story 3: waivers", () => {
  it("a live waiver for zlib's CRITICAL: pass, and the SARIF result is suppressed with the reason", async () => {
    const { result, reports } = await runApp(30);
    expect(result.code, result.stderr).toBe(0);
    expect(reports.verdict.outcome).toBe("pass");
    expect(reports.verdict.waived.length).toBeGreaterThan(0);
    const trivy = reports.sarif.runs.find((r) => r.tool.driver.name.toLowerCase() === "trivy");
    const zlib = trivy?.results.filter((r) => r.ruleId === ZLIB) ?? [];
    expect(zlib.length).toBeGreaterThan(0);
    for (const r of zlib) {
      expect(r.suppressions?.[0]).toMatchObject({ kind: "external" });
      expect(r.suppressions?.[0]?.justification).toContain("MiniZip (contrib/minizip) is not built");
    }
  });

  it("the same waiver expired: fail, zlib blocks again and the expired waiver is listed", async () => {
    const { result, reports } = await runApp(-1);
    expect(result.code, result.stderr).toBe(1);
    expect(reports.verdict.outcome).toBe("fail");
    expect(reports.verdict.blocking.map((f) => f.ruleId)).toContain(ZLIB);
    expect(reports.verdict.expiredWaivers.map((w) => w.id)).toEqual([ZLIB]);
    expect(reports.summary).toMatch(/expired/i);
    expect(reports.summary).toContain(ZLIB);
  });
});
