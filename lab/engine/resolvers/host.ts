import { existsSync, lstatSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Engine } from "../engine.js";
import { copyEntries, hashTree, listTree, pathFilter } from "../fsutil.js";
import { keyOf } from "../state.js";
import type { RequestContext } from "./context.js";
import { Directory } from "./directory.js";
import { File } from "./file.js";

/** Dagger's Host: paths resolve against the client's working directory; content is keyed by its hash. */
export class Host {
  readonly __typename = "Host";
  constructor(private readonly e: Engine) {}

  id(): string {
    return this.e.state.register(this, "host");
  }

  async directory(args: { path: string; exclude: string[]; include: string[] }, ctx: RequestContext): Promise<Directory> {
    const root = resolve(await ctx.cwd(), args.path);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`Host.directory: ${root}: no such directory`);
    // Hashing now (not lazily) is what makes an unchanged tree hit the cache and a changed one miss.
    const entries = listTree(root, pathFilter(args.include, args.exclude));
    const key = keyOf("Host.directory", hashTree(root, entries));
    const dir = new Directory(this.e, key, async () => this.e.snapshot(key));
    copyEntries(root, entries, this.e.snapshot(key));
    return dir;
  }

  async file(args: { path: string }, ctx: RequestContext): Promise<File> {
    const path = resolve(await ctx.cwd(), args.path);
    if (!existsSync(path) || !lstatSync(path).isFile()) throw new Error(`Host.file: ${path}: no such file`);
    const name = basename(path);
    const key = keyOf("Host.file", name, hashTree(resolve(path, ".."), [name]));
    copyEntries(resolve(path, ".."), [name], this.e.snapshot(key));
    return new File(this.e, key, name, async () => resolve(this.e.snapshot(key), name));
  }
}
