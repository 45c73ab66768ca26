import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LabPartError, logLine, run } from "../exec.js";
import { manifestDigest, pushTrivyDb, RegistryHttpError, type RegistryTarget } from "../oci.js";
import { LAB_SOURCE_DIR, type LabLayout } from "../paths.js";
import { recipeHash, type LabContext, type LabPart } from "./part.js";
import { basicAuth, readRegistryCredentials, REGISTRY_ADDRESS } from "./registry.js";
import { goEnv, requireGo } from "./trivy.js";

export const TRIVY_DB_REPOSITORY = "trivy-db";
export const TRIVY_DB_TAG = "2";
/** What `trivy --db-repository` is given: the tag is implied. */
export const TRIVY_DB_REF = `${REGISTRY_ADDRESS}/${TRIVY_DB_REPOSITORY}`;
/** Rebuild before Trivy itself would call the DB stale. */
const REFRESH_MARGIN_MS = 60 * 60_000;
const GENERATOR = "portcullis-trivy-db";

interface DbStamp {
  generator: string;
  advisories: string;
  /** Digest of the manifest pushed for this build. */
  pushed?: string;
}

export interface DbMetadataFile {
  Version: number;
  NextUpdate: string;
  UpdatedAt: string;
}

export function readDbMetadata(layout: LabLayout): DbMetadataFile | undefined {
  try {
    return JSON.parse(readFileSync(join(layout.trivyDbDir, "metadata.json"), "utf8")) as DbMetadataFile;
  } catch {
    return undefined;
  }
}

function readStamp(layout: LabLayout): DbStamp | undefined {
  try {
    return JSON.parse(readFileSync(layout.trivyDbStamp, "utf8")) as DbStamp;
  } catch {
    return undefined;
  }
}

const sourceDir = join(LAB_SOURCE_DIR, "trivy-db");

function recipes(): { generator: string; advisories: string } {
  const read = (f: string) => readFileSync(join(sourceDir, f));
  return { generator: recipeHash(read("main.go"), read("go.mod"), read("go.sum")), advisories: recipeHash(read("advisories.yaml")) };
}

function registryTarget(ctx: LabContext): RegistryTarget {
  const creds = readRegistryCredentials(ctx.layout);
  if (!creds) throw new LabPartError("trivy-db", `read ${ctx.layout.registryCredentials}`, ctx.logOf("trivy-db"), "found no registry credentials (registry part)");
  return { address: REGISTRY_ADDRESS, repository: TRIVY_DB_REPOSITORY, authorization: basicAuth(creds) };
}

async function pushedDigest(ctx: LabContext): Promise<string | undefined> {
  try {
    return await manifestDigest(registryTarget(ctx), TRIVY_DB_TAG);
  } catch {
    return undefined;
  }
}

/** The lab's Trivy DB: built by lab/trivy-db from advisories.yaml, kept as a directory and pushed as `trivy-db:2`. */
export const trivyDbPart: LabPart = {
  name: "trivy-db",
  async up(ctx) {
    const part = "trivy-db";
    const log = ctx.logOf(part);
    const { layout } = ctx;
    const want = recipes();
    let stamp = readStamp(layout);
    const did: string[] = [];
    const generator = join(layout.goBin, GENERATOR);
    if (!existsSync(generator) || stamp?.generator !== want.generator) {
      requireGo(ctx, part);
      ctx.progress(part, "go build lab/trivy-db");
      mkdirSync(layout.goBin, { recursive: true });
      await run("go", ["build", "-o", generator, "."], { part, log, cwd: sourceDir, env: goEnv(layout) });
      stamp = undefined;
      did.push("generator");
    }
    const meta = readDbMetadata(layout);
    const stale = !meta || Date.parse(meta.NextUpdate) - Date.now() < REFRESH_MARGIN_MS;
    if (!stamp || stamp.advisories !== want.advisories || stale || !existsSync(layout.trivyDbArchive)) {
      mkdirSync(layout.trivyDbCache, { recursive: true });
      await run(generator, ["-advisories", join(sourceDir, "advisories.yaml"), "-out", layout.trivyDbDir, "-next-update", "24h"], { part, log });
      chmodSync(layout.trivyDbDir, 0o755);
      await run("tar", ["-C", layout.trivyDbDir, "-czf", `${layout.trivyDbArchive}.partial`, "trivy.db", "metadata.json"], { part, log });
      await run("mv", [`${layout.trivyDbArchive}.partial`, layout.trivyDbArchive], { part, log });
      stamp = { generator: want.generator, advisories: want.advisories };
      writeFileSync(layout.trivyDbStamp, JSON.stringify(stamp, null, 2) + "\n");
      did.push("database");
    }
    const current = await pushedDigest(ctx);
    if (!stamp.pushed || current !== stamp.pushed) {
      try {
        const built = readDbMetadata(layout);
        stamp.pushed = await pushTrivyDb(registryTarget(ctx), TRIVY_DB_TAG, readFileSync(layout.trivyDbArchive), new Date(built?.UpdatedAt ?? Date.now()));
      } catch (err) {
        const request = err instanceof RegistryHttpError ? err.request : `push ${TRIVY_DB_REF}:${TRIVY_DB_TAG}`;
        logLine(log, `push failed: ${(err as Error).message}`);
        throw new LabPartError(part, request, log, err instanceof RegistryHttpError ? `answered ${err.status}` : `failed (${(err as Error).message})`);
      }
      writeFileSync(layout.trivyDbStamp, JSON.stringify(stamp, null, 2) + "\n");
      did.push("push");
    }
    const m = readDbMetadata(layout);
    const detail = `${TRIVY_DB_REF}:${TRIVY_DB_TAG}@${stamp.pushed.slice(0, 19)}…, dir ${layout.trivyDbDir}, UpdatedAt ${m?.UpdatedAt}, NextUpdate ${m?.NextUpdate}`;
    return { action: did.length === 0 ? "reused" : "built", detail: did.length ? `${detail}; did ${did.join(", ")}` : detail };
  },
  async status(ctx) {
    const m = readDbMetadata(ctx.layout);
    if (!m) return { state: "down", detail: `no DB in ${ctx.layout.trivyDbDir}` };
    const digest = await pushedDigest(ctx);
    const stale = Date.parse(m.NextUpdate) < Date.now();
    const where = digest ? `${TRIVY_DB_REF}:${TRIVY_DB_TAG}@${digest.slice(0, 19)}…` : "not in the registry";
    return {
      state: digest && !stale ? "up" : "down",
      detail: `Version ${m.Version}, UpdatedAt ${m.UpdatedAt}, NextUpdate ${m.NextUpdate}${stale ? " (stale)" : ""}; ${where}; dir ${ctx.layout.trivyDbDir}`,
    };
  },
  async down(ctx, purge) {
    if (!purge) return "database kept";
    rmSync(ctx.layout.trivyDbCache, { recursive: true, force: true });
    return `removed ${ctx.layout.trivyDbCache}`;
  },
};
