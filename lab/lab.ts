import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireLabLock } from "./lock.js";
import { labLayout, resolveLabDir } from "./paths.js";
import { baseImagesPart } from "./parts/base-images.js";
import { dockerPart } from "./parts/docker.js";
import { engineSession, enginePart } from "./parts/engine.js";
import { packagesPart } from "./parts/packages.js";
import { makeContext, type LabOptions, type LabPart, type PartAction, type PartState } from "./parts/part.js";
import { readRegistryCredentials, REGISTRY_ADDRESS } from "./parts/registry.js";
import { registryPart } from "./parts/registry.js";
import { TRIVY_DB_REF, trivyDbPart } from "./parts/trivy-db.js";
import { trivyPart } from "./parts/trivy.js";

/** In the order `lab up` brings them up (the DB is pushed to the registry; the Trivy image is FROM the Debian base). */
export const LAB_PARTS: readonly LabPart[] = [packagesPart, dockerPart, registryPart, baseImagesPart, trivyPart, trivyDbPart, enginePart];

export interface PartReport {
  part: string;
  action: PartAction;
  detail: string;
  seconds: number;
}

export interface LabRunOptions extends LabOptions {
  dir?: string;
  /** Receives one line per finished part. */
  onPart?: (report: PartReport) => void;
  /** Receives progress inside long parts and lock waits. */
  onProgress?: (line: string) => void;
}

export function formatPartLine(r: PartReport): string {
  return `${r.part.padEnd(12)} ${r.action.padEnd(11)} ${`${r.seconds.toFixed(1)}s`.padStart(7)}  ${r.detail}`;
}

/** Brings every part up, reusing what is already up; one lab-wide lock makes concurrent runs safe. */
export async function labUp(opts: LabRunOptions = {}): Promise<{ dir: string; parts: PartReport[]; seconds: number }> {
  const dir = resolveLabDir(opts.dir);
  const layout = labLayout(dir);
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const release = await acquireLabLock(layout.lockFile, {
    onWait: (pid) => opts.onProgress?.(`waiting for the lab lock held by another lab up (pid ${pid})`),
  });
  const reports: PartReport[] = [];
  try {
    const ctx = makeContext(layout, { caBundle: opts.caBundle }, (part, message) => opts.onProgress?.(`${part}: ${message}`));
    for (const part of LAB_PARTS) {
      const t0 = performance.now();
      const outcome = await part.up(ctx);
      const report = { part: part.name, ...outcome, seconds: (performance.now() - t0) / 1000 };
      reports.push(report);
      opts.onPart?.(report);
    }
    const seconds = (performance.now() - started) / 1000;
    writeFileSync(join(dir, "last-up.json"), JSON.stringify({ finishedAt: new Date().toISOString(), seconds, parts: reports }, null, 2) + "\n");
    return { dir, parts: reports, seconds };
  } finally {
    release();
  }
}

export interface PartStatusReport extends PartState {
  part: string;
}

/** Each part's actual state, probed now (never a cached belief). */
export async function labStatus(opts: { dir?: string } = {}): Promise<{ dir: string; parts: PartStatusReport[] }> {
  const dir = resolveLabDir(opts.dir);
  const ctx = makeContext(labLayout(dir), {});
  const parts: PartStatusReport[] = [];
  for (const part of LAB_PARTS) parts.push({ part: part.name, ...(await part.status(ctx)) });
  return { dir, parts };
}

/** Stops what the lab started (by recorded PIDs), in reverse order; with purge, removes its images and data too. */
export async function labDown(opts: { dir?: string; purge?: boolean } = {}): Promise<{ dir: string; parts: { part: string; detail: string }[] }> {
  const dir = resolveLabDir(opts.dir);
  const layout = labLayout(dir);
  const release = await acquireLabLock(layout.lockFile);
  try {
    const ctx = makeContext(layout, {});
    const parts: { part: string; detail: string }[] = [];
    // The docker daemon is stopped last, after the images it holds are removed.
    for (const part of [...LAB_PARTS].reverse()) {
      if (part.down) parts.push({ part: part.name, detail: await part.down(ctx, Boolean(opts.purge)) });
    }
    return { dir, parts };
  } finally {
    release();
  }
}

/** Shell-quoted `export` lines for scripts and CI (`eval "$(portcullis lab env)"`). */
export async function labEnv(opts: { dir?: string } = {}): Promise<string[]> {
  const dir = resolveLabDir(opts.dir);
  const layout = labLayout(dir);
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const vars: [string, string][] = [
    ["PORTCULLIS_LAB_DIR", dir],
    ["PORTCULLIS_LAB_REGISTRY", REGISTRY_ADDRESS],
  ];
  const creds = readRegistryCredentials(layout);
  if (!creds) throw new Error(`no registry credentials in ${layout.registryCredentials}; run portcullis lab up first`);
  vars.push(["PORTCULLIS_LAB_REGISTRY_USER", creds.user], ["PORTCULLIS_LAB_REGISTRY_PASSWORD", creds.password]);
  vars.push(["PORTCULLIS_LAB_TRIVY_DB_REPOSITORY", TRIVY_DB_REF]);
  if (existsSync(layout.trivyDbDir)) vars.push(["PORTCULLIS_LAB_TRIVY_CACHE_DIR", layout.trivyDbCache]);
  const engine = await engineSession(dir);
  if (engine?.running && engine.port !== undefined && engine.token !== undefined) {
    vars.push(["DAGGER_SESSION_PORT", String(engine.port)], ["DAGGER_SESSION_TOKEN", engine.token]);
  }
  return vars.map(([k, v]) => `export ${k}=${quote(v)}`);
}
