import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildCli } from "../../ci/cli.js";

const BANDIT = "test/fixtures/bandit";
let stdout: string[];
let stderr: string[];

beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  vi.spyOn(console, "error").mockImplementation((...args) => void stderr.push(args.join(" ")));
  vi.spyOn(console, "log").mockImplementation((...args) => void stdout.push(args.join(" ")));
  process.exitCode = undefined;
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function run(args: string[]): Promise<number | undefined> {
  await buildCli(args).exitProcess(false).parseAsync();
  return process.exitCode === undefined ? undefined : Number(process.exitCode);
}

describe("buildCli(...).exitProcess(false)", () => {
  it("gate sets exit code 1 for a blocking finding and writes the JSON verdict", async () => {
    const out = mkdtempSync(join(tmpdir(), "portcullis-buildcli-"));
    const code = await run(["gate", "--bandit", `${BANDIT}/bandit-b104.json`, "--json", join(out, "v.json"), "--now", "2026-11-28"]);
    expect(code).toBe(1);
    expect(stdout.join("")).toMatch(/^# portcullis gate: ❌ FAIL/);
    expect(JSON.parse(readFileSync(join(out, "v.json"), "utf8")).blocking[0].ruleId).toBe("B104");
  });

  it("gate sets 0 for a clean report", async () => {
    expect(await run(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "-q"])).toBe(0);
    expect(stdout).toEqual([]);
  });

  it("gate sets 2 for a file Bandit could not scan", async () => {
    expect(await run(["gate", "--bandit", `${BANDIT}/bandit-syntax-error.json`, "-q"])).toBe(2);
    expect(stderr.join("")).toContain("Bandit could not scan app/broken.py");
  });

  it("policy validate sets 0 or 2", async () => {
    expect(await run(["policy", "validate", "policies/default.yaml"])).toBe(0);
    expect(await run(["policy", "validate", `${BANDIT}/bandit-clean.json`])).toBe(2);
    expect(stderr.join("")).toMatch(/^portcullis policy: .*bandit-clean\.json:1 version: is required \(and \d+ more problem\(s\)\)\n$/);
  });

  it("gate --help explains the options and exit codes", async () => {
    await run(["gate", "--help"]);
    const help = stdout.join("") + stderr.join("");
    for (const flag of ["--bandit", "--trivy", "--policy", "--trivy-db-metadata", "--sarif", "--markdown", "--json", "--junit", "--now", "--quiet"]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain("Exit codes: 0 pass · 1 fail");
  });
});
