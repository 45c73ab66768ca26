// Story 6: a second run with no change is served from the engine's cache. The first run is on a new
// revision of the app (a copy with one extra module), so nothing of its own is cached yet; Docker's
// layer cache may still hold the base layers. Cold and warm wall times per stage are printed.
import { cpSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, ROOT, dbArgs, engineCounters, labRun, nonce, outDir, policyFrom, readReports, runEnv, stageTimes } from "./helpers.js";

describe("story 6: an unchanged second run is served from cache", () => {
  it("gives the same verdict, and prints cold and warm times per stage", async () => {
    const revision = nonce();
    const source = path.join(ARTIFACTS, `app-${revision}`);
    cpSync(path.join(ROOT, "app"), source, { recursive: true, filter: (p) => !/(__pycache__|\.pytest_cache|\.venv)/.test(p) });
    writeFileSync(path.join(source, "advisory_api", "revision.py"), `"""Build revision of this copy (e2e cache story)."""\nREVISION = "${revision}"\n`);
    const policy = policyFrom("app-waiver.yaml", 30);
    const now = new Date().toISOString();
    const args = async (out: string) => ["--source", source, "--policy", policy, "--out", out, "--now", now, ...(await dbArgs())];

    const coldOut = outDir("cold");
    const cold = await labRun(await args(coldOut), { env: await runEnv() });
    expect(cold.code, cold.stderr).toBe(0);
    const warmOut = outDir("warm");
    const before = await engineCounters();
    const warm = await labRun(await args(warmOut), { env: await runEnv() });
    const after = await engineCounters();
    expect(warm.code, warm.stderr).toBe(0);
    const c = stageTimes(cold.stderr);
    const w = stageTimes(warm.stderr);
    const rows = ["sast", "build", "scan", "gate", "overlap"].map(
      (s) => `  ${s.padEnd(8)} cold ${String(c[s] ?? "-").padStart(7)} s   warm ${String(w[s] ?? "-").padStart(7)} s`,
    );
    console.log(
      [`story 6: wall time per stage (cold = new app revision, warm = unchanged rerun)`, ...rows,
        `  engine   warm run: ${after.containersRun - before.containersRun} containers run`,
        `  total    cold ${(cold.ms / 1000).toFixed(1).padStart(7)} s   warm ${(warm.ms / 1000).toFixed(1).padStart(7)} s (CLI process incl. session)`].join("\n"),
    );
    // Served from cache: the engine started no container for the unchanged run (its own counter says so).
    expect(after.containersRun - before.containersRun).toBe(0);

    // Same input, same bytes: the gate is deterministic and the warm run judged the same scanner output.
    expect(readReports(warmOut).verdict).toEqual(readReports(coldOut).verdict);
    expect(readReports(warmOut).sarif).toEqual(readReports(coldOut).sarif);

    for (const stage of ["sast", "build", "scan", "gate"]) {
      expect(c[stage], `cold ${stage} timing printed`).toBeTypeOf("number");
      expect(w[stage], `warm ${stage} timing printed`).toBeTypeOf("number");
    }
  });
});
