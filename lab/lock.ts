import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { pidAlive, sleep } from "./exec.js";

/**
 * A PID lock on a file: created exclusively, holding the owner's PID. A lock whose owner is dead
 * (a killed `lab up`) is taken over, so it never blocks the next run.
 */
export async function acquireLabLock(
  file: string,
  opts: { waitMs?: number; onWait?: (ownerPid: number) => void } = {},
): Promise<() => void> {
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + (opts.waitMs ?? 30 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => releaseIfOurs(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = readOwner(file);
    if (owner === undefined && justCreated(file)) {
      // Its creator has not written its PID yet.
      await sleep(100);
      continue;
    }
    if (owner === undefined || !pidAlive(owner)) {
      // Rename is atomic: of two runs finding the same stale lock, one wins and both retry the create.
      try {
        renameSync(file, `${file}.stale-${process.pid}`);
        rmSync(`${file}.stale-${process.pid}`, { force: true });
      } catch {
        /* another run took it over first */
      }
      continue;
    }
    if (owner === process.pid) throw new Error(`lab lock ${file} is already held by this process`);
    if (Date.now() > deadline) throw new Error(`lab lock ${file} still held by pid ${owner} after waiting`);
    if (!told) {
      opts.onWait?.(owner);
      told = true;
    }
    await sleep(500);
  }
}

function justCreated(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < 5_000;
  } catch {
    return false;
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function releaseIfOurs(file: string): void {
  if (readOwner(file) === process.pid) rmSync(file, { force: true });
}
