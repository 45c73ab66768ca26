// The sample service's test variants are app/ plus one patch each (test/fixtures/apps/patches/), made on
// demand by regen.sh rather than committed as copies; one materialisation per content of app/ and the patches.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");
const appsFixtures = join(repoRoot, "test/fixtures/apps");
const IGNORED = new Set(["__pycache__", ".pytest_cache", ".venv"]);

export const VARIANTS = ["literal-bind", "vulnerable-deps", "unpatched-base", "single-stage", "failing-test"] as const;
export type Variant = (typeof VARIANTS)[number];

function contentHash(dirs: string[]): string {
  const hash = createHash("sha256");
  const walk = (base: string, dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (IGNORED.has(entry.name) || entry.name.endsWith(".pyc")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(base, path);
      else hash.update(`${relative(base, path)}\0`).update(readFileSync(path)).update("\0");
    }
  };
  for (const dir of dirs) walk(repoRoot, dir);
  return hash.digest("hex").slice(0, 16);
}

let cached: string | undefined;

/** The directory holding every variant, generated once (atomically, so concurrent test workers can share it). */
export function variantsDir(): string {
  if (cached) return cached;
  const target = join(tmpdir(), `portcullis-app-variants-${contentHash([join(repoRoot, "app"), appsFixtures])}`);
  if (!existsSync(target)) {
    const staging = `${target}.${process.pid}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    execFileSync(join(appsFixtures, "regen.sh"), ["--out", staging], { stdio: "pipe" });
    try {
      renameSync(staging, target);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw err; // another worker won the race otherwise
    }
  }
  return (cached = target);
}

/** One variant's source directory: app/ with that variant's patch applied. */
export const variantDir = (variant: Variant): string => join(variantsDir(), variant);
