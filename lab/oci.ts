import { createHash } from "node:crypto";

/** Media types Trivy's `--db-repository` download expects of a DB artifact. */
export const TRIVY_DB_CONFIG_MEDIA_TYPE = "application/vnd.aquasec.trivy.config.v1+json";
export const TRIVY_DB_LAYER_MEDIA_TYPE = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";

export interface RegistryTarget {
  /** host:port of a plain-HTTP registry (the lab's, on loopback). */
  address: string;
  repository: string;
  authorization?: string;
}

export class RegistryHttpError extends Error {
  constructor(
    readonly request: string,
    readonly status: number,
    body: string,
  ) {
    super(`${request} answered ${status}${body ? `: ${body.slice(0, 200).trim()}` : ""}`);
    this.name = "RegistryHttpError";
  }
}

export function sha256Digest(data: Buffer | string): string {
  return "sha256:" + createHash("sha256").update(data).digest("hex");
}

function headers(target: RegistryTarget, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(target.authorization ? { authorization: target.authorization } : {}), ...extra };
}

async function expect(res: Response, request: string, ok: number[]): Promise<Response> {
  if (!ok.includes(res.status)) throw new RegistryHttpError(request, res.status, await res.text().catch(() => ""));
  return res;
}

/** Uploads a blob unless the registry has it: HEAD, then POST an upload and PUT the bytes monolithically. */
export async function pushBlob(target: RegistryTarget, data: Buffer): Promise<{ digest: string; size: number; uploaded: boolean }> {
  const digest = sha256Digest(data);
  const base = `http://${target.address}/v2/${target.repository}`;
  const head = await fetch(`${base}/blobs/${digest}`, { method: "HEAD", headers: headers(target) });
  if (head.status === 200) return { digest, size: data.length, uploaded: false };
  const start = await expect(await fetch(`${base}/blobs/uploads/`, { method: "POST", headers: headers(target) }), `POST ${base}/blobs/uploads/`, [202]);
  const location = start.headers.get("location");
  if (!location) throw new RegistryHttpError(`POST ${base}/blobs/uploads/`, start.status, "no Location header");
  const url = new URL(location, `http://${target.address}`);
  url.searchParams.set("digest", digest);
  await expect(
    await fetch(url, {
      method: "PUT",
      headers: headers(target, { "content-type": "application/octet-stream", "content-length": String(data.length) }),
      body: new Uint8Array(data),
    }),
    `PUT ${base}/blobs/uploads/…`,
    [201],
  );
  return { digest, size: data.length, uploaded: true };
}

/** PUTs a manifest under a tag; returns the digest the registry reports. */
export async function putManifest(target: RegistryTarget, tag: string, manifest: object, mediaType = OCI_MANIFEST_MEDIA_TYPE): Promise<string> {
  const body = JSON.stringify(manifest);
  const url = `http://${target.address}/v2/${target.repository}/manifests/${tag}`;
  const res = await expect(await fetch(url, { method: "PUT", headers: headers(target, { "content-type": mediaType }), body }), `PUT ${url}`, [201]);
  return res.headers.get("docker-content-digest") ?? sha256Digest(body);
}

/** The digest of a tag's manifest, or undefined when the tag does not exist. */
export async function manifestDigest(target: RegistryTarget, tag: string, accept = OCI_MANIFEST_MEDIA_TYPE): Promise<string | undefined> {
  const url = `http://${target.address}/v2/${target.repository}/manifests/${tag}`;
  const res = await fetch(url, { method: "HEAD", headers: headers(target, { accept }) });
  if (res.status === 404) return undefined;
  await expect(res, `HEAD ${url}`, [200]);
  return res.headers.get("docker-content-digest") ?? undefined;
}

/** Publishes a Trivy DB archive (db.tar.gz with trivy.db and metadata.json) as the OCI artifact Trivy pulls. */
export async function pushTrivyDb(target: RegistryTarget, tag: string, archive: Buffer, created: Date): Promise<string> {
  const config = await pushBlob(target, Buffer.from("{}"));
  const layer = await pushBlob(target, archive);
  return putManifest(target, tag, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: TRIVY_DB_CONFIG_MEDIA_TYPE, digest: config.digest, size: config.size },
    layers: [
      {
        mediaType: TRIVY_DB_LAYER_MEDIA_TYPE,
        digest: layer.digest,
        size: layer.size,
        annotations: { "org.opencontainers.image.title": "db.tar.gz" },
      },
    ],
    annotations: { "org.opencontainers.image.created": created.toISOString() },
  });
}
