import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// Caching like the engine's: keyed by inputs (host directories by content), shared across sessions and restarts.
let engine: TestEngine;
let src: string;
const labDir = mkdtempSync(join(tmpdir(), "portcullis-engine-cache-"));
const volume = `cache-test-${Date.now()}`;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine(labDir);
  src = mkdtempSync(join(tmpdir(), "engine-cache-src-"));
  mkdirSync(join(src, "app"));
  writeFileSync(join(src, "app", "main.py"), "print('v1')\n");
  writeFileSync(join(src, "Dockerfile"), `FROM ${BASE}\nCOPY app /app\nRUN cat /app/main.py > /built\n`);
});

afterAll(async () => {
  await engine.stop();
  removeLab(labDir);
  rmSync(src, { recursive: true, force: true });
});

/** A small pipeline touching every cached kind of step: build, copy-in, exec, cache mount, file out, tarball. */
async function pipeline(c: Client): Promise<string[]> {
  const source = c.host().directory(src);
  const built = source.dockerBuild();
  const tested = c.container().from(BASE)
    .withDirectory("/src", source)
    .withMountedCache("/cache", c.cacheVolume(volume))
    .withExec(["sh", "-c", "cat /src/app/main.py; ls /src"]);
  return Promise.all([built.file("/built").contents(), tested.stdout(), tested.withExec(["true"]).asTarball().size().then(String)]);
}

describe("caching", () => {
  it("an unchanged second run executes no container (same engine, new session)", async () => {
    const first = await withClient(pipeline);
    const before = { ...engine.counters };
    expect(before.containersRun).toBeGreaterThan(0);
    const second = await withClient(pipeline);
    expect(second).toEqual(first);
    expect(engine.counters.containersRun - before.containersRun).toBe(0);
    expect(engine.counters.stepsExecuted - before.stepsExecuted).toBe(0);
  });

  it("survives an engine restart: the step records and tagged images are reused (logged as hits)", async () => {
    const expected = await withClient(pipeline);
    await engine.stop();
    engine = await startEngine(labDir);
    expect(await withClient(pipeline)).toEqual(expected);
    expect(engine.counters.containersRun).toBe(0);
    expect(engine.counters.cacheHits).toBeGreaterThan(0);
    const lines = engine.log().trim().split("\n");
    expect(lines.filter((l) => / hit +\d+\.\d+s withExec /.test(l)).length).toBeGreaterThan(0);
    expect(lines.every((l) => /^\S+ (hit |miss) \d+\.\d\ds \S/.test(l))).toBe(true);
  });

  it("a changed host file misses: host directories are keyed by content", async () => {
    writeFileSync(join(src, "app", "main.py"), "print('v2')\n");
    const before = engine.counters.containersRun;
    const [built, tested] = await withClient(pipeline);
    expect(built).toBe("print('v2')\n");
    expect(tested.startsWith("print('v2')\n")).toBe(true);
    expect(engine.counters.containersRun).toBeGreaterThan(before);
  });

  it("identical work requested concurrently runs once", async () => {
    const before = engine.counters.containersRun;
    const marker = `concurrent-${Date.now()}`;
    const run = () => withClient((c) => c.container().from(BASE).withExec(["sh", "-c", `sleep 1; echo ${marker}`]).stdout());
    expect(await Promise.all([run(), run(), run()])).toEqual([`${marker}\n`, `${marker}\n`, `${marker}\n`]);
    expect(engine.counters.containersRun - before).toBe(1);
  });

  it("independent branches requested concurrently run in parallel (their executions overlap)", async () => {
    const span = (name: string) => (c: Client) => c.container().from(BASE)
      .withExec(["sh", "-c", `date +%s.%N; sleep 2; date +%s.%N; echo ${name}-${Date.now()}`]).stdout();
    const [a, b] = await withClient((c) => Promise.all([span("a")(c), span("b")(c)]));
    const [aStart, aEnd] = a.split("\n").map(Number);
    const [bStart, bEnd] = b.split("\n").map(Number);
    expect(aStart < bEnd && bStart < aEnd).toBe(true);
  });
});
