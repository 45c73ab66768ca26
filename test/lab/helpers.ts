import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { labLayout, resolveLabDir } from "../../lab/paths.js";
import { readRegistryCredentials } from "../../lab/parts/registry.js";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const CLI = join(REPO_ROOT, "ci", "bin", "portcullis.mjs");

export const labDir = resolveLabDir();
export const layout = labLayout(labDir);

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell); output captured. */
export function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): CommandResult {
  const res = spawnSync(cmd, args, {
    encoding: "utf8",
    env: opts.env ?? process.env,
    input: opts.input,
    cwd: opts.cwd,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.error) throw res.error;
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Like sh, but a non-zero exit throws with the output (for setup steps that must work). */
export function must(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): string {
  const res = sh(cmd, args, opts);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${res.code}\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

/** The portcullis CLI, as a user runs it (node + the tsx shim), synchronously. */
export function cli(args: string[], env: NodeJS.ProcessEnv = process.env): CommandResult {
  return sh(process.execPath, [CLI, ...args], { env, cwd: REPO_ROOT });
}

/** The CLI as a background child, for lock and kill tests. */
export function cliChild(args: string[]): { child: ChildProcess; done: Promise<CommandResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CommandResult>((r) => child.on("close", (code) => r({ code, stdout, stderr })));
  return { child, done };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `portcullis-lab-test-${prefix}-`));
}

export function registryCredentials(): { user: string; password: string } {
  const creds = readRegistryCredentials(layout);
  if (!creds) throw new Error(`no credentials in ${layout.registryCredentials}: is the lab up?`);
  return creds;
}

/** Brings the lab up (fast when already up) and fails the suite with the CLI's own line when it cannot. */
export function ensureLabUp(): string {
  const res = cli(["lab", "up"]);
  if (res.code !== 0) throw new Error(`portcullis lab up exited ${res.code}: ${res.stderr.trim().split("\n").pop()}`);
  return res.stdout;
}

/** Listening TCP sockets on a port, from /proc/net/tcp{,6}: addresses as hex like the kernel writes them. */
export function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = sh("cat", [file]).stdout;
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const [addr, p] = cols[1]!.split(":");
      if (p === hexPort && cols[3] === "0A") out.push(addr!);
    }
  }
  return out;
}
