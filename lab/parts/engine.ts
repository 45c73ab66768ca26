import { LabPartError, logLine } from "../exec.js";
import * as service from "../engine/service.js";
import type { LabPart } from "./part.js";

export interface EngineSession {
  running: boolean;
  port?: number;
  token?: string;
  pid?: number;
  log?: string;
  counters?: { requestsServed: number; containersRun: number; cacheHits: number };
}

/** engineState() normalised: the service may answer sync or async, with or without a `running` flag. */
export async function engineSession(labDir: string): Promise<EngineSession> {
  const state = (await service.engineState(labDir)) as Partial<EngineSession> | undefined | null;
  if (!state) return { running: false };
  const running = state.running ?? (typeof state.port === "number" && typeof state.token === "string");
  return { ...state, running: Boolean(running) };
}

/** The lab engine (stand-in Dagger session on Docker), started through the engine issue's service. */
export const enginePart: LabPart = {
  name: "engine",
  async up(ctx) {
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
    return session?.running
      ? {
          state: "up",
          detail: `session on 127.0.0.1:${session.port} (pid ${session.pid})${session.counters ? `; ${session.counters.requestsServed} requests served, ${session.counters.containersRun} containers run, ${session.counters.cacheHits} cache hits` : ""}`,
        }
      : { state: "down", detail: "not running" };
  },
  async down(ctx) {
    await service.stopEngine(ctx.layout.dir);
    return "stopped";
  },
};
