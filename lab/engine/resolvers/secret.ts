import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../engine.js";
import { keyOf } from "../state.js";

/** Dagger's Secret: the plaintext stays in the engine's memory; the object holds only an opaque handle. */
export class Secret {
  readonly __typename = "Secret";
  readonly secretId: string;
  readonly cacheKey: string;

  constructor(private readonly e: Engine, name: string, plaintext: string) {
    ({ id: this.secretId, cacheKey: this.cacheKey } = e.state.addSecret(name, plaintext));
  }

  id(): string {
    return this.e.state.register(this);
  }

  name(): string {
    return this.e.state.secret(this.secretId).name;
  }

  plaintext(): string {
    return this.e.state.secret(this.secretId).plaintext;
  }
}

/** Dagger's CacheVolume: a host directory under the lab dir, mounted at exec time and never committed. */
export class CacheVolume {
  readonly __typename = "CacheVolume";
  readonly key: string;

  constructor(private readonly e: Engine, readonly name: string) {
    this.key = keyOf("CacheVolume", name);
  }

  id(): string {
    return this.e.state.register(this, this.key);
  }

  hostDir(): string {
    const dir = join(this.e.state.dir, "volumes", this.key.slice(0, 40));
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}
