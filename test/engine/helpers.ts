import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Client } from "@dagger.io/dagger";
import { EngineServer } from "../../lab/engine/server.js";

/** The lab's base image (`portcullis lab up` loads it); the engine never pulls. */
export const BASE = "debian:bookworm-slim";

export interface TestEngine {
  server: EngineServer;
  labDir: string;
  port: number;
  counters: EngineServer["engine"]["state"]["counters"];
  log(): string;
  stop(): Promise<void>;
}

/**
 * A lab engine in this process on a fresh lab dir, with the session variables set so the real SDK
 * (`connect`) talks to it exactly as it would to `dagger run`.
 */
export async function startEngine(labDir = mkdtempSync(join(tmpdir(), "portcullis-engine-test-"))): Promise<TestEngine> {
  const logFile = join(labDir, "engine.log");
  const server = new EngineServer(labDir, { logFile });
  const port = await server.listen();
  process.env.DAGGER_SESSION_PORT = String(port);
  process.env.DAGGER_SESSION_TOKEN = server.token;
  return {
    server, labDir, port, counters: server.engine.state.counters,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    stop: async () => {
      await server.close();
    },
  };
}

/** Removes a test lab dir and the cache tags its steps left on the daemon. */
export function removeLab(labDir: string): void {
  const records = join(labDir, "engine", "cache");
  const tags = existsSync(records) ? readdirSync(records).map((f) => `portcullis-lab/cache:${f.replace(/\.json$/, "")}`) : [];
  for (let i = 0; i < tags.length; i += 50) {
    try {
      execFileSync("docker", ["rmi", "--no-prune", ...tags.slice(i, i + 50)], { stdio: "ignore" });
    } catch {
      // some records are not images (e.g. failed lookups); the rest are removed
    }
  }
  rmSync(labDir, { recursive: true, force: true });
}

/** Runs `fn` with a real SDK client connected to the engine in the session variables; returns its result. */
export async function withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  let result: T | undefined;
  await connect(async (c) => {
    result = await fn(c);
  });
  return result as T;
}

export function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
}

/** Fails loudly (not skips) when the lab has not been brought up: CI runs `portcullis lab up` first. */
export function requireImage(ref: string): void {
  try {
    docker("image", "inspect", ref);
  } catch {
    throw new Error(`${ref} is not on the Docker daemon: run \`npx portcullis lab up\` first`);
  }
}
