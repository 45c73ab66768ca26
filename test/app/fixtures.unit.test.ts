import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { variantsDir } from "./variants.js";

// The sample service and its vulnerable variants: each variant is app/ + exactly one patch, generated on demand.
const root = resolve(import.meta.dirname, "../..");
const appDir = join(root, "app");
const IGNORED = new Set(["__pycache__", ".pytest_cache", ".venv"]);

function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (IGNORED.has(entry.name) || entry.name.endsWith(".pyc")) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}

const read = (...parts: string[]): string => readFileSync(join(...parts), "utf8");
const changedFiles = (a: string, b: string): string[] =>
  [...new Set([...listFiles(a), ...listFiles(b)])].filter((file) => {
    try {
      return read(a, file) !== read(b, file);
    } catch {
      return true; // present on one side only
    }
  }).sort();

describe("test/fixtures/apps variants", () => {
  let fixturesDir: string;
  beforeAll(() => {
    fixturesDir = variantsDir(); // regen.sh --out: fails here if a patch no longer applies to app/
  });

  it.each([
    ["literal-bind", ["advisory_api/config.py", "tests/test_config.py"]],
    ["vulnerable-deps", ["requirements.in", "requirements.txt"]],
    ["unpatched-base", ["Dockerfile"]],
    ["single-stage", ["Dockerfile"]],
    ["failing-test", ["tests/test_server.py"]],
  ] as const)("%s changes only %j", (variant, files) => {
    expect(changedFiles(appDir, join(fixturesDir, variant))).toEqual([...files]);
  });

  it("literal-bind binds every interface with a literal, app/ never does", () => {
    const literal = /["']0\.0\.0\.0["']/;
    expect(read(fixturesDir, "literal-bind/advisory_api/config.py").split("\n")[9]).toBe('DEFAULT_HOST = "0.0.0.0"');
    const offenders = listFiles(appDir).filter((f) => f.endsWith(".py") && literal.test(read(appDir, f)));
    expect(offenders).toEqual([]);
    expect(read(appDir, "advisory_api/config.py")).toContain('DEFAULT_HOST = "127.0.0.1"');
  });

  it("vulnerable-deps pins the vulnerable releases with hashes", () => {
    const lock = read(fixturesDir, "vulnerable-deps/requirements.txt");
    for (const pin of ["pyyaml==5.3.1", "requests==2.19.1", "urllib3==1.23"]) {
      expect(lock).toMatch(new RegExp(`^${pin.replace(/\./g, "\\.")} \\\\\\n {4}--hash=sha256:[0-9a-f]{64}`, "m"));
    }
    expect(read(appDir, "requirements.txt")).not.toMatch(/pyyaml|requests/i);
  });

  it("the patching layer is in app/ and missing from unpatched-base", () => {
    const upgrade = /^RUN apt-get update && apt-get upgrade -y && apt-get clean && rm -rf \/var\/lib\/apt\/lists\/\*$/m;
    expect(read(appDir, "Dockerfile")).toMatch(upgrade);
    expect(read(fixturesDir, "unpatched-base/Dockerfile")).not.toContain("apt-get upgrade");
  });

  it("app/ is multi-stage and single-stage is not", () => {
    const froms = (text: string) => text.split("\n").filter((line) => /^FROM\s/i.test(line));
    expect(froms(read(appDir, "Dockerfile"))).toEqual(["FROM python:3.11-slim AS builder", "FROM python:3.11-slim AS runtime"]);
    expect(froms(read(fixturesDir, "single-stage/Dockerfile"))).toEqual(["FROM python:3.11-slim"]);
  });
});
