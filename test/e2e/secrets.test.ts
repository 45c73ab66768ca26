// Story 5: the registry password (also the lab DB mirror's password) never appears in any output,
// report, log or image layer. This story makes its own runs — a publish with the password, a DB pull
// with it — and then greps everything it can reach: CLI output and reports of every e2e run in this
// process, the lab's and the engine's logs, every local image's config and history, and every layer of
// the image it published.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  ARTIFACTS, ROOT, dbArgs, labEnv, labRun, nonce, outDir, parseReference, policyFrom, publishArgs, publishedReference,
  pullBlob, pullManifest, runEnv,
} from "./helpers.js";

/** Every regular file under `dir` (skipping anything over 50 MB: the DB and image tarballs are checked by other means). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(full));
    else if (entry.isFile() && statSync(full).size < 50_000_000) files.push(full);
  }
  return files;
}

function labDir(): string {
  if (process.env.PORTCULLIS_LAB_DIR) return process.env.PORTCULLIS_LAB_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(process.env.HOME ?? "/root", ".cache");
  return path.join(cache, "portcullis", "lab");
}

describe("story 5: the registry password leaks nowhere", () => {
  it("is absent from outputs, reports, logs, image configs and histories, and the published layers", async () => {
    const env = await labEnv();
    const password = env.PORTCULLIS_LAB_REGISTRY_PASSWORD!;
    expect(password.length).toBeGreaterThanOrEqual(12);

    const out = outDir("secrets");
    const repository = "portcullis-e2e/secrets";
    const result = await labRun(
      ["--source", path.join(ROOT, "app"), "--policy", policyFrom("app-waiver.yaml", 30), "--out", out, ...(await dbArgs()), ...(await publishArgs(`127.0.0.1:5000/${repository}:${nonce()}`))],
      { env: await runEnv() },
    );
    expect(result.code, result.stderr).toBe(0);
    const ref = publishedReference(result.stdout);
    expect(ref).toBeDefined();

    const haystacks: Array<{ where: string; text: string }> = [];
    // CLI output and reports of every e2e run in this process.
    for (const file of filesUnder(ARTIFACTS)) haystacks.push({ where: file, text: readFileSync(file, "latin1") });
    // The lab's logs and the engine's log (every executed step is logged there).
    const logs = [...filesUnder(path.join(labDir(), "logs")), ...filesUnder(path.join(labDir(), "engine"))].filter((f) => /\.(log|json|txt)$/.test(f));
    expect(logs.some((f) => f.endsWith("engine.log"))).toBe(true);
    for (const file of logs) haystacks.push({ where: file, text: readFileSync(file, "latin1") });
    // Every local image: its config (env, labels, cmd) and its history (the commands that made each layer).
    const images = execFileSync("docker", ["image", "ls", "-q", "--no-trunc"], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(images.length).toBeGreaterThan(0);
    for (const id of new Set(images)) {
      haystacks.push({ where: `docker image inspect ${id}`, text: execFileSync("docker", ["image", "inspect", id], { encoding: "utf8" }) });
      haystacks.push({ where: `docker history ${id}`, text: execFileSync("docker", ["history", "--no-trunc", id], { encoding: "utf8" }) });
    }
    // Every layer and the config of the published image, pulled back by digest.
    const { repository: repo, digest } = parseReference(ref!);
    const manifest = await pullManifest(repo, digest);
    haystacks.push({ where: `${ref} config`, text: (await pullBlob(repo, manifest.config.digest)).toString("latin1") });
    for (const layer of manifest.layers) {
      const blob = await pullBlob(repo, layer.digest);
      const bytes = layer.mediaType.includes("gzip") ? gunzipSync(blob) : blob;
      haystacks.push({ where: `${ref} layer ${layer.digest}`, text: bytes.toString("latin1") });
    }

    const leaks = haystacks.filter((h) => h.text.includes(password)).map((h) => h.where);
    console.log(`story 5: searched ${haystacks.length} outputs, logs, image records and layers for the password`);
    expect(leaks).toEqual([]);
  });
});
