import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Engine } from "../engine.js";
import { publish } from "../fsutil.js";
import { keyOf } from "../state.js";
import type { RequestContext } from "./context.js";

/** Dagger's File: an immutable file held in the engine's store; `path()` materialises it. */
export class File {
  readonly __typename = "File";
  constructor(readonly e: Engine, readonly key: string, private readonly fileName: string, readonly path: () => Promise<string>) {}

  id(): string {
    return this.e.state.register(this, this.key);
  }

  async sync(): Promise<string> {
    await this.path();
    return this.id();
  }

  async contents(args: { offsetLines?: number | null; limitLines?: number | null }): Promise<string> {
    const text = readFileSync(await this.path(), "utf8");
    if (args.offsetLines == null && args.limitLines == null) return text;
    const lines = text.split("\n").slice(args.offsetLines ?? 0);
    return (args.limitLines == null ? lines : lines.slice(0, args.limitLines)).join("\n");
  }

  async size(): Promise<number> {
    return statSync(await this.path()).size;
  }

  name(): string {
    return this.fileName;
  }

  async digest(): Promise<string> {
    return `sha256:${createHash("sha256").update(readFileSync(await this.path())).digest("hex")}`;
  }

  withName(args: { name: string }): File {
    return new File(this.e, keyOf("File.withName", this.key, args.name), args.name, this.path);
  }

  async export(args: { path: string; allowParentDirPath: boolean }, ctx: RequestContext): Promise<string> {
    let target = resolve(await ctx.cwd(), args.path);
    if (args.allowParentDirPath && existsSync(target) && statSync(target).isDirectory()) target = join(target, this.fileName);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(await this.path(), target); // keeps the mode: tarballs are 0600 like Dagger's
    return target;
  }
}

/** A File whose bytes are a host file already in the store (or made on demand by `make`). */
export function storedFile(e: Engine, key: string, name: string, label: string, make: (dest: string) => Promise<void>): File {
  return new File(e, key, name, () =>
    e.state.once(`file:${key}`, async () => {
      const dest = join(e.snapshot(key), name);
      if (existsSync(dest)) return dest;
      const started = Date.now();
      const tmp = e.tmpDir();
      await make(join(tmp, name));
      publish(tmp, e.snapshot(key));
      e.state.log(label, Date.now() - started, false);
      return dest;
    }),
  );
}
