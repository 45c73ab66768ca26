import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// An empty Directory is a value like any other: copying it creates the (empty) target directory, as in Dagger.
let engine: TestEngine;
let out: string;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
  out = mkdtempSync(join(tmpdir(), "engine-empty-"));
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
  rmSync(out, { recursive: true, force: true });
});

describe("empty directories", () => {
  it("dag.directory().entries() is [] and it exports as an empty directory", async () => {
    const target = join(out, "exported", "empty");
    const r = await withClient(async (c) => ({ entries: await c.directory().entries(), exported: await c.directory().export(target) }));
    expect(r.entries).toEqual([]);
    expect(r.exported).toBe(target);
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual([]);
  });

  it("container.withDirectory(path, empty) creates the directory (0755, parents too) and leaves an existing one as it was", async () => {
    const r = await withClient(async (c) => {
      const empty = c.directory();
      const ctr = c.container().from(BASE).withDirectory("/opt/empty/nested", empty).withDirectory("/tmp", empty);
      return {
        stat: await ctr.withExec(["sh", "-c", "stat -c '%F %a %u' /opt/empty/nested; ls -A /opt/empty/nested | wc -l; stat -c %a /tmp"]).stdout(),
        entries: await ctr.directory("/opt/empty/nested").entries(),
        // A source whose every entry is excluded copies nothing but still makes the directory.
        excluded: await c.container().from(BASE).withDirectory("/x", c.directory().withNewFile("a.txt", "a"), { exclude: ["*.txt"] }).directory("/x").entries(),
      };
    });
    expect(r.stat).toBe("directory 755 0\n0\n1777\n");
    expect(r.entries).toEqual([]);
    expect(r.excluded).toEqual([]);
  });

  it("container.withDirectory(path, empty) onto an existing file is an error naming the path", async () => {
    const err = await withClient((c) => c.container().from(BASE).withDirectory("/etc/passwd", c.directory()).sync()).catch((e: unknown) => e as Error);
    expect(String(err)).toContain("/etc/passwd exists in the container and is not a directory");
  });

  it("directory().withDirectory(p, empty) adds an empty directory at p", async () => {
    const target = join(out, "nested");
    const r = await withClient(async (c) => {
      const d = c.directory().withNewFile("keep.txt", "k").withDirectory("sub/empty", c.directory());
      return { top: await d.entries(), sub: await d.entries({ path: "sub" }), empty: await d.directory("sub/empty").entries(), exported: await d.export(target) };
    });
    expect(r.top).toEqual(["keep.txt", "sub/"]);
    expect(r.sub).toEqual(["empty/"]);
    expect(r.empty).toEqual([]);
    expect(existsSync(join(target, "sub", "empty")) && readdirSync(join(target, "sub", "empty"))).toEqual([]);
  });
});
