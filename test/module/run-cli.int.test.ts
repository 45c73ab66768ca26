// `portcullis run` checks its inputs before it opens a session: each mistake is one line on stderr and exit 2.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { buildCli } from "../../ci/cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "ci/bin/portcullis.mjs");

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  // No session variables: a check that passed would go on to try the engine, which these cases must never reach.
  const { DAGGER_SESSION_PORT: _p, DAGGER_SESSION_TOKEN: _t, ...base } = process.env;
  const r = spawnSync(process.execPath, [CLI, "run", ...args], { cwd: ROOT, env: { ...base, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI in-process (`buildCli`), with stdout/stderr captured and the exit code read back. */
async function runInProcess(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  const saved = process.exitCode;
  try {
    await buildCli(["run", ...args]).exitProcess(false).parseAsync();
    return { code: process.exitCode, stdout: out.join(""), stderr: err.join("") };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = saved;
  }
}

describe("portcullis run: input errors (exit 2, one line, before any engine work)", () => {
  it.each([
    [["--source", "no-such-dir"], "portcullis run: error: --source no-such-dir: not a directory"],
    [["--source", "app", "--dockerfile", "Nope.Dockerfile"], "portcullis run: error: --dockerfile Nope.Dockerfile: no such file in app"],
    [["--source", "app", "--policy", "no-such.yaml"], "portcullis run: error: --policy no-such.yaml: no such file"],
    [["--source", "app", "--bandit-config", "nope.yaml"], "portcullis run: error: --bandit-config nope.yaml: no such file"],
    [["--source", "app", "--build-arg", "NOVALUE"], 'portcullis run: error: build argument "NOVALUE" is not NAME=value'],
    [["--source", "app", "--now", "yesterday"], 'portcullis run: error: now "yesterday" is not an ISO-8601 date'],
    [["--source", "app", "--publish", "r.example/app", "--username", "u", "--password-env", "PORTCULLIS_TEST_UNSET"], "portcullis run: error: --password-env PORTCULLIS_TEST_UNSET: that environment variable is not set"],
    [["--source", "app", "--publish", "r.example/app", "--username", "u"], "portcullis run: error: --publish needs both --username and --password-env, or neither"],
    [["--source", "app", "--username", "u"], "portcullis run: error: --username/--password-env only make sense with --publish ADDRESS"],
  ])("%j", async (args, message) => {
    const r = await runInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
  });

  it("the real CLI process: a policy that does not validate names the file, in one line", () => {
    const r = run(["--source", "app", "--policy", "test/fixtures/e2e/bandit-invalid.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^portcullis run: error: .*bandit-invalid\.yaml/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
