import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DockerExecutor } from "./docker.js";
import { publish } from "./fsutil.js";
import { EngineState } from "./state.js";

/** What every resolver needs: state (IDs, secrets, memo, counters, log) and the Docker executor. */
export class Engine {
  constructor(readonly state: EngineState, readonly docker: DockerExecutor) {}

  /** Where a snapshot (directory or file holder) with this key lives on the host. */
  snapshot(key: string): string {
    return join(this.state.dir, "store", key.slice(0, 40));
  }

  tmpDir(): string {
    mkdirSync(join(this.state.dir, "tmp"), { recursive: true });
    return mkdtempSync(join(this.state.dir, "tmp", "t-"));
  }

  /**
   * Runs one step once per key: a result recorded by an earlier run (this process or a previous one)
   * is reused if `stillValid` agrees; every execution and every hit is counted and logged.
   */
  async step<T>(label: string, key: string, work: () => Promise<T>, stillValid: (cached: T) => Promise<boolean> = async () => true): Promise<T> {
    return this.state.once(`step:${key}`, async () => {
      const started = Date.now();
      const record = join(this.state.dir, "cache", `${key.slice(0, 40)}.json`);
      if (existsSync(record)) {
        const cached = JSON.parse(readFileSync(record, "utf8")) as T;
        if (await stillValid(cached)) {
          this.state.counters.cacheHits++;
          this.state.log(label, Date.now() - started, true);
          return cached;
        }
      }
      const result = await work();
      this.state.counters.stepsExecuted++;
      writeFileSync(record, JSON.stringify(result), { mode: 0o600 });
      this.state.log(label, Date.now() - started, false);
      return result;
    });
  }

  /**
   * A snapshot directory built once per key by `build(tmp)` (after `upstream`, which is not timed) and kept
   * in the store, so it also outlives the process. Returns its path.
   */
  materialize(label: string, key: string, build: (tmp: string) => Promise<void> | void, upstream: () => Promise<unknown> = async () => undefined): Promise<string> {
    return this.state.once(`snapshot:${key}`, async () => {
      const dest = this.snapshot(key);
      if (existsSync(dest)) {
        this.state.counters.cacheHits++;
        this.state.log(label, 0, true);
        return dest;
      }
      await upstream();
      const started = Date.now();
      const tmp = this.tmpDir();
      await build(tmp);
      if (existsSync(tmp)) chmodSync(tmp, 0o755);
      publish(tmp, dest);
      this.state.counters.stepsExecuted++;
      this.state.log(label, Date.now() - started, false);
      return dest;
    });
  }

  /** A step whose result is a Docker image: valid while the daemon still has it (tagged so nobody prunes it). */
  imageStep<T extends { image: string }>(label: string, key: string, work: () => Promise<T>): Promise<T> {
    return this.step(label, key, async () => {
      const result = await work();
      await this.docker.tag(result.image, `portcullis-lab/cache:${key.slice(0, 40)}`);
      return result;
    }, async (cached) => (await this.docker.inspectImage(`portcullis-lab/cache:${key.slice(0, 40)}`)) !== undefined && cached.image !== "");
  }
}

/** "${VAR}" / "$VAR" expansion against an env list, as Dagger's `expand` does. */
export function expandVars(text: string, env: string[]): string {
  const lookup = new Map(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string, b: string) => lookup.get(a ?? b) ?? "");
}
