import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GraphQLRequestError } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labLayout, resolveLabDir } from "../../lab/paths.js";
import { BASE, docker, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// asTarball / export / publish: the image leaves the engine as Dagger's does.
let engine: TestEngine;
let out: string;
const TRIVY = "aquasec/trivy:0.74.0";

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
  out = mkdtempSync(join(tmpdir(), "engine-images-"));
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
  rmSync(out, { recursive: true, force: true });
});

function registry(): { address: string; user: string; password: string } {
  const file = labLayout(resolveLabDir()).registryCredentials;
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx portcullis lab up\` first`);
  const env = Object.fromEntries(readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/^"|"$/g, "")]));
  return { address: env.PORTCULLIS_LAB_REGISTRY, user: env.PORTCULLIS_LAB_REGISTRY_USER, password: env.PORTCULLIS_LAB_REGISTRY_PASSWORD };
}

const image = (c: Parameters<Parameters<typeof withClient>[0]>[0]) => c.container().from(BASE)
  .withNewFile("/srv/hello.txt", "hello from the lab\n")
  .withEnvVariable("APP_MODE", "prod").withWorkdir("/srv").withUser("nobody").withLabel("org.opencontainers.image.title", "lab-test")
  .withEntrypoint(["cat"]).withDefaultArgs(["hello.txt"]).withExposedPort(8080);

describe("asTarball and export", () => {
  it("is an OCI layout with a docker manifest.json, exported mode 0600, that docker load reads with the engine's config", async () => {
    const tar = join(out, "image.tar");
    const exported = await withClient((c) => image(c).export(tar));
    expect(exported).toBe(tar);
    expect(statSync(tar).mode & 0o777).toBe(0o600);
    const listing = execFileSync("tar", ["-tf", tar], { encoding: "utf8" }).split("\n");
    expect(listing).toEqual(expect.arrayContaining(["oci-layout", "index.json", "manifest.json"]));
    expect(listing.some((l) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(l))).toBe(true);
    const loaded = docker("load", "-i", tar);
    const id = /Loaded image ID: (sha256:[0-9a-f]+)/.exec(loaded)?.[1];
    expect(id).toBeDefined();
    try {
      const config = JSON.parse(docker("image", "inspect", "--format", "{{json .Config}}", id!)) as Record<string, unknown>;
      expect(config).toMatchObject({ User: "nobody", WorkingDir: "/srv", Entrypoint: ["cat"], Cmd: ["hello.txt"], Labels: { "org.opencontainers.image.title": "lab-test" }, ExposedPorts: { "8080/tcp": {} } });
      expect(config.Env).toContain("APP_MODE=prod");
      expect(docker("run", "--rm", "--network", "host", id!)).toBe("hello from the lab\n");
    } finally {
      docker("rmi", id!);
    }
  });

  it("asTarball is a File the SDK can hand to Trivy: trivy image --input reads it (lab DB, offline)", async () => {
    requireImage(TRIVY);
    const db = labLayout(resolveLabDir()).trivyDbCache;
    if (!existsSync(join(db, "db", "trivy.db"))) throw new Error(`${db}/db/trivy.db is missing: run \`npx portcullis lab up\` first`);
    const report = await withClient(async (c) => {
      const tarball = image(c).asTarball();
      return c.container().from(TRIVY)
        .withMountedFile("/in/image.tar", tarball)
        .withMountedDirectory("/cache", c.host().directory(db))
        .withExec(["trivy", "image", "--input", "/in/image.tar", "--cache-dir", "/cache", "--skip-db-update", "--skip-java-db-update", "--offline-scan",
          "--skip-version-check", "--disable-telemetry", "--scanners", "vuln", "--format", "json", "--quiet"])
        .stdout();
    });
    const parsed = JSON.parse(report) as { ArtifactName: string; ArtifactType: string; Metadata: { OS?: { Family: string } } };
    expect(parsed.ArtifactName).toBe("/in/image.tar");
    expect(parsed.ArtifactType).toBe("container_image");
    expect(parsed.Metadata.OS?.Family).toBe("debian");
  });
});

describe("publish", () => {
  it("pushes with withRegistryAuth's credentials and returns address@sha256:<manifest digest>", async () => {
    const reg = registry();
    const address = `${reg.address}/engine-test/hello:${Date.now()}`;
    const ref = await withClient((c) => image(c).withRegistryAuth(reg.address, reg.user, c.setSecret("registry-password", reg.password)).publish(address));
    expect(ref).toMatch(new RegExp(`^${address.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}$`));
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--creds", `${reg.user}:${reg.password}`, `docker://${address}`], { encoding: "utf8" })) as { Digest: string };
    expect(ref.endsWith(inspected.Digest)).toBe(true);
  });

  it("is refused with wrong credentials, and the error does not carry them", async () => {
    const reg = registry();
    const wrong = "wrong-password-4b1f9";
    const err = await withClient((c) => image(c).withRegistryAuth(reg.address, reg.user, c.setSecret("bad", wrong)).publish(`${reg.address}/engine-test/denied:1`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLRequestError);
    expect((err as Error).message).toMatch(/Container\.publish: pushing .* failed/);
    expect((err as Error).message).not.toContain(wrong);
  });
});
