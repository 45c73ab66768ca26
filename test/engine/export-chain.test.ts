import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callFunction } from "../../lab/engine/module-runner.js";
import { BASE, removeLab, requireImage, startEngine, type TestEngine } from "./helpers.js";

// `lab call … export --path P`, as `dagger call pipeline --source app reports export --path out/` does in v0.21.
const MOD = "test/engine/fixtures/export-module";
let engine: TestEngine;
let info: { port: number; token: string; pid: number; log: string };
let out: string;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
  info = { port: engine.port, token: engine.server.token, pid: process.pid, log: "" };
  out = mkdtempSync(join(tmpdir(), "engine-export-"));
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
  rmSync(out, { recursive: true, force: true });
});

const call = (...words: string[]) => callFunction(info, engine.labDir, MOD, words);

describe("lab call … export --path", () => {
  it("exports a chained Directory result and prints the path written; --export PATH is an alias", async () => {
    const dir = join(out, "reports");
    expect(await call("pack", "--name", "lab", "reports", "export", "--path", dir)).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(["data", "summary.md"]);
    expect(readFileSync(join(dir, "data", "verdict.json"), "utf8")).toBe('{"name":"lab"}\n');

    const alias = join(out, "alias");
    expect(await call("pack", "--name", "alias", "reports", "--export", alias)).toBe(alias);
    expect(readFileSync(join(alias, "summary.md"), "utf8")).toBe("# alias\n");
  });

  it("exports a File (--path=P form) and a Container as an image tarball", async () => {
    const file = join(out, "summary.md");
    expect(await call("pack", "--name", "file", "summary", "export", `--path=${file}`)).toBe(file);
    expect(readFileSync(file, "utf8")).toBe("# file\n");

    const tar = join(out, "image.tar");
    expect(await call("pack", "--name", "img", "image", "export", "--path", tar)).toBe(tar);
    expect(execFileSync("tar", ["-tf", tar], { encoding: "utf8" }).split("\n")).toEqual(expect.arrayContaining(["manifest.json", "index.json", "oci-layout"]));
  });

  it("names what is wrong: export without --path, an argument export does not take, export on a non-core result", async () => {
    await expect(call("pack", "--name", "x", "reports", "export")).rejects.toThrow("export: --path is required (where to write the Directory)");
    await expect(call("pack", "--name", "x", "summary", "export", "--path", join(out, "y"), "--wipe")).rejects.toThrow("export on a File has no argument --wipe (arguments: --path, --allow-parent-dir-path)");
    expect(await call("pack", "--name", "field", "name")).toBe("field"); // fields are callable, as in dagger call
    await expect(call("pack", "--name", "x", "name", "export", "--path", join(out, "z"))).rejects.toThrow("cannot chain export after a String");
    expect(existsSync(join(out, "y")) || existsSync(join(out, "z"))).toBe(false);
  });

  it("portcullis lab call --help documents export --path and the alias", () => {
    const r = spawnSync(process.execPath, ["ci/bin/portcullis.mjs", "lab", "call", "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, " "); // yargs wraps lines and example columns
    expect(help).toContain("end with `export --path PATH`");
    expect(help).toContain("`--export PATH` is an alias");
    expect(help).toContain("export flags: --path PATH (required)");
    expect(help).toContain("lab call pipeline --source app reports");
    expect(help).toContain("export --path out/ (prints the path written)");
  });
});
