import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ReturnType } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// Directory, File, Host and the container's file operations and mounts, through the real SDK.
let engine: TestEngine;
let src: string;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
  src = mkdtempSync(join(tmpdir(), "engine-files-"));
  mkdirSync(join(src, "app", "pkg"), { recursive: true });
  mkdirSync(join(src, "node_modules", "dep"), { recursive: true });
  writeFileSync(join(src, "app", "main.py"), "print('hi')\n");
  writeFileSync(join(src, "app", "pkg", "util.py"), "X = 1\n");
  writeFileSync(join(src, "app", "notes.md"), "# notes\n");
  writeFileSync(join(src, "node_modules", "dep", "index.js"), "\n");
  writeFileSync(join(src, "Dockerfile"), [
    `FROM ${BASE} AS builder`,
    "ARG FLAVOUR=plain",
    "RUN echo \"built-$FLAVOUR\" > /artifact",
    `FROM ${BASE} AS final`,
    "COPY --from=builder /artifact /artifact",
    "COPY app/main.py /srv/main.py",
    "WORKDIR /srv",
    "ENV MODE=final",
    "",
  ].join("\n"));
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
  rmSync(src, { recursive: true, force: true });
});

describe("host and Directory", () => {
  it("host().directory with exclude/include (relative to the client's working directory), entries, file", async () => {
    const rel = relative(process.cwd(), src);
    const r = await withClient(async (c) => {
      const all = c.host().directory(rel, { exclude: ["node_modules/", "**/*.md"] });
      const onlyPy = c.host().directory(src, { include: ["app/**/*.py"] });
      return {
        top: await all.entries(), app: await all.entries({ path: "app" }), main: await all.file("app/main.py").contents(),
        onlyPy: await onlyPy.directory("app").entries(), size: await all.file("app/main.py").size(), name: await all.file("app/pkg/util.py").name(),
      };
    });
    expect(r.top).toEqual(["Dockerfile", "app/"]);
    expect(r.app).toEqual(["main.py", "pkg/"]);
    expect(r.main).toBe("print('hi')\n");
    expect(r.onlyPy).toEqual(["main.py", "pkg/"]);
    expect(r.size).toBe(12);
    expect(r.name).toBe("util.py");
  });

  it("withNewFile, withFile, withDirectory, export", async () => {
    const out = mkdtempSync(join(tmpdir(), "engine-export-"));
    try {
      const r = await withClient(async (c) => {
        const host = c.host().directory(src, { exclude: ["node_modules/"] });
        const dir = c.directory()
          .withNewFile("config/app.ini", "[app]\n", { permissions: 0o600 })
          .withFile("copied.py", host.file("app/main.py"))
          .withDirectory("tree", host.directory("app"), { exclude: ["*.md"] });
        const exported = await dir.export(out);
        const file = await host.file("app/pkg/util.py").export(join(out, "single", "util.py"));
        return { entries: await dir.entries(), tree: await dir.entries({ path: "tree" }), exported, file };
      });
      expect(r.entries).toEqual(["config/", "copied.py", "tree/"]);
      expect(r.tree).toEqual(["main.py", "pkg/"]);
      expect(r.exported).toBe(out);
      expect(readFileSync(join(out, "config", "app.ini"), "utf8")).toBe("[app]\n");
      expect(statSync(join(out, "config", "app.ini")).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(out, "tree", "pkg", "util.py"), "utf8")).toBe("X = 1\n");
      expect(readFileSync(r.file, "utf8")).toBe("X = 1\n");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("dockerBuild with dockerfile, target and buildArgs returns a Container with the image's config", async () => {
    const r = await withClient(async (c) => {
      const ctx = c.host().directory(src, { exclude: ["node_modules/"] });
      const final = ctx.dockerBuild({ buildArgs: [{ name: "FLAVOUR", value: "lab" }] });
      const builder = ctx.dockerBuild({ dockerfile: "Dockerfile", target: "builder" });
      return {
        artifact: await final.file("/artifact").contents(), workdir: await final.workdir(), mode: await final.envVariable("MODE"),
        run: await final.withExec(["cat", "main.py"]).stdout(), builderHasMain: await builder.withExec(["ls", "/srv/main.py"], { expect: ReturnType.Any }).exitCode(),
      };
    });
    expect(r).toEqual({ artifact: "built-lab\n", workdir: "/srv", mode: "final", run: "print('hi')\n", builderHasMain: 2 });
  });
});

describe("container files and mounts", () => {
  it("withDirectory (exclude, owner, permissions), withFile, withNewFile, directory(), file()", async () => {
    const r = await withClient(async (c) => {
      const host = c.host().directory(src);
      const ctr = c.container().from(BASE)
        .withDirectory("/work", host, { exclude: ["node_modules/", "Dockerfile"], owner: "nobody" })
        .withFile("/opt/tool.py", host.file("app/main.py"), { permissions: 0o750 })
        .withNewFile("/etc/app.conf", "k=v\n", { owner: "65534:65534", permissions: 0o640 })
        .withWorkdir("/work");
      const stat = await ctr.withExec(["stat", "-c", "%n %U %a", "/work/app/main.py", "/opt/tool.py", "/etc/app.conf", "/tmp"]).stdout();
      return { stat, entries: await ctr.directory("app").entries(), conf: await ctr.file("/etc/app.conf").contents() };
    });
    expect(r.stat.split("\n")).toEqual(["/work/app/main.py nobody 644", "/opt/tool.py root 750", "/etc/app.conf nobody 640", "/tmp root 1777", ""]);
    expect(r.entries).toEqual(["main.py", "notes.md", "pkg/"]);
    expect(r.conf).toBe("k=v\n");
  });

  it("withMountedDirectory: visible to the exec, writes do not reach the source, never committed", async () => {
    const r = await withClient(async (c) => {
      const ctr = c.container().from(BASE)
        .withMountedDirectory("/mnt/src", c.host().directory(src, { include: ["app/"] }))
        .withExec(["sh", "-c", "ls /mnt/src/app; touch /mnt/src/app/new"]);
      const after = ctr.withoutMount("/mnt/src").withExec(["sh", "-c", "ls -A /mnt/src | wc -l"]);
      return { listing: await ctr.stdout(), afterUnmount: await after.stdout(), source: await c.host().directory(src).directory("app").entries() };
    });
    expect(r.listing).toBe("main.py\nnotes.md\npkg\n");
    expect(r.afterUnmount).toBe("0\n");
    expect(r.source).not.toContain("new");
  });

  it("withMountedCache + cacheVolume persists across runs and sessions, and is never committed into the image", async () => {
    const volume = `engine-test-${Date.now()}`;
    const first = await withClient((c) => c.container().from(BASE).withMountedCache("/cache", c.cacheVolume(volume))
      .withExec(["sh", "-c", "echo one >> /cache/log; cat /cache/log"]).stdout());
    const r = await withClient(async (c) => {
      const ctr = c.container().from(BASE).withMountedCache("/cache", c.cacheVolume(volume)).withExec(["sh", "-c", "echo two >> /cache/log; cat /cache/log"]);
      const image = ctr.withoutMount("/cache").withExec(["sh", "-c", "ls -A /cache | wc -l"]);
      return { second: await ctr.stdout(), inImage: await image.stdout() };
    });
    expect(first).toBe("one\n");
    expect(r.second).toBe("one\ntwo\n");
    expect(r.inImage).toBe("0\n");
  });

  it("withMountedFile and withMountedTemp", async () => {
    const out = await withClient((c) => c.container().from(BASE)
      .withMountedFile("/in/main.py", c.host().file(join(src, "app", "main.py")))
      .withMountedTemp("/scratch")
      .withExec(["sh", "-c", "cat /in/main.py; df --output=fstype /scratch | tail -1"]).stdout());
    expect(out).toBe("print('hi')\ntmpfs\n");
  });
});
