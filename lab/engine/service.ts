import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineCounters } from "./state.js";

export interface EngineInfo { port: number; token: string; pid: number; log: string }
export interface EngineStatus extends EngineInfo { running: boolean; counters?: EngineCounters }

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const stateFile = (labDir: string) => join(labDir, "engine", "state.json");
const logFile = (labDir: string) => join(labDir, "engine", "engine.log");

function readState(labDir: string): EngineInfo | undefined {
  if (!existsSync(stateFile(labDir))) return undefined;
  const s = JSON.parse(readFileSync(stateFile(labDir), "utf8")) as { pid: number; port: number; token: string };
  return { ...s, log: logFile(labDir) };
}

/** Asks a running engine for its counters; undefined if nothing answers with that token. */
async function ping(info: EngineInfo): Promise<EngineCounters | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${info.port}/lab/status`, {
      headers: { authorization: `Basic ${Buffer.from(`${info.token}:`).toString("base64")}` }, signal: AbortSignal.timeout(3000),
    });
    return res.ok ? ((await res.json()) as { counters: EngineCounters }).counters : undefined;
  } catch {
    return undefined;
  }
}

/** The engine's state: running or not, and its counters (requests served, containers run, cache hits). */
export async function engineState(labDir: string): Promise<EngineStatus | undefined> {
  const info = readState(labDir);
  if (!info) return undefined;
  const counters = await ping(info);
  return { ...info, running: counters !== undefined, counters };
}

/** True if `pid` is a lab engine process (not just any process that reused the number). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("lab/engine/main.ts");
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One starter at a time per lab dir (lab up, lab exec and tests may race); a lock older than a minute is stale. */
async function withStartLock<T>(labDir: string, work: () => Promise<T>): Promise<T> {
  const lock = join(labDir, "engine", "start.lock");
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch {
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 60_000) rmSync(lock, { force: true });
      else await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Starts the engine detached unless one already runs; returns how to reach it. */
export async function ensureEngine(labDir: string): Promise<EngineInfo> {
  const running = readState(labDir);
  if (running && (await ping(running))) return running;
  return withStartLock(labDir, async () => {
    const current = readState(labDir);
    // A live engine that is slow to answer (busy hashing a large tree) is waited for, never duplicated.
    if (current && alive(current.pid)) {
      for (let i = 0; i < 20; i++) if (await ping(current)) return current;
      throw new Error(`the lab engine (pid ${current.pid}) runs but does not answer on 127.0.0.1:${current.port}; see ${logFile(labDir)} (portcullis lab down to stop it)`);
    }
    rmSync(stateFile(labDir), { force: true });
    const out = openSync(logFile(labDir), "a");
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "lab", "engine", "main.ts"), resolve(labDir)], {
      cwd: repoRoot, detached: true, stdio: ["ignore", out, out],
    });
    child.unref();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await sleep(150);
      const info = readState(labDir);
      if (info && info.pid === child.pid && (await ping(info))) return info;
      if (child.exitCode !== null) break;
    }
    throw new Error(`the lab engine did not start (see ${logFile(labDir)})`);
  });
}

/** Stops the engine if it runs; true when one was stopped. */
export async function stopEngine(labDir: string): Promise<boolean> {
  const info = readState(labDir);
  if (!info) return false;
  let stopped = false;
  try {
    process.kill(info.pid, "SIGTERM");
    stopped = true;
    for (let i = 0; i < 50; i++) {
      process.kill(info.pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch {
    // gone
  }
  rmSync(stateFile(labDir), { force: true });
  return stopped;
}
