// Builds the CLI (or another entry) from the TypeScript sources into one cached ES module bundle.
//
// Why not run the sources through tsx at every start: tsx registers a loader thread and transforms
// every module on each run, which costs about 40 MB and half a second before `portcullis gate` reads
// a byte. esbuild (the compiler tsx itself uses) bundles the same sources in about 100 ms; the
// bundle is kept under node_modules/.cache/portcullis, keyed by every source file's path, size and
// mtime, so an edited source is rebuilt on the next run and an unchanged tree is never rebuilt.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, version as esbuildVersion } from "esbuild";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE_DIRS = ["ci", "dagger/src", "lab", "bench"];
const CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "portcullis");
/** Older bundles of the same entry kept beside the newest (a run still using one must not lose it). */
const KEEP_OLD = 3;

function sourceFiles(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (/\.(m|c)?[tj]s$/.test(entry.name) || entry.name === "package.json") out.push(path);
  }
  return out;
}

/** A key that changes whenever a source file (or the compiler, or the tsconfig) changes. */
function sourceKey(entry) {
  const hash = createHash("sha256").update(`esbuild ${esbuildVersion}\0${entry}\0`);
  const files = SOURCE_DIRS.flatMap((dir) => sourceFiles(join(REPO_ROOT, dir), [])).sort();
  files.push(join(REPO_ROOT, "tsconfig.json"), join(REPO_ROOT, "package-lock.json"));
  for (const file of files) {
    let info;
    try {
      info = statSync(file);
    } catch {
      continue;
    }
    hash.update(`${relative(REPO_ROOT, file)}\0${info.size}\0${info.mtimeMs}\0`);
  }
  return hash.digest("hex").slice(0, 16);
}

// A bundle has one import.meta.url; each source file gets back its own, so paths computed from it
// (lab/paths.ts, the engine's schema file, …) mean what they mean when the file runs unbundled.
const ownImportMetaUrl = {
  name: "own-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.(m|c)?ts$/ }, (args) => {
      if (args.path.includes(`${"/"}node_modules${"/"}`)) return undefined;
      const text = readFileSync(args.path, "utf8");
      return {
        contents: text.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href)),
        loader: "ts",
        resolveDir: dirname(args.path),
      };
    });
  },
};

/**
 * The path of the bundled entry module (repo-relative `entry`, e.g. "ci/main.ts"), building it first
 * when the sources changed. Dynamic imports become their own chunks, so they stay lazy.
 */
export async function bundledEntry(entry) {
  const name = entry.replace(/[^A-Za-z0-9]+/g, "-").replace(/-ts$/, "");
  const key = sourceKey(entry);
  const dir = join(CACHE_DIR, `${name}-${key}`);
  const main = join(dir, "entry.mjs");
  if (existsSync(main)) return main;

  mkdirSync(CACHE_DIR, { recursive: true });
  const result = await build({
    entryPoints: { entry: join(REPO_ROOT, entry) },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    tsconfig: join(REPO_ROOT, "tsconfig.json"),
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    sourcemap: true,
    write: false,
    logLevel: "silent",
    plugins: [ownImportMetaUrl],
  });
  // Written to a private directory and renamed into place: a concurrent run sees all of it or none.
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  for (const file of result.outputFiles) {
    const target = join(staging, relative(dir, file.path));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run put the same bundle in place first
  }
  pruneOld(name, dir);
  return main;
}

function pruneOld(name, keep) {
  const old = readdirSync(CACHE_DIR)
    .filter((n) => n.startsWith(`${name}-`) && join(CACHE_DIR, n) !== keep)
    .map((n) => ({ path: join(CACHE_DIR, n), mtime: statSync(join(CACHE_DIR, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of old.slice(KEEP_OLD)) rmSync(path, { recursive: true, force: true });
}
