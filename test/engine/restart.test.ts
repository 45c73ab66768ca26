import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineState, ensureEngine, stopEngine } from "../../lab/engine/service.js";
import { BASE, removeLab, requireImage, withClient } from "./helpers.js";

// The cache across an engine restart, with the engine as `lab up` runs it: its own process on a lab dir,
// stopped and started by the service calls that `lab down` and `lab up` make for the engine part.
const labDir = mkdtempSync(join(tmpdir(), "portcullis-engine-restart-"));
let src: string;

beforeAll(() => {
  requireImage(BASE);
  src = mkdtempSync(join(tmpdir(), "engine-restart-src-"));
  mkdirSync(join(src, "app"));
  writeFileSync(join(src, "app", "main.py"), "print('restart')\n");
  writeFileSync(join(src, "Dockerfile"), `FROM ${BASE}\nCOPY app /app\nRUN wc -c /app/main.py > /built\n`);
});

afterAll(async () => {
  await stopEngine(labDir);
  removeLab(labDir);
  rmSync(src, { recursive: true, force: true });
});

/** Every cached kind of step: host dir, dockerBuild, copy-in, exec (with a secret and a cache mount), files out, tarball. */
async function pipeline(c: Client): Promise<string[]> {
  const source = c.host().directory(src);
  const tested = c.container().from(BASE)
    .withDirectory("/src", source)
    .withNewFile("/etc/restart.conf", "mode=test\n")
    .withMountedCache("/cache", c.cacheVolume(`restart-${labDir}`))
    .withSecretVariable("TOKEN", c.setSecret("token", "restart-secret-value"))
    .withExec(["sh", "-c", "cat /src/app/main.py /etc/restart.conf; printf %s \"$TOKEN\" | wc -c"]);
  return Promise.all([
    source.dockerBuild().file("/built").contents(),
    tested.stdout(),
    tested.directory("/src/app").entries().then((e) => e.join(",")),
    tested.asTarball().size().then(String),
    c.directory().withNewFile("r/summary.md", "x").withDirectory("empty", c.directory()).entries().then((e) => e.join(",")),
  ]);
}

async function inSession<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const info = await ensureEngine(labDir);
  process.env.DAGGER_SESSION_PORT = String(info.port);
  process.env.DAGGER_SESSION_TOKEN = info.token;
  return withClient(fn);
}

describe("engine restart (lab down / lab up of a lab dir)", () => {
  it("keeps the cache: the rerun after a restart executes no step and runs no container", async () => {
    const first = await inSession(pipeline);
    const cold = await engineState(labDir);
    expect(cold?.counters?.containersRun).toBeGreaterThan(0);
    const pid = cold!.pid;

    expect(await stopEngine(labDir)).toBe(true);
    expect((await engineState(labDir))?.running ?? false).toBe(false);

    const second = await inSession(pipeline);
    const warm = await engineState(labDir);
    expect(warm?.pid).not.toBe(pid);
    expect(second).toEqual(first);
    expect(warm?.counters).toMatchObject({ containersRun: 0, stepsExecuted: 0 });
    expect(warm?.counters?.cacheHits).toBeGreaterThan(0);
  });
});
