import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// The engine log: one line per step with hit/miss, duration, the operation and its path; never contents.
let engine: TestEngine;
const MARKER = `file-contents-${randomBytes(12).toString("hex")}`;
const PLAINTEXT = `lab-secret-${randomBytes(12).toString("hex")}`;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
});

describe("engine log", () => {
  it("names operations and paths only: no withNewFile contents (not even masked), no exec arguments", async () => {
    const report = `# portcullis gate\n\n${MARKER}\n${"finding line\n".repeat(200)}`;
    await withClient(async (c) => {
      c.setSecret("careless", PLAINTEXT); // known to the engine, yet written as plain contents by a careless caller
      const ctr = c.container().from(BASE)
        .withNewFile("/reports/summary.md", `${report}${PLAINTEXT}\n`)
        .withExec(["sh", "-c", `grep -c ${MARKER} /reports/summary.md`]);
      expect(await ctr.stdout()).toBe("1\n");
      const dir = c.directory().withNewFile("verdict.json", JSON.stringify({ MARKER, PLAINTEXT })).withNewFile("nested/junit.xml", report);
      expect(await dir.entries()).toEqual(["nested/", "verdict.json"]);
      expect(await c.file("summary.md", report).size()).toBe(report.length);
    });
    const log = engine.log();
    for (const needle of [MARKER, PLAINTEXT, "***", "finding line", "grep"]) expect(log).not.toContain(needle);
    const lines = log.trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^\S+Z (hit |miss) \d+\.\d\ds \S.{0,160}$/);
    const steps = lines.map((l) => l.replace(/^\S+ (hit |miss) \d+\.\d\ds /, ""));
    expect(steps).toEqual(expect.arrayContaining(["withNewFile /reports/summary.md", "withExec sh", "directory withNewFile verdict.json", "directory withNewFile nested/junit.xml", "file summary.md"]));
  });

  it("cuts an over-long or multi-line label to one short line", () => {
    const before = engine.log().length;
    engine.server.engine.state.log(`directory withNewFile ${"x".repeat(500)}\n${MARKER}`, 1234, false);
    const line = engine.log().slice(before);
    expect(line.endsWith("\n") && line.split("\n").length).toBe(2);
    expect(line).toMatch(/ miss 1\.23s directory withNewFile x+\.\.\.\n$/);
    expect(line).not.toContain(MARKER);
  });
});
