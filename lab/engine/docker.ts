import { execFile, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The image settings the engine tracks itself (Docker's own config is never trusted for these). */
export interface ImageConfig {
  env: string[];
  workdir: string;
  user: string;
  entrypoint: string[];
  cmd: string[];
  labels: Record<string, string>;
  exposedPorts: { port: number; protocol: string; description?: string; skipHealthcheck: boolean }[];
}

export interface BindMount { source: string; target: string; readOnly: boolean }

export interface RunSpec {
  image: string;
  args: string[];
  env: string[];
  workdir: string;
  user: string;
  mounts: BindMount[];
  tmpfs: string[];
}

export interface RunResult { image: string; exitCode: number; stdout: string; stderr: string }

/** The one narrow interface between the engine and Docker. */
export interface DockerExecutor {
  /** The ID and config of a local image, or undefined when the daemon does not have it. */
  inspectImage(ref: string): Promise<{ id: string; config: ImageConfig } | undefined>;
  /** Runs one process on `image` (host network) and commits the resulting root filesystem. */
  run(spec: RunSpec, beforeCommit?: (container: string, output: { stdout: string; stderr: string }) => Promise<void>): Promise<RunResult>;
  /** Extracts a tar stream file into the image's root filesystem; returns the new image. */
  copyIn(image: string, tarFile: string): Promise<string>;
  /** Copies `path` out of the image into `destDir` (as `destDir/<basename>`). */
  copyOut(image: string, path: string, destDir: string): Promise<void>;
  /** Returns the image unchanged if `path` is a directory in it, else `copyIn(image, tarFile)` (which creates it). */
  ensureDirectory(image: string, path: string, tarFile: string): Promise<string>;
  /** Adds a tar stream into a (created, not started) container. */
  copyIntoContainer(container: string, tarFile: string): Promise<void>;
  build(contextDir: string, opts: { dockerfile: string; target: string; buildArgs: { name: string; value: string }[]; tag: string }): Promise<string>;
  save(image: string, outFile: string): Promise<void>;
  tag(image: string, ref: string): Promise<void>;
}

const execFileP = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Runs the docker CLI; throws with its stderr on failure. */
async function docker(args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await execFileP("docker", args, { maxBuffer: 512 * 1024 * 1024, env: env ?? process.env });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    const detail =
      args[0] === "build"
        ? // A failing RUN step's own output (pytest's report, say) is on stdout; stderr only names the step.
          [err.stdout, err.stderr].filter(Boolean).join("\n").trim().split("\n").slice(-60).join("\n")
        : (err.stderr || err.stdout || err.message).trim().split("\n").slice(-15).join("\n");
    throw new Error(`docker ${args[0]} failed: ${detail}`);
  }
}

/** Spawns a process and collects stdout/stderr separately (no size limit); stdin/stdout may be files. */
function collect(cmd: string, args: string[], opts: { stdinFile?: string; stdoutFile?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdin = opts.stdinFile ? openSync(opts.stdinFile, "r") : "ignore";
  const stdout = opts.stdoutFile ? openSync(opts.stdoutFile, "w") : "pipe";
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin, stdout, "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      for (const fd of [stdin, stdout]) if (typeof fd === "number") closeSync(fd);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

export class DockerCli implements DockerExecutor {
  private readonly initBinary: string;
  private readonly shmRoot: string;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(engineDir: string, private readonly maxParallel = 3) {
    // Built once per lab dir: a static binary runs in any image (glibc, musl, distroless).
    this.initBinary = join(engineDir, "bin", "lab-init");
    if (!existsSync(this.initBinary)) {
      mkdirSync(dirname(this.initBinary), { recursive: true });
      const cc = spawnSyncOrThrow("gcc", ["-static", "-Os", "-o", this.initBinary, join(here, "init.c")]);
      if (cc) throw new Error(`cannot build the lab engine's exec helper (${join(here, "init.c")}) with \`gcc -static\` (needs the Debian packages gcc and libc6-dev): ${cc}`);
    }
    this.shmRoot = mkdtempSync("/dev/shm/portcullis-lab-");
    chmodSync(this.shmRoot, 0o711);
  }

  async inspectImage(ref: string): Promise<{ id: string; config: ImageConfig } | undefined> {
    let raw: string;
    try {
      raw = await docker(["image", "inspect", "--format", "{{json .Id}} {{json .Config}}", ref]);
    } catch {
      return undefined;
    }
    const [id, json] = [raw.slice(0, raw.indexOf(" ")), raw.slice(raw.indexOf(" ") + 1)];
    const c = JSON.parse(json) as { Env?: string[]; WorkingDir?: string; User?: string; Entrypoint?: string[]; Cmd?: string[]; Labels?: Record<string, string>; ExposedPorts?: Record<string, object> };
    return { id: JSON.parse(id) as string, config: {
      env: c.Env ?? [], workdir: c.WorkingDir || "/", user: c.User ?? "", entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [], labels: c.Labels ?? {},
      exposedPorts: Object.keys(c.ExposedPorts ?? {}).map((p) => ({ port: Number(p.split("/")[0]), protocol: (p.split("/")[1] ?? "tcp").toUpperCase(), skipHealthcheck: false })),
    } };
  }

  async run(spec: RunSpec, beforeCommit?: (container: string, output: { stdout: string; stderr: string }) => Promise<void>): Promise<RunResult> {
    await this.acquire();
    // Per-run tmpfs dir (0711, random name): holds the init binary and the spec with any secret variables.
    const runDir = mkdtempSync(join(this.shmRoot, "run-"));
    let container = "";
    try {
      chmodSync(runDir, 0o711);
      copyFileSync(this.initBinary, join(runDir, "init"));
      const specName = `spec-${Math.random().toString(36).slice(2)}`;
      writeFileSync(join(runDir, specName), [...spec.env, "", ...spec.args].map((s) => `${s}\0`).join(""), { mode: 0o644 });
      const args = ["create", "--network", "host", "--entrypoint", "/dev/.lab/init", "-v", `${runDir}:/dev/.lab:ro`, "--workdir", spec.workdir || "/"];
      if (spec.user) args.push("--user", spec.user);
      for (const m of spec.mounts) args.push("--mount", `type=bind,source=${m.source},target=${m.target}${m.readOnly ? ",readonly" : ""}`);
      for (const t of spec.tmpfs) args.push("--tmpfs", t);
      args.push(spec.image, `/dev/.lab/${specName}`);
      container = (await docker(args)).trim();
      const attached = await collect("docker", ["start", "-a", container]);
      const exitCode = Number((await docker(["inspect", "--format", "{{.State.ExitCode}}", container])).trim());
      if (beforeCommit) await beforeCommit(container, attached);
      const image = (await docker(["commit", container])).trim();
      return { image, exitCode, stdout: attached.stdout, stderr: attached.stderr };
    } finally {
      if (container) await docker(["rm", "-f", container]).catch(() => undefined);
      rmSync(runDir, { recursive: true, force: true });
      this.release();
    }
  }

  async copyIn(image: string, tarFile: string): Promise<string> {
    const container = (await docker(["create", "--entrypoint", "/dev/.lab/none", image])).trim();
    try {
      await this.copyIntoContainer(container, tarFile);
      return (await docker(["commit", container])).trim();
    } finally {
      await docker(["rm", "-f", container]).catch(() => undefined);
    }
  }

  async ensureDirectory(image: string, path: string, tarFile: string): Promise<string> {
    const container = (await docker(["create", "--entrypoint", "/dev/.lab/none", image])).trim();
    const empty = join(this.shmRoot, `empty-${Math.random().toString(36).slice(2)}.tar`);
    try {
      // Copying an empty archive to a path succeeds only if it is an existing directory: a stat without a copy.
      writeFileSync(empty, Buffer.alloc(1024));
      if ((await collect("docker", ["cp", "-", `${container}:${path}`], { stdinFile: empty })).code === 0) return image;
      // Not a directory: missing (create it) or something else (an error, as BuildKit's mkdir gives).
      if ((await collect("docker", ["cp", `${container}:${path}`, "-"], { stdoutFile: "/dev/null" })).code === 0) throw new Error(`${path} exists in the container and is not a directory`);
      await this.copyIntoContainer(container, tarFile);
      return (await docker(["commit", container])).trim();
    } finally {
      rmSync(empty, { force: true });
      await docker(["rm", "-f", container]).catch(() => undefined);
    }
  }

  async copyIntoContainer(container: string, tarFile: string): Promise<void> {
    const r = await collect("docker", ["cp", "--archive", "-", `${container}:/`], { stdinFile: tarFile });
    if (r.code !== 0) throw new Error(`docker cp failed: ${r.stderr.trim()}`);
  }

  async copyOut(image: string, path: string, destDir: string): Promise<void> {
    const container = (await docker(["create", "--entrypoint", "/dev/.lab/none", image])).trim();
    const tarFile = join(destDir, "..", `.${Math.random().toString(36).slice(2)}.tar`);
    try {
      const r = await collect("docker", ["cp", `${container}:${path}`, "-"], { stdoutFile: tarFile });
      if (r.code !== 0) throw new Error(r.stderr.includes("Could not find") ? `no such file or directory: ${path}` : `docker cp failed: ${r.stderr.trim()}`);
      mkdirSync(destDir, { recursive: true });
      const x = await collect("tar", ["-x", "--no-same-owner", "-C", destDir, "-f", tarFile]);
      if (x.code !== 0) throw new Error(`cannot extract ${path}: ${x.stderr.trim()}`);
    } finally {
      rmSync(tarFile, { force: true });
      await docker(["rm", "-f", container]).catch(() => undefined);
    }
  }

  async build(contextDir: string, opts: { dockerfile: string; target: string; buildArgs: { name: string; value: string }[]; tag: string }): Promise<string> {
    await this.acquire();
    try {
      const args = ["build", "--network", "host", "-f", join(contextDir, opts.dockerfile), "-t", opts.tag];
      if (opts.target) args.push("--target", opts.target);
      for (const a of opts.buildArgs) args.push("--build-arg", `${a.name}=${a.value}`);
      args.push(contextDir);
      // Docker 20.10 here has no buildx: the legacy builder resolves FROM against local images only.
      await docker(args, { ...process.env, DOCKER_BUILDKIT: "0" });
      return (await docker(["image", "inspect", "--format", "{{.Id}}", opts.tag])).trim();
    } finally {
      this.release();
    }
  }

  async save(image: string, outFile: string): Promise<void> {
    await docker(["save", "-o", outFile, image]);
  }

  async tag(image: string, ref: string): Promise<void> {
    await docker(["tag", image, ref]);
  }

  close(): void {
    rmSync(this.shmRoot, { recursive: true, force: true });
  }

  private async acquire(): Promise<void> {
    if (this.running < this.maxParallel) { this.running++; return; }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); else this.running--;
  }
}

function spawnSyncOrThrow(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args);
  return r.status === 0 ? undefined : (r.stderr?.toString() || r.error?.message || `exit ${r.status}`).trim();
}
