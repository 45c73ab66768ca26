import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The lab directory: `--dir`, else `PORTCULLIS_LAB_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/portcullis/lab`.
 * Everyone (CLI, engine, tests) resolves it with this one rule.
 */
export function resolveLabDir(override?: string): string {
  if (override && override.trim() !== "") return resolve(override);
  const fromEnv = process.env.PORTCULLIS_LAB_DIR;
  if (fromEnv && fromEnv.trim() !== "") return resolve(fromEnv);
  const cache = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.trim() !== "" ? process.env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return resolve(cache, "portcullis", "lab");
}

/** The repository's `lab/` directory (Dockerfiles, the trivy-db program), wherever the CLI is run from. */
export const LAB_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));

/** Where each part of the lab keeps its files under the lab directory. */
export interface LabLayout {
  dir: string;
  lockFile: string;
  logsDir: string;
  buildDir: string;
  goBin: string;
  dockerdPid: string;
  registryDir: string;
  registryConfig: string;
  registryData: string;
  registryHtpasswd: string;
  registryCredentials: string;
  registryPid: string;
  /** Trivy cache dir: `--cache-dir` for offline scans; holds `db/trivy.db` and `db/metadata.json`. */
  trivyDbCache: string;
  trivyDbDir: string;
  trivyDbArchive: string;
  trivyDbStamp: string;
}

export function labLayout(dir: string): LabLayout {
  const registryDir = join(dir, "registry");
  const trivyDbCache = join(dir, "trivy-db");
  return {
    dir,
    lockFile: join(dir, "lab.lock"),
    logsDir: join(dir, "logs"),
    buildDir: join(dir, "build"),
    goBin: join(dir, "go", "bin"),
    dockerdPid: join(dir, "docker", "dockerd.pid"),
    registryDir,
    registryConfig: join(registryDir, "config.yml"),
    registryData: join(registryDir, "data"),
    registryHtpasswd: join(registryDir, "htpasswd"),
    registryCredentials: join(registryDir, "credentials.env"),
    registryPid: join(registryDir, "registry.pid"),
    trivyDbCache,
    trivyDbDir: join(trivyDbCache, "db"),
    trivyDbArchive: join(trivyDbCache, "db.tar.gz"),
    trivyDbStamp: join(trivyDbCache, "build.json"),
  };
}
