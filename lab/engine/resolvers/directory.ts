import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import type { Engine } from "../engine.js";
import { copyEntries, hashTree, listTree, pathFilter } from "../fsutil.js";
import { keyOf } from "../state.js";
import { Container, containerFromImage } from "./container.js";
import type { RequestContext } from "./context.js";
import { File } from "./file.js";

/** A path inside a snapshot: relative, normalised, never escaping it. */
function inside(path: string): string {
  const rel = posix.normalize(`/${path}`).slice(1);
  return rel === "" ? "." : rel;
}

/** Dagger's Directory: an immutable snapshot on the host; every operation makes a new one keyed by its inputs. */
export class Directory {
  readonly __typename = "Directory";
  constructor(readonly e: Engine, readonly key: string, readonly path: () => Promise<string>) {}

  /** A directory produced by `build(tmp)` (after `upstream`), stored once under its key. */
  static snapshot(e: Engine, key: string, label: string, build: (tmp: string) => Promise<void> | void, upstream?: () => Promise<unknown>): Directory {
    return new Directory(e, key, () => e.materialize(label, key, build, upstream));
  }

  static empty(e: Engine): Directory {
    return Directory.snapshot(e, keyOf("Directory.empty"), "directory (empty)", () => undefined);
  }

  id(): string {
    return this.e.state.register(this, this.key);
  }

  async sync(): Promise<string> {
    await this.path();
    return this.id();
  }

  async entries(args: { path?: string | null }): Promise<string[]> {
    const dir = join(await this.path(), inside(args.path ?? "."));
    return readdirSync(dir).sort().map((n) => (lstatSync(join(dir, n)).isDirectory() ? `${n}/` : n));
  }

  file(args: { path: string }): File {
    const rel = inside(args.path);
    return new File(this.e, keyOf("Directory.file", this.key, rel), basename(rel), async () => {
      const p = join(await this.path(), rel);
      if (!existsSync(p) || !statSync(p).isFile()) throw new Error(`Directory.file: ${args.path}: no such file`);
      return p;
    });
  }

  directory(args: { path: string }): Directory {
    const rel = inside(args.path);
    return new Directory(this.e, keyOf("Directory.directory", this.key, rel), async () => {
      const p = join(await this.path(), rel);
      if (!existsSync(p) || !statSync(p).isDirectory()) throw new Error(`Directory.directory: ${args.path}: no such directory`);
      return p;
    });
  }

  /** A new snapshot: a copy of this one changed by `change(copyRoot)`. */
  private derive(op: string, args: { path?: string; source?: string }, change: (root: string) => Promise<void> | void, sources: Directory[] | File[] = []): Directory {
    const upstream = () => Promise.all([this.path(), ...sources.map((s) => s.path())]);
    return Directory.snapshot(this.e, keyOf(`Directory.${op}`, this.key, args), `directory ${op} ${args.path ?? ""}`, async (tmp) => {
      cpSync(await this.path(), tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      await change(tmp);
    }, upstream);
  }

  withNewFile(args: { path: string; contents: string; permissions: number }): Directory {
    return this.derive("withNewFile", args, (root) => {
      const p = join(root, inside(args.path));
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, args.contents);
      chmodSync(p, args.permissions);
    });
  }

  withFile(args: { path: string; source: string; permissions?: number | null; owner?: string | null }): Directory {
    const source = this.e.state.load<File>(args.source, "File");
    return this.derive("withFile", { ...args, source: source.key }, async (root) => {
      const p = join(root, inside(args.path));
      mkdirSync(dirname(p), { recursive: true });
      cpSync(await source.path(), p, { preserveTimestamps: true });
      if (args.permissions != null) chmodSync(p, args.permissions);
      if (args.owner) chownTree(p, args.owner);
    }, [source]);
  }

  withDirectory(args: { path: string; source: string; exclude: string[]; include: string[]; owner?: string | null; permissions?: number | null }): Directory {
    const source = this.e.state.load<Directory>(args.source, "Directory");
    return this.derive("withDirectory", { ...args, source: source.key }, async (root) => {
      const from = await source.path();
      const target = join(root, inside(args.path));
      const entries = listTree(from, pathFilter(args.include, args.exclude));
      const staged = `${target}.staged-${Date.now()}`;
      copyEntries(from, entries, staged);
      mkdirSync(target, { recursive: true });
      cpSync(staged, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      rmSync(staged, { recursive: true, force: true });
      if (args.permissions != null) for (const rel of entries) chmodSync(join(target, rel), args.permissions);
      if (args.owner) chownTree(target, args.owner);
    }, [source]);
  }

  withNewDirectory(args: { path: string; permissions: number }): Directory {
    return this.derive("withNewDirectory", args, (root) => {
      const p = join(root, inside(args.path));
      mkdirSync(p, { recursive: true });
      chmodSync(p, args.permissions);
    });
  }

  withoutFile(args: { path: string }): Directory {
    return this.derive("withoutFile", args, (root) => rmSync(join(root, inside(args.path)), { force: true }));
  }

  withoutDirectory(args: { path: string }): Directory {
    return this.derive("withoutDirectory", args, (root) => rmSync(join(root, inside(args.path)), { recursive: true, force: true }));
  }

  filter(args: { exclude: string[]; include: string[] }): Directory {
    return Directory.snapshot(this.e, keyOf("Directory.filter", this.key, args), "directory filter", async (tmp) => {
      const from = await this.path();
      rmSync(tmp, { recursive: true, force: true });
      copyEntries(from, listTree(from, pathFilter(args.include, args.exclude)), tmp);
    }, () => this.path());
  }

  async digest(): Promise<string> {
    const root = await this.path();
    return `sha256:${hashTree(root, listTree(root))}`;
  }

  dockerBuild(args: { dockerfile: string; buildArgs: { name: string; value: string }[]; target: string }): Container {
    const key = keyOf("Directory.dockerBuild", this.key, args);
    return new Container(this.e, key, () =>
      this.e.state.once(key, async () => {
        const context = await this.path();
        const { image } = await this.e.imageStep(`dockerBuild ${args.dockerfile}${args.target ? ` --target ${args.target}` : ""}`, key, async () => ({
          image: await this.e.docker.build(context, { ...args, tag: `portcullis-lab/cache:${key.slice(0, 40)}` }),
        }));
        return containerFromImage(this.e, image);
      }),
    );
  }

  async export(args: { path: string; wipe: boolean }, ctx: RequestContext): Promise<string> {
    const target = resolve(await ctx.cwd(), args.path);
    if (args.wipe) rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    cpSync(await this.path(), target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    return target;
  }
}

/** Numeric `uid[:gid]` only: a bare Directory has no /etc/passwd to resolve names against. */
function chownTree(path: string, owner: string): void {
  const m = /^(\d+)(?::(\d+))?$/.exec(owner);
  if (!m) throw new Error(`owner ${JSON.stringify(owner)}: the lab engine resolves user names only inside a Container; use uid:gid here`);
  const uid = Number(m[1]);
  const gid = Number(m[2] ?? m[1]);
  const walk = (p: string) => {
    chownSync(p, uid, gid);
    if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(path);
}
