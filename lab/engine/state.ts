import { createHash, createHmac, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Counters exposed to tests and `lab status`: "nothing ran" is asserted with these. */
export interface EngineCounters {
  requestsServed: number;
  containersRun: number;
  stepsExecuted: number;
  cacheHits: number;
}

/** An object the API hands out by ID: the resolver instance plus its GraphQL type name. */
export interface Handle {
  readonly __typename: string;
}

/** Everything the engine remembers: objects behind opaque IDs, secrets, the operation memo, counters, the step log. */
export class EngineState {
  readonly counters: EngineCounters = { requestsServed: 0, containersRun: 0, stepsExecuted: 0, cacheHits: 0 };
  readonly dir: string;
  private readonly objects = new Map<string, Handle>();
  private readonly idsByKey = new Map<string, string>();
  private readonly memo = new Map<string, Promise<unknown>>();
  private readonly secrets = new Map<string, { name: string; plaintext: string }>();
  private readonly hmacKey: Buffer;

  constructor(readonly labDir: string, private readonly logFile?: string) {
    this.dir = join(labDir, "engine");
    for (const sub of ["store", "cache", "volumes"]) mkdirSync(join(this.dir, sub), { recursive: true });
    // Secret cache keys are an HMAC with a key that never leaves the lab dir, so a key reveals nothing.
    const keyFile = join(this.dir, "hmac.key");
    if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    this.hmacKey = readFileSync(keyFile);
  }

  /** An opaque ID for an object; the same operation key maps to the same ID. */
  register(handle: Handle, key?: string): string {
    const lookup = key === undefined ? undefined : `${handle.__typename}:${key}`;
    const known = lookup === undefined ? undefined : this.idsByKey.get(lookup);
    if (known) return known;
    const id = `lab:${handle.__typename}:${randomBytes(18).toString("base64url")}`;
    this.objects.set(id, handle);
    if (lookup !== undefined) this.idsByKey.set(lookup, id);
    return id;
  }

  load<T extends Handle>(id: string, type?: string): T {
    const handle = this.objects.get(id);
    if (!handle) throw new Error(`unknown ID ${JSON.stringify(id.slice(0, 80))}: the lab engine never issued it (or was restarted)`);
    if (type && handle.__typename !== type) throw new Error(`ID is a ${handle.__typename}, not a ${type}`);
    return handle as T;
  }

  addSecret(name: string, plaintext: string): { id: string; cacheKey: string } {
    const id = `lab:Secret:${randomBytes(18).toString("base64url")}`;
    this.secrets.set(id, { name, plaintext });
    return { id, cacheKey: `secret:${name}:${createHmac("sha256", this.hmacKey).update(plaintext).digest("hex")}` };
  }

  secret(id: string): { name: string; plaintext: string } {
    const secret = this.secrets.get(id);
    if (!secret) throw new Error("unknown secret ID: the lab engine keeps secrets in memory only (was it restarted?)");
    return secret;
  }

  /** Replaces every known secret value with *** (Dagger scrubs secrets from output and errors too). */
  scrub(text: string): string {
    let out = text;
    for (const { plaintext } of this.secrets.values()) if (plaintext.length >= 3) out = out.split(plaintext).join("***");
    return out;
  }

  /** Runs `work` once per key: concurrent and later requests for the same key share the promise. */
  once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.memo.get(key) as Promise<T> | undefined;
    if (running) return running;
    const promise = work();
    this.memo.set(key, promise);
    promise.catch(() => this.memo.delete(key));
    return promise;
  }

  /**
   * One line per executed step: hit or miss, how long, the operation and its path. Never contents: labels are
   * "op path", and anything longer or multi-line is cut here so a careless label cannot carry file bytes.
   */
  log(step: string, ms: number, hit: boolean): void {
    const flat = this.scrub(step).replace(/[\x00-\x1f\x7f]+/g, " ");
    const label = flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
    const line = `${new Date().toISOString()} ${hit ? "hit " : "miss"} ${(ms / 1000).toFixed(2)}s ${label}\n`;
    if (this.logFile) appendFileSync(this.logFile, line);
  }
}

/** A stable key over an operation's inputs (object inputs contribute their own keys). */
export function keyOf(...parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}
