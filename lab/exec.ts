import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/** A command of a lab part failed; the CLI prints it as one line: part, command, log file. */
export class LabPartError extends Error {
  constructor(
    readonly part: string,
    readonly command: string,
    readonly logFile: string,
    readonly reason: string,
  ) {
    super(`part "${part}" failed: \`${command}\` ${reason} (log: ${logFile})`);
    this.name = "LabPartError";
  }
}

export interface RunOptions {
  /** Part name, for the error line. */
  part: string;
  /** Log file receiving the command line, stdout and stderr. */
  log: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin; never logged (used for secrets). */
  input?: string | Buffer;
  /** Kill after this long (default: no limit). */
  timeoutMs?: number;
  /** Keep stdout out of the log (it carries something private, e.g. a password hash). */
  privateStdout?: boolean;
}

/** Shell-like rendering of a command for logs and error lines. */
export function renderCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function ensureLog(log: string): void {
  mkdirSync(dirname(log), { recursive: true });
}

/** Appends a timestamped note to a part's log. */
export function logLine(log: string, line: string): void {
  ensureLog(log);
  appendFileSync(log, `[${new Date().toISOString()}] ${line}\n`);
}

/**
 * Runs a command to completion, teeing its output into the part's log; resolves with stdout.
 * A non-zero exit, a signal or a spawn failure rejects with a LabPartError.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<string> {
  const shown = renderCommand(cmd, args);
  logLine(opts.log, `$ ${shown}`);
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      out.push(chunk);
      if (!opts.privateStdout) appendFileSync(opts.log, chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => appendFileSync(opts.log, chunk));
    if (opts.input !== undefined && child.stdin) child.stdin.end(opts.input);
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      logLine(opts.log, `could not start: ${err.message}`);
      reject(new LabPartError(opts.part, shown, opts.log, `could not start (${err.message})`));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) return resolveRun(Buffer.concat(out).toString("utf8"));
      const reason = signal ? `was killed by ${signal}` : `exited ${code}`;
      logLine(opts.log, `${reason}`);
      reject(new LabPartError(opts.part, shown, opts.log, reason));
    });
  });
}

/** Runs a short query command; returns trimmed stdout, or undefined when it fails (used for probes). */
export function probe(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): string | undefined {
  const res = spawnSync(cmd, args, { encoding: "utf8", env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  if (res.error || res.status !== 0) return undefined;
  return res.stdout.trim();
}

/** True when an executable of that name is on the PATH. */
export function onPath(cmd: string): boolean {
  return probe("sh", ["-c", `command -v ${cmd}`]) !== undefined;
}

/** Starts a long-running server detached from us, output into its log; returns its PID. */
export function startDaemon(cmd: string, args: readonly string[], opts: { log: string; env?: NodeJS.ProcessEnv; cwd?: string }): number {
  ensureLog(opts.log);
  logLine(opts.log, `$ ${renderCommand(cmd, args)} (detached)`);
  const fd = openSync(opts.log, "a");
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Whether a PID names a live process (signal 0 checks without touching it). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie child still answers signal 0; /proc tells the truth on Linux.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return true;
  }
}

/** Reads a PID file; undefined when missing or not a number. */
export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The command line of a live process, to check a recorded PID still is the program we started. */
export function pidCommand(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
