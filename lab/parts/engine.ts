import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { LabPartError, logLine } from "../exec.js";
import { LAB_SOURCE_DIR } from "../paths.js";
import type { LabPart } from "./part.js";

/** What lab/engine/service.ts (the engine issue) exports. */
export interface EngineService {
  ensureEngine(labDir: string): Promise<{ port: number; token: string; pid: number; log: string }>;
  engineState(labDir: string): unknown;
  stopEngine(labDir: string): unknown;
}

export interface EngineSession {
  running: boolean;
  port?: number;
  token?: string;
  pid?: number;
  log?: string;
  counters?: { requestsServed: number; containersRun: number; cacheHits: number };
}

const SERVICE_FILE = join(LAB_SOURCE_DIR, "engine", "service.ts");

/** The engine's service module, or undefined until lab/engine/service.ts exists. */
export async function loadEngineService(): Promise<EngineService | undefined> {
  if (!existsSync(SERVICE_FILE)) return undefined;
  return (await import(pathToFileURL(SERVICE_FILE).href)) as EngineService;
}

/** engineState() normalised: the service may answer sync or async, with or without a `running` flag. */
export async function engineSession(labDir: string): Promise<EngineSession | undefined> {
  const service = await loadEngineService();
  if (!service) return undefined;
  const state = (await service.engineState(labDir)) as Partial<EngineSession> | undefined | null;
  if (!state) return { running: false };
  const running = state.running ?? (typeof state.port === "number" && typeof state.token === "string");
  return { ...state, running: Boolean(running) };
}

/** The lab engine (stand-in Dagger session on Docker), started through the engine issue's service. */
export const enginePart: LabPart = {
  name: "engine",
  async up(ctx) {
    const service = await loadEngineService();
    if (!service) return { action: "unavailable", detail: "engine: not yet available (lab/engine/service.ts does not exist)" };
    const log = ctx.logOf("engine");
    const before = await engineSession(ctx.layout.dir);
    try {
      const engine = await service.ensureEngine(ctx.layout.dir);
      const reused = before?.running && before.pid === engine.pid;
      return { action: reused ? "reused" : "started", detail: `session on 127.0.0.1:${engine.port} (pid ${engine.pid}, log ${engine.log})` };
    } catch (err) {
      logLine(log, `ensureEngine failed: ${(err as Error).message}`);
      throw new LabPartError("engine", "ensureEngine (lab/engine/service.ts)", log, `failed (${(err as Error).message.split("\n")[0]})`);
    }
  },
  async status(ctx) {
    const session = await engineSession(ctx.layout.dir);
    if (!session) return { state: "unavailable", detail: "not yet available (lab/engine/service.ts does not exist)" };
    return session.running
      ? {
          state: "up",
          detail: `session on 127.0.0.1:${session.port} (pid ${session.pid})${session.counters ? `; ${session.counters.requestsServed} requests served, ${session.counters.containersRun} containers run, ${session.counters.cacheHits} cache hits` : ""}`,
        }
      : { state: "down", detail: "not running" };
  },
  async down(ctx) {
    const service = await loadEngineService();
    if (!service) return "not yet available";
    await service.stopEngine(ctx.layout.dir);
    return "stopped";
  },
};
