import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callFunction, listFunctions } from "../../lab/engine/module-runner.js";
import { engineState, ensureEngine, stopEngine } from "../../lab/engine/service.js";
import { BASE, removeLab, requireImage, startEngine, type TestEngine } from "./helpers.js";

// Module mode: the SDK's own runtime (entrypoint + introspector) registers and invokes the toy module.
const TOY = "test/fixtures/toy-module";
let engine: TestEngine;
let info: { port: number; token: string; pid: number; log: string };
let src: string;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
  info = { port: engine.port, token: engine.server.token, pid: process.pid, log: "" };
  src = mkdtempSync(join(tmpdir(), "engine-module-src-"));
  mkdirSync(join(src, "pkg"));
  for (const f of ["a.py", "b.py", "pkg/c.py", "pkg/readme.md"]) writeFileSync(join(src, f), "x\n");
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
  rmSync(src, { recursive: true, force: true });
});

describe("module mode", () => {
  it("lab functions prints both functions with their docs and argument types, from the SDK's introspector", async () => {
    const out = await listFunctions(info, engine.labDir, TOY);
    expect(out).toBe([
      "Toy",
      "  count-files: String  Counts the files in a directory (recursively) with `find` in a Debian container.",
      "      --src Directory (required)  The directory whose files are counted.",
      '      --pattern String (optional, default "*")  Only names matching this shell pattern count (default: every file).',
      "  greet: String  Greets someone.",
      "      --name String (required)  Who to greet.",
      "",
    ].join("\n"));
  });

  it("lab call runs a function that takes a Directory (from a host path) and returns a String", async () => {
    const before = engine.counters.containersRun;
    expect(await callFunction(info, engine.labDir, TOY, ["count-files", "--src", src])).toBe("4 files");
    expect(await callFunction(info, engine.labDir, TOY, ["count-files", "--src", src, "--pattern", "*.py"])).toBe("3 files");
    expect(engine.counters.containersRun - before).toBe(2);
    expect(await callFunction(info, engine.labDir, TOY, ["greet", "--name=lab"])).toBe("Hello, lab!");
  });

  it("names what is wrong: an unknown function, an unknown or missing argument", async () => {
    await expect(callFunction(info, engine.labDir, TOY, ["nope"])).rejects.toThrow("Toy has no function nope (functions: count-files, greet)");
    await expect(callFunction(info, engine.labDir, TOY, ["greet", "--who", "x"])).rejects.toThrow("greet has no argument --who (arguments: --name)");
    await expect(callFunction(info, engine.labDir, TOY, ["count-files"])).rejects.toThrow("count-files: --src is required (Directory)");
  });
});

describe("portcullis lab exec", () => {
  it("starts the engine as a service and runs the command in its session, passing the exit code through", async () => {
    const labDir = mkdtempSync(join(tmpdir(), "portcullis-lab-exec-"));
    try {
      const script = [
        'import { connect } from "@dagger.io/dagger";',
        `await connect(async (c) => { console.log(await c.container().from(${JSON.stringify(BASE)}).withExec(["echo", "in-session"]).stdout()); });`,
        "process.exit(3);",
      ].join("\n");
      const r = spawnSync(process.execPath, ["ci/bin/portcullis.mjs", "lab", "exec", "--dir", labDir, "--", process.execPath, "--input-type=module", "-e", script], { encoding: "utf8" });
      expect(r.stderr).not.toContain("Error");
      expect(r.stdout).toContain("in-session");
      expect(r.status).toBe(3);
      const status = await engineState(labDir);
      expect(status?.running).toBe(true);
      expect(status?.counters?.containersRun).toBe(1);
      expect(status?.counters?.requestsServed).toBeGreaterThan(0);
    } finally {
      await stopEngine(labDir);
      removeLab(labDir);
    }
  });

  it("concurrent starters (lab up, lab exec, tests) get one engine, not several", async () => {
    const labDir = mkdtempSync(join(tmpdir(), "portcullis-lab-race-"));
    try {
      const infos = await Promise.all([ensureEngine(labDir), ensureEngine(labDir), ensureEngine(labDir)]);
      expect(new Set(infos.map((i) => i.pid)).size).toBe(1);
    } finally {
      await stopEngine(labDir);
      removeLab(labDir);
    }
  });
});
