import { chownSync, cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, posix } from "node:path";
import { GraphQLError } from "graphql";
import type { BindMount, ImageConfig } from "../docker.js";
import { expandVars, type Engine } from "../engine.js";
import { listTree, pathFilter, tarUnder, withParents } from "../fsutil.js";
import { keyOf } from "../state.js";
import { imageLayout, pushLayout, writeTarball } from "../tarball.js";
import type { RequestContext } from "./context.js";
import { Directory } from "./directory.js";
import { File, storedFile } from "./file.js";
import type { CacheVolume, Secret } from "./secret.js";

type Mount =
  | { target: string; kind: "directory"; source: Directory; readOnly: boolean; owner: string }
  | { target: string; kind: "file"; source: File; owner: string }
  | { target: string; kind: "cache"; volume: CacheVolume; source?: Directory; owner: string }
  | { target: string; kind: "secret"; secretId: string; owner: string; mode: number }
  | { target: string; kind: "temp" };

export interface ExecResult { args: string[]; exitCode: number; stdout: string; stderr: string }

/** Everything a Dagger container is: a root filesystem (a Docker image) plus state the engine tracks itself. */
export interface ContainerState {
  image: string;
  config: ImageConfig;
  mounts: Mount[];
  secretEnv: { name: string; secretId: string }[];
  auth: { address: string; username: string; secretId: string }[];
  exec?: ExecResult;
}

export async function containerFromImage(e: Engine, image: string): Promise<ContainerState> {
  const found = await e.docker.inspectImage(image);
  if (!found) throw new Error(`image ${image} vanished from the Docker daemon`);
  return { image: found.id, config: found.config, mounts: [], secretEnv: [], auth: [] };
}

const EXPECT_OK: Record<string, (code: number) => boolean> = {
  SUCCESS: (c) => c === 0,
  FAILURE: (c) => (c >= 1 && c <= 127) || (c >= 192 && c <= 255),
  ANY: (c) => (c >= 0 && c <= 127) || (c >= 192 && c <= 255),
};

const envName = (e: string) => e.slice(0, e.indexOf("="));

function setEnv(env: string[], name: string, value?: string): string[] {
  const rest = env.filter((e) => envName(e) !== name);
  return value === undefined ? rest : [...rest, `${name}=${value}`];
}

/** Small read-only API objects (EnvVariable, Label, Port): fields plus an ID so lists can be loaded by node(id). */
function valueObject<T extends object>(e: Engine, typename: string, fields: T): T & { __typename: string; id: () => string } {
  const obj = { __typename: typename, ...fields, id: (): string => e.state.register(obj) };
  return obj;
}

/** Dagger's Container: lazy; each field below returns a new Container keyed by its parent's key and its own inputs. */
export class Container {
  readonly __typename = "Container";
  constructor(readonly e: Engine, readonly key: string, readonly state: () => Promise<ContainerState>) {}

  static scratch(e: Engine): Container {
    return new Container(e, keyOf("Container.scratch"), async () => {
      throw new Error("Container: no root filesystem yet: call from(address) first (the lab engine has no scratch image)");
    });
  }

  private derive(op: string, args: unknown, change: (s: ContainerState) => Promise<ContainerState> | ContainerState): Container {
    const key = keyOf(`Container.${op}`, this.key, args);
    return new Container(this.e, key, () => this.e.state.once(key, async () => change(await this.state())));
  }

  private derivePath(op: string, args: { path: string; expand?: boolean }, extra: unknown, change: (s: ContainerState, path: string) => Promise<ContainerState> | ContainerState): Container {
    return this.derive(op, { ...args, extra }, (s) => change(s, posix.resolve(s.config.workdir || "/", args.expand ? expandVars(args.path, s.config.env) : args.path)));
  }

  id(): string {
    return this.e.state.register(this, this.key);
  }

  async sync(): Promise<string> {
    await this.state();
    return this.id();
  }

  async from(args: { address: string }): Promise<Container> {
    const found = await this.e.docker.inspectImage(args.address);
    if (!found) throw new Error(`Container.from: image ${JSON.stringify(args.address)} is not in the local Docker daemon, and the lab engine cannot pull (no registry is reachable here): run \`portcullis lab up\` or \`docker load\` it first`);
    return new Container(this.e, keyOf("Container.from", found.id), async () => ({ image: found.id, config: found.config, mounts: [], secretEnv: [], auth: [] }));
  }

  // --- execution ---------------------------------------------------------------------------------

  withExec(args: { args: string[]; useEntrypoint: boolean; redirectStdout: string; redirectStderr: string; expect: string; expand: boolean }): Container {
    return this.derive("withExec", args, async (s) => {
      const argv = args.expand ? args.args.map((a) => expandVars(a, s.config.env)) : args.args;
      const cmd = args.useEntrypoint ? [...s.config.entrypoint, ...argv] : argv;
      if (cmd.length === 0) throw new Error("Container.withExec: no command given");
      // The log names the program only: arguments can carry scripts or file contents.
      const result = await this.e.imageStep(`withExec ${cmd[0]}`, keyOf("exec", this.key, args), () => this.run(s, cmd, args));
      const exec = { args: cmd, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
      if (!EXPECT_OK[args.expect](result.exitCode)) {
        throw new GraphQLError(`process "${cmd.join(" ")}" did not complete successfully: exit code: ${result.exitCode}`, {
          extensions: { _type: "EXEC_ERROR", cmd, exitCode: result.exitCode, stdout: exec.stdout, stderr: exec.stderr },
        });
      }
      return { ...s, image: result.image, exec };
    });
  }

  /** One container: mounts and secrets exist for this run only; the root filesystem is committed afterwards. */
  private async run(s: ContainerState, cmd: string[], args: { redirectStdout: string; redirectStderr: string }) {
    const scratch = mkdtempSync("/dev/shm/portcullis-lab-mounts-");
    const copies: string[] = [];
    try {
      const mounts: BindMount[] = [];
      const tmpfs: string[] = [];
      for (const [i, m] of s.mounts.entries()) {
        if (m.kind === "temp") tmpfs.push(m.target);
        else if (m.kind === "cache") {
          const dir = m.volume.hostDir();
          if (m.source && readdirSync(dir).length === 0) cpSync(await m.source.path(), dir, { recursive: true, verbatimSymlinks: true });
          if (m.owner) await this.chown(s, dir, m.owner);
          mounts.push({ source: dir, target: m.target, readOnly: false });
        } else if (m.kind === "secret") {
          const file = join(scratch, `secret-${i}`);
          writeFileSync(file, this.e.state.secret(m.secretId).plaintext, { mode: m.mode });
          if (m.owner) await this.chown(s, file, m.owner);
          mounts.push({ source: file, target: m.target, readOnly: true });
        } else {
          // Writes to a mounted directory or file never reach its snapshot: the container gets a copy.
          const copy = join(this.e.tmpDir(), "m");
          copies.push(dirname(copy));
          cpSync(await m.source.path(), copy, { recursive: true, verbatimSymlinks: true });
          if (m.owner) await this.chown(s, copy, m.owner);
          mounts.push({ source: copy, target: m.target, readOnly: m.kind === "directory" && m.readOnly });
        }
      }
      // Like Docker and Dagger: an image without PATH still finds its binaries.
      const env = s.config.env.some((e) => e.startsWith("PATH=")) ? [...s.config.env] : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...s.config.env];
      for (const v of s.secretEnv) env.push(`${v.name}=${this.e.state.secret(v.secretId).plaintext}`);
      this.e.state.counters.containersRun++;
      const result = await this.e.docker.run({ image: s.image, args: cmd, env, workdir: s.config.workdir, user: s.config.user, mounts, tmpfs }, async (container, output) => {
        for (const [path, text] of [[args.redirectStdout, output.stdout], [args.redirectStderr, output.stderr]]) {
          if (!path) continue;
          const stage = this.e.tmpDir();
          copies.push(stage);
          const target = posix.resolve(s.config.workdir || "/", path);
          writeFileSync(join(stage, basename(target)), text);
          await tarUnder(stage, [basename(target)], dirname(target), join(stage, "x.tar"), {});
          await this.e.docker.copyIntoContainer(container, join(stage, "x.tar"));
        }
      });
      const scrub = (text: string, redirected: string) => (redirected ? "" : this.e.state.scrub(text));
      return { image: result.image, exitCode: result.exitCode, stdout: scrub(result.stdout, args.redirectStdout), stderr: scrub(result.stderr, args.redirectStderr) };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      for (const c of copies) rmSync(c, { recursive: true, force: true });
    }
  }

  private async lastExec(field: string): Promise<ExecResult> {
    const s = await this.state();
    if (!s.exec) throw new Error(`Container.${field}: no command has been executed on this container (call withExec first)`);
    return s.exec;
  }

  async stdout(): Promise<string> { return (await this.lastExec("stdout")).stdout; }
  async stderr(): Promise<string> { return (await this.lastExec("stderr")).stderr; }
  async combinedOutput(): Promise<string> { const x = await this.lastExec("combinedOutput"); return x.stdout + x.stderr; }
  async exitCode(): Promise<number> { return (await this.lastExec("exitCode")).exitCode; }

  // --- image config -------------------------------------------------------------------------------

  private withConfig(op: string, args: unknown, change: (c: ImageConfig) => Partial<ImageConfig>): Container {
    return this.derive(op, args, (s) => ({ ...s, config: { ...s.config, ...change(s.config) } }));
  }

  withEnvVariable(args: { name: string; value: string; expand: boolean }): Container {
    return this.withConfig("withEnvVariable", args, (c) => ({ env: setEnv(c.env, args.name, args.expand ? expandVars(args.value, c.env) : args.value) }));
  }
  withoutEnvVariable(args: { name: string }): Container {
    return this.withConfig("withoutEnvVariable", args, (c) => ({ env: setEnv(c.env, args.name) }));
  }
  async envVariable(args: { name: string }): Promise<string | null> {
    const found = (await this.state()).config.env.find((e) => envName(e) === args.name);
    return found === undefined ? null : found.slice(args.name.length + 1);
  }
  async envVariables() {
    return (await this.state()).config.env.map((e) => valueObject(this.e, "EnvVariable", { name: envName(e), value: e.slice(e.indexOf("=") + 1) }));
  }
  withWorkdir(args: { path: string; expand: boolean }): Container {
    return this.derivePath("withWorkdir", args, null, (s, path) => ({ ...s, config: { ...s.config, workdir: path } }));
  }
  async workdir(): Promise<string> { return (await this.state()).config.workdir; }
  withUser(args: { name: string }): Container {
    return this.withConfig("withUser", args, () => ({ user: args.name }));
  }
  async user(): Promise<string> { return (await this.state()).config.user; }
  withEntrypoint(args: { args: string[]; keepDefaultArgs: boolean }): Container {
    return this.withConfig("withEntrypoint", args, (c) => ({ entrypoint: args.args, cmd: args.keepDefaultArgs ? c.cmd : [] }));
  }
  withoutEntrypoint(args: { keepDefaultArgs: boolean }): Container {
    return this.withConfig("withoutEntrypoint", args, (c) => ({ entrypoint: [], cmd: args.keepDefaultArgs ? c.cmd : [] }));
  }
  async entrypoint(): Promise<string[]> { return (await this.state()).config.entrypoint; }
  withDefaultArgs(args: { args: string[] }): Container {
    return this.withConfig("withDefaultArgs", args, () => ({ cmd: args.args }));
  }
  withoutDefaultArgs(): Container {
    return this.withConfig("withoutDefaultArgs", null, () => ({ cmd: [] }));
  }
  async defaultArgs(): Promise<string[]> { return (await this.state()).config.cmd; }
  withLabel(args: { name: string; value: string }): Container {
    return this.withConfig("withLabel", args, (c) => ({ labels: { ...c.labels, [args.name]: args.value } }));
  }
  withoutLabel(args: { name: string }): Container {
    return this.withConfig("withoutLabel", args, (c) => ({ labels: Object.fromEntries(Object.entries(c.labels).filter(([k]) => k !== args.name)) }));
  }
  async label(args: { name: string }): Promise<string | null> { return (await this.state()).config.labels[args.name] ?? null; }
  async labels() {
    return Object.entries((await this.state()).config.labels).map(([name, value]) => valueObject(this.e, "Label", { name, value }));
  }
  withExposedPort(args: { port: number; protocol: string; description?: string | null; experimentalSkipHealthcheck: boolean }): Container {
    return this.withConfig("withExposedPort", args, (c) => ({
      exposedPorts: [...c.exposedPorts.filter((p) => p.port !== args.port || p.protocol !== args.protocol),
        { port: args.port, protocol: args.protocol, description: args.description ?? undefined, skipHealthcheck: args.experimentalSkipHealthcheck }],
    }));
  }
  async exposedPorts() {
    return (await this.state()).config.exposedPorts.map((p) =>
      valueObject(this.e, "Port", { port: p.port, protocol: p.protocol, description: p.description ?? null, experimentalSkipHealthcheck: p.skipHealthcheck }));
  }

  // --- files in and out ---------------------------------------------------------------------------

  /** `owner` as uid/gid: numbers as given, names looked up in the image's /etc/passwd and /etc/group. */
  private async owner(s: ContainerState, owner: string): Promise<{ uid: number; gid: number }> {
    const [user, group] = owner.split(":");
    const table = (file: string) => this.e.state.once(`etc:${s.image}:${file}`, async () => {
      const tmp = this.e.tmpDir();
      await this.e.docker.copyOut(s.image, `/etc/${file}`, tmp).catch(() => undefined);
      const text = existsSync(join(tmp, file)) ? readFileSync(join(tmp, file), "utf8") : "";
      rmSync(tmp, { recursive: true, force: true });
      return new Map(text.split("\n").filter(Boolean).map((l) => l.split(":")).map((f) => [f[0], { id: Number(f[2]), gid: Number(f[3]) }]));
    });
    const lookup = async (name: string, file: string) => {
      if (/^\d+$/.test(name)) return { id: Number(name), gid: Number(name) };
      const found = (await table(file)).get(name);
      if (!found) throw new Error(`owner ${JSON.stringify(owner)}: no ${file === "passwd" ? "user" : "group"} ${JSON.stringify(name)} in the container's /etc/${file}`);
      return found;
    };
    const u = await lookup(user, "passwd");
    const gid = group === undefined ? (/^\d+$/.test(user) ? u.id : u.gid) : (await lookup(group, "group")).id;
    return { uid: u.id, gid };
  }

  private async chown(s: ContainerState, path: string, owner: string): Promise<void> {
    const { uid, gid } = await this.owner(s, owner);
    const walk = (p: string) => {
      chownSync(p, uid, gid);
      if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    };
    walk(path);
  }

  /** Adds `entries` of `dir` under `target` to the root filesystem (one create/cp/commit, no process run). */
  private async addFiles(s: ContainerState, label: string, key: string, dir: string, entries: string[], target: string, opts: { owner: string; permissions?: number | null }): Promise<ContainerState> {
    const ids = opts.owner ? await this.owner(s, opts.owner) : {};
    const { image } = await this.e.imageStep(label, key, async () => {
      const tar = join(this.e.tmpDir(), "in.tar");
      try {
        // Nothing to copy (an empty or fully excluded source): Dagger still creates the target directory.
        if (entries.length === 0) {
          await tarUnder(dirname(tar), ["."], target, tar, { mode: 0o755 });
          return { image: await this.e.docker.ensureDirectory(s.image, target, tar) };
        }
        await tarUnder(dir, entries, target, tar, { ...ids, mode: opts.permissions ?? undefined });
        return { image: await this.e.docker.copyIn(s.image, tar) };
      } finally {
        rmSync(dirname(tar), { recursive: true, force: true });
      }
    });
    return { ...s, image };
  }

  withDirectory(args: { path: string; source: string; exclude: string[]; include: string[]; owner: string; permissions?: number | null; expand: boolean }): Container {
    const source = this.e.state.load<Directory>(args.source, "Directory");
    const keyed = { ...args, source: source.key }; // IDs differ per engine process; keys do not
    return this.derivePath("withDirectory", keyed, null, async (s, path) => {
      const dir = await source.path();
      const kept = withParents(listTree(dir, pathFilter(args.include, args.exclude)));
      // The target's own metadata changes only when an owner is asked for (never chmod an existing /tmp).
      const entries = args.owner ? [".", ...kept] : kept;
      return this.addFiles(s, `withDirectory ${path}`, keyOf("withDirectory", this.key, keyed), dir, entries, path, args);
    });
  }

  withFile(args: { path: string; source: string; permissions?: number | null; owner: string; expand: boolean }): Container {
    const source = this.e.state.load<File>(args.source, "File");
    const keyed = { ...args, source: source.key };
    return this.derivePath("withFile", keyed, null, async (s, path) => {
      const stage = this.e.tmpDir();
      try {
        cpSync(await source.path(), join(stage, basename(path)), { preserveTimestamps: true });
        return await this.addFiles(s, `withFile ${path}`, keyOf("withFile", this.key, keyed), stage, [basename(path)], dirname(path), args);
      } finally {
        rmSync(stage, { recursive: true, force: true });
      }
    });
  }

  withNewFile(args: { path: string; contents: string; permissions: number; owner: string; expand: boolean }): Container {
    return this.derivePath("withNewFile", args, null, async (s, path) => {
      const stage = this.e.tmpDir();
      try {
        writeFileSync(join(stage, basename(path)), args.contents);
        return await this.addFiles(s, `withNewFile ${path}`, keyOf("withNewFile", this.key, args), stage, [basename(path)], dirname(path), args);
      } finally {
        rmSync(stage, { recursive: true, force: true });
      }
    });
  }

  directory(args: { path: string; expand: boolean }): Directory {
    const key = keyOf("Container.directory", this.key, args);
    return Directory.snapshot(this.e, key, `directory ${args.path} (from container)`, async (tmp) => {
      const s = await this.state();
      const path = posix.resolve(s.config.workdir || "/", args.expand ? expandVars(args.path, s.config.env) : args.path);
      const out = join(tmp, ".out");
      await this.e.docker.copyOut(s.image, path === "/" ? "/." : path, out);
      const [top] = readdirSync(out);
      if (!top || !lstatSync(join(out, top)).isDirectory()) throw new Error(`Container.directory: ${path} is not a directory`);
      for (const n of readdirSync(join(out, top))) renameSync(join(out, top, n), join(tmp, n));
      rmSync(out, { recursive: true, force: true });
    }, () => this.state());
  }

  rootfs(): Directory {
    return this.directory({ path: "/", expand: false });
  }

  file(args: { path: string; expand: boolean }): File {
    const key = keyOf("Container.file", this.key, args);
    return storedFile(this.e, key, posix.basename(args.path), `file ${args.path} (from container)`, async (dest) => {
      const s = await this.state();
      const path = posix.resolve(s.config.workdir || "/", args.expand ? expandVars(args.path, s.config.env) : args.path);
      const out = join(dirname(dest), ".out");
      await this.e.docker.copyOut(s.image, path, out);
      if (!lstatSync(join(out, posix.basename(path))).isFile()) throw new Error(`Container.file: ${path} is not a file`);
      renameSync(join(out, posix.basename(path)), dest);
      rmSync(out, { recursive: true, force: true });
    }, () => this.state());
  }

  // --- mounts, secrets, registry auth -------------------------------------------------------------

  private withMount(op: string, args: { path: string; expand: boolean }, sourceKey: unknown, mount: (path: string) => Mount): Container {
    const keyed = { path: args.path, expand: args.expand, ...(args as { owner?: string; readOnly?: boolean; mode?: number; sharing?: string }) };
    for (const idField of ["source", "cache"]) delete (keyed as Record<string, unknown>)[idField];
    return this.derivePath(op, keyed, sourceKey, (s, path) => ({ ...s, mounts: [...s.mounts.filter((m) => m.target !== path), mount(path)] }));
  }

  withMountedDirectory(args: { path: string; source: string; owner: string; readOnly: boolean; expand: boolean }): Container {
    const source = this.e.state.load<Directory>(args.source, "Directory");
    return this.withMount("withMountedDirectory", args, source.key, (target) => ({ target, kind: "directory", source, readOnly: args.readOnly, owner: args.owner }));
  }
  withMountedFile(args: { path: string; source: string; owner: string; expand: boolean }): Container {
    const source = this.e.state.load<File>(args.source, "File");
    return this.withMount("withMountedFile", args, source.key, (target) => ({ target, kind: "file", source, owner: args.owner }));
  }
  withMountedCache(args: { path: string; cache: string; source?: string | null; sharing: string; owner: string; expand: boolean }): Container {
    const volume = this.e.state.load<CacheVolume>(args.cache, "CacheVolume");
    const source = args.source ? this.e.state.load<Directory>(args.source, "Directory") : undefined;
    return this.withMount("withMountedCache", args, [volume.key, source?.key], (target) => ({ target, kind: "cache", volume, source, owner: args.owner }));
  }
  withMountedTemp(args: { path: string; expand: boolean }): Container {
    return this.withMount("withMountedTemp", args, null, (target) => ({ target, kind: "temp" }));
  }
  withMountedSecret(args: { path: string; source: string; owner: string; mode: number; expand: boolean }): Container {
    const secret = this.e.state.load<Secret>(args.source, "Secret");
    return this.withMount("withMountedSecret", args, secret.cacheKey, (target) => ({ target, kind: "secret", secretId: secret.secretId, owner: args.owner, mode: args.mode }));
  }
  withoutMount(args: { path: string; expand: boolean }): Container {
    return this.derivePath("withoutMount", args, null, (s, path) => ({ ...s, mounts: s.mounts.filter((m) => m.target !== path) }));
  }
  async mounts(): Promise<string[]> { return (await this.state()).mounts.map((m) => m.target); }

  withSecretVariable(args: { name: string; secret: string }): Container {
    const secret = this.e.state.load<Secret>(args.secret, "Secret");
    return this.derive("withSecretVariable", { name: args.name, secret: secret.cacheKey }, (s) => ({
      ...s, secretEnv: [...s.secretEnv.filter((v) => v.name !== args.name), { name: args.name, secretId: secret.secretId }],
    }));
  }
  withoutSecretVariable(args: { name: string }): Container {
    return this.derive("withoutSecretVariable", args, (s) => ({ ...s, secretEnv: s.secretEnv.filter((v) => v.name !== args.name) }));
  }
  withRegistryAuth(args: { address: string; username: string; secret: string }): Container {
    const secret = this.e.state.load<Secret>(args.secret, "Secret");
    return this.derive("withRegistryAuth", { ...args, secret: secret.cacheKey }, (s) => ({
      ...s, auth: [...s.auth.filter((a) => a.address !== args.address), { address: args.address, username: args.username, secretId: secret.secretId }],
    }));
  }
  withoutRegistryAuth(args: { address: string }): Container {
    return this.derive("withoutRegistryAuth", args, (s) => ({ ...s, auth: s.auth.filter((a) => a.address !== args.address) }));
  }

  // --- images out ---------------------------------------------------------------------------------

  /** The OCI layout (plus docker manifest.json) of this container's image, stored once per key. */
  private layout(): Directory {
    return Directory.snapshot(this.e, keyOf("Container.layout", this.key), "image layout", async (tmp) => imageLayout(this.e, await this.state(), tmp), () => this.state());
  }

  asTarball(): File {
    const layout = this.layout();
    return storedFile(this.e, keyOf("Container.asTarball", this.key), "image.tar", "asTarball", async (dest) => writeTarball(await layout.path(), dest), () => layout.path());
  }

  async export(args: { path: string; expand: boolean }, ctx: RequestContext): Promise<string> {
    return this.asTarball().export({ path: args.path, allowParentDirPath: false }, ctx);
  }

  async publish(args: { address: string }): Promise<string> {
    const s = await this.state();
    const started = Date.now();
    const host = args.address.split("/")[0];
    const auth = s.auth.find((a) => a.address.split("/")[0] === host);
    const digest = await pushLayout(await this.layout().path(), args.address, auth && { username: auth.username, password: this.e.state.secret(auth.secretId).plaintext });
    this.e.state.counters.stepsExecuted++;
    this.e.state.log(`publish ${args.address}`, Date.now() - started, false);
    return `${args.address}@${digest}`;
  }
}
