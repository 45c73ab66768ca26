import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Engine } from "./engine.js";
import type { ContainerState } from "./resolvers/container.js";

const execFileP = promisify(execFile);

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Writes a blob into the layout; returns its descriptor fields. */
function putBlob(dir: string, bytes: string): { digest: string; size: number } {
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(dir, "blobs", "sha256", hex), bytes);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
}

/**
 * The image as Dagger's asTarball writes it: an OCI layout that also carries a docker `manifest.json`,
 * so `docker load` and `trivy image --input` both read it. The config is written from the engine's own
 * state (env, workdir, user, entrypoint…), never copied from a container, so nothing else leaks into it.
 */
export async function imageLayout(e: Engine, s: ContainerState, dir: string): Promise<void> {
  const work = mkdtempSync(join(dir, "..", "save-"));
  try {
    await e.docker.save(s.image, join(work, "save.tar"));
    await execFileP("tar", ["-x", "-C", work, "-f", join(work, "save.tar")]);
    const [saved] = JSON.parse(readFileSync(join(work, "manifest.json"), "utf8")) as { Config: string; Layers: string[] }[];
    const dockerConfig = JSON.parse(readFileSync(join(work, saved.Config), "utf8")) as {
      architecture: string; os: string; created: string; rootfs: { diff_ids: string[] }; history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
    };
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    const layers: { digest: string; size: number }[] = [];
    for (const layer of saved.Layers) {
      const hex = await sha256File(join(work, layer));
      const size = statSync(join(work, layer)).size;
      if (!existsSync(join(dir, "blobs", "sha256", hex))) renameSync(join(work, layer), join(dir, "blobs", "sha256", hex));
      layers.push({ digest: `sha256:${hex}`, size });
    }
    const c = s.config;
    const config = {
      architecture: dockerConfig.architecture, os: dockerConfig.os, created: dockerConfig.created,
      config: {
        Env: c.env, WorkingDir: c.workdir === "/" ? "" : c.workdir, User: c.user || undefined,
        Entrypoint: c.entrypoint.length ? c.entrypoint : undefined, Cmd: c.cmd.length ? c.cmd : undefined,
        Labels: Object.keys(c.labels).length ? c.labels : undefined,
        ExposedPorts: c.exposedPorts.length ? Object.fromEntries(c.exposedPorts.map((p) => [`${p.port}/${p.protocol.toLowerCase()}`, {}])) : undefined,
      },
      rootfs: { type: "layers", diff_ids: dockerConfig.rootfs.diff_ids },
      // Steps the lab engine committed show as such; their container command is an internal detail.
      history: (dockerConfig.history ?? []).map((h) => ({ ...h, created_by: h.created_by?.includes("/dev/.lab/") ? "portcullis lab engine step" : h.created_by })),
    };
    const configBlob = putBlob(dir, JSON.stringify(config));
    const manifest = putBlob(dir, JSON.stringify({
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...l })),
    }));
    writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(join(dir, "index.json"), JSON.stringify({
      schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest }],
    }));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify([{
      Config: `blobs/sha256/${configBlob.digest.slice(7)}`, RepoTags: null, Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    }]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One tar holding the layout; mode 0600 like the files Dagger exports. */
export async function writeTarball(layoutDir: string, dest: string): Promise<void> {
  await execFileP("tar", ["-C", layoutDir, "-cf", dest, "oci-layout", "index.json", "manifest.json", "blobs"]);
  chmodSync(dest, 0o600);
}

/** Pushes the layout with skopeo; credentials go through a 0600 auth file on tmpfs, never argv. Returns the manifest digest. */
export async function pushLayout(layoutDir: string, address: string, auth?: { username: string; password: string }): Promise<string> {
  const tmp = mkdtempSync("/dev/shm/portcullis-lab-push-");
  try {
    const args = ["copy", "--quiet", "--dest-tls-verify=false", "--digestfile", join(tmp, "digest")];
    if (auth) {
      const host = address.split("/")[0];
      writeFileSync(join(tmp, "auth.json"), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString("base64") } } }), { mode: 0o600 });
      args.push("--dest-authfile", join(tmp, "auth.json"));
    }
    args.push(`oci:${layoutDir}`, `docker://${address}`);
    try {
      await execFileP("skopeo", args);
    } catch (err) {
      const detail = ((err as { stderr?: string }).stderr ?? String(err)).trim().split("\n").slice(-3).join(" ");
      throw new Error(`Container.publish: pushing ${address} failed: ${detail}`);
    }
    return readFileSync(join(tmp, "digest"), "utf8").trim();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
