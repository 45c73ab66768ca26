import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Engine } from "../engine.js";
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

/** A File whose bytes are made once per key by `make(dest)` (after `upstream`, not timed) and kept in the store. */
export function storedFile(e: Engine, key: string, name: string, label: string, make: (dest: string) => Promise<void>, upstream?: () => Promise<unknown>): File {
  return new File(e, key, name, async () => join(await e.materialize(label, key, (tmp) => make(join(tmp, name)), upstream), name));
}
