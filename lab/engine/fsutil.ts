import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import picomatch from "picomatch";

/** A dockerignore-style filter: patterns are anchored at the root; a match on a directory covers its contents; `!` re-includes. */
export function pathFilter(include: string[], exclude: string[]): (rel: string) => boolean {
  const compile = (p: string) => picomatch(p.replace(/^\/+|\/+$/g, ""), { dot: true });
  const inc = include.map(compile);
  const exc = exclude.map((p) => ({ negate: p.startsWith("!"), match: compile(p.replace(/^!/, "")) }));
  const selfOrAncestor = (rel: string, m: (s: string) => boolean) => {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) if (m(parts.slice(0, i).join("/"))) return true;
    return false;
  };
  return (rel) => {
    if (inc.length && !inc.some((m) => selfOrAncestor(rel, m))) return false;
    let excluded = false;
    for (const e of exc) if (selfOrAncestor(rel, e.match)) excluded = !e.negate;
    return !excluded;
  };
}

/** Relative paths of the files, symlinks and empty directories under `root` that pass `keep`, sorted. */
export function listTree(root: string, keep: (rel: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const names = readdirSync(rel ? join(root, rel) : root).sort();
    let kept = 0;
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, child));
      if (st.isDirectory()) {
        const before = out.length;
        walk(child);
        if (out.length > before) kept++;
        else if (keep(child)) { out.push(child); kept++; }
      } else if (keep(child)) { out.push(child); kept++; }
    }
    return kept;
  };
  walk("");
  return out;
}

/** A content hash over paths, modes and bytes: equal trees hash equal wherever they live. */
export function hashTree(root: string, entries: string[]): string {
  const h = createHash("sha256");
  for (const rel of entries) {
    const p = join(root, rel);
    const st = lstatSync(p);
    h.update(`${rel}\0${st.mode}\0`);
    if (st.isSymbolicLink()) h.update(readlinkSync(p));
    else if (st.isFile()) h.update(readFileSync(p));
    h.update("\0");
  }
  return h.digest("hex");
}

/** Copies the listed entries of `from` into a fresh directory and moves it to `to` atomically. */
export function copyEntries(from: string, entries: string[], to: string): void {
  if (existsSync(to)) return;
  const tmp = `${to}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(tmp, { recursive: true });
  for (const rel of entries) {
    const src = join(from, rel);
    const dst = join(tmp, rel);
    mkdirSync(dirname(dst), { recursive: true });
    const st = lstatSync(src);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) mkdirSync(dst, { recursive: true });
    else cpSync(src, dst, { preserveTimestamps: true });
  }
  publish(tmp, to);
}

/** Moves a finished snapshot into place; a concurrent writer of the same key may have won. */
export function publish(tmp: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    renameSync(tmp, to);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes a tar (GNU tar) of `dir`'s entries placed under `prefix`, owned by uid:gid, optionally with one mode. */
export async function tarUnder(dir: string, entries: string[], prefix: string, outFile: string, opts: { uid?: number; gid?: number; mode?: number }): Promise<void> {
  const target = posix.normalize(prefix).replace(/^\/+/, "").replace(/[\\,&]/g, (c) => `\\${c}`);
  const args = ["-C", dir, "-cf", outFile, "--numeric-owner", "--no-recursion", `--transform=s,^\\.,${target},S`];
  if (opts.uid !== undefined) args.push(`--owner=${opts.uid}`, `--group=${opts.gid ?? opts.uid}`);
  if (opts.mode !== undefined) args.push(`--mode=${opts.mode.toString(8).padStart(4, "0")}`);
  args.push(...entries.map((e) => (e === "." ? "." : `./${e}`)));
  await new Promise<void>((resolve, reject) => {
    const child = spawn("tar", args);
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar failed: ${err.trim()}`))));
  });
}

/** The entries plus all their ancestor directories, parents first (for tarring with --no-recursion). */
export function withParents(entries: string[]): string[] {
  const all = new Set<string>();
  for (const e of entries) {
    const parts = e.split("/");
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join("/"));
  }
  return [...all].sort();
}

/** Every directory and file under root (parents before children), for tarring with --no-recursion. */
export function allEntries(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(rel ? join(root, rel) : root).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      out.push(child);
      if (lstatSync(join(root, child)).isDirectory()) walk(child);
    }
  };
  walk("");
  return out;
}
