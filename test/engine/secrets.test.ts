import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecError } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labLayout, resolveLabDir } from "../../lab/paths.js";
import { BASE, docker, removeLab, requireImage, startEngine, withClient, type TestEngine } from "./helpers.js";

// The secret-leak test: a secret's plaintext reaches the process that uses it and nothing else.
let engine: TestEngine;
let out: string;
const PLAINTEXT = `lab-secret-${randomBytes(12).toString("hex")}`;

beforeAll(async () => {
  requireImage(BASE);
  engine = await startEngine();
  out = mkdtempSync(join(tmpdir(), "engine-secrets-"));
});

afterAll(async () => {
  await engine.stop();
  removeLab(engine.labDir);
  rmSync(out, { recursive: true, force: true });
});

/** Every file under dir whose bytes contain the plaintext. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

describe("secrets", () => {
  it("reach the exec (variable and mounted file) but no ID, log, image layer, image config, history, tarball or error text", async () => {
    const registry = labLayout(resolveLabDir()).registryCredentials;
    if (!existsSync(registry)) throw new Error(`${registry} is missing: run \`npx portcullis lab up\` first`);
    const reg = Object.fromEntries(readFileSync(registry, "utf8").split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

    const r = await withClient(async (c) => {
      const secret = c.setSecret("api-token", PLAINTEXT);
      const ctr = c.container().from(BASE)
        .withSecretVariable("API_TOKEN", secret)
        .withMountedSecret("/run/secrets/api-token", secret)
        .withExec(["sh", "-c", 'echo "token=$API_TOKEN"; printf %s "$API_TOKEN" | sha256sum; sha256sum < /run/secrets/api-token; echo done > /marker']);
      const failing = ctr.withExec(["sh", "-c", 'echo "stdout $API_TOKEN"; echo "stderr $API_TOKEN" >&2; exit 9']);
      const execError = await failing.sync().catch((e: unknown) => e);
      const tarball = join(out, "with-secret.tar");
      await ctr.export(tarball);
      const pushed = await ctr.withRegistryAuth(reg.PORTCULLIS_LAB_REGISTRY, reg.PORTCULLIS_LAB_REGISTRY_USER, c.setSecret("reg", reg.PORTCULLIS_LAB_REGISTRY_PASSWORD))
        .publish(`${reg.PORTCULLIS_LAB_REGISTRY}/engine-test/secret:${Date.now()}`);
      return { stdout: await ctr.stdout(), ids: [await ctr.id(), await secret.id(), await failing.id()], execError, tarball, pushed };
    });

    // The value did reach the process, through both routes, and Dagger-style masking hid it in the output.
    const sha = createHash("sha256").update(PLAINTEXT).digest("hex");
    expect(r.stdout).toBe(`token=***\n${sha}  -\n${sha}  -\n`);

    // Error texts.
    expect(r.execError).toBeInstanceOf(ExecError);
    const err = r.execError as ExecError;
    expect(err.exitCode).toBe(9);
    for (const text of [err.message, err.stdout, err.stderr, JSON.stringify(err.extensions)]) expect(text).not.toContain(PLAINTEXT);
    expect(err.stdout).toBe("stdout ***\n");

    // IDs and the published reference.
    for (const id of [...r.ids, r.pushed]) expect(id).not.toContain(PLAINTEXT);

    // The engine's log and everything it stored (snapshots, step records, tarballs).
    expect(engine.log()).not.toBe("");
    expect(engine.log()).not.toContain(PLAINTEXT);
    expect(filesContaining(engine.labDir, PLAINTEXT)).toEqual([]);
    expect(readFileSync(r.tarball).includes(PLAINTEXT)).toBe(false);
    expect(execFileSync("tar", ["-xOf", r.tarball], { maxBuffer: 512 * 1024 * 1024 }).includes(PLAINTEXT)).toBe(false);

    // Every image the engine committed: config (docker image inspect), history, and layer contents.
    const images = readdirSync(join(engine.labDir, "engine", "cache")).map((f) => JSON.parse(readFileSync(join(engine.labDir, "engine", "cache", f), "utf8")) as { image?: string })
      .map((rec) => rec.image).filter((i): i is string => Boolean(i));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(docker("image", "inspect", image)).not.toContain(PLAINTEXT);
      expect(docker("history", "--no-trunc", image)).not.toContain(PLAINTEXT);
      const save = join(out, "save.tar");
      docker("save", "-o", save, image);
      expect(execFileSync("tar", ["-xOf", save], { maxBuffer: 512 * 1024 * 1024 }).includes(PLAINTEXT)).toBe(false);
      rmSync(save);
    }

    // Nothing left on the tmpfs the values passed through.
    expect(readdirSync("/dev/shm").filter((n) => n.startsWith("portcullis-lab-")).flatMap((n) => filesContaining(join("/dev/shm", n), PLAINTEXT))).toEqual([]);
  });
});
