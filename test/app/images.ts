// Docker helpers for the sample service's lab test and size benchmark (legacy builder: the lab's Docker has no buildx).
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { variantDir, type Variant } from "./variants.js";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const appDir = resolve(repoRoot, "app");
/** A test variant of the sample service (app/ plus one patch), generated on demand. */
export const fixtureDir = (variant: Variant): string => variantDir(variant);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs docker with the given arguments; never throws on a non-zero exit (callers decide). */
export function docker(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn("docker", args, { env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (err) => reject(new Error(`cannot run docker ${args[0]}: ${err.message}`)));
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr, ms: performance.now() - started }));
    child.stdin.end(opts.input ?? "");
  });
}

/** `docker build` with the legacy builder, which resolves `FROM python:3.11-slim` against the lab's local image. */
export function buildImage(contextDir: string, tag: string, opts: { noCache?: boolean } = {}): Promise<CommandResult> {
  const flags = opts.noCache ? ["--no-cache"] : [];
  return docker(["build", "--network", "host", ...flags, "--tag", tag, contextDir], { env: { DOCKER_BUILDKIT: "0" } });
}

export async function requireLabImage(image: string): Promise<void> {
  const found = await docker(["image", "inspect", "--format", "{{.Id}}", image]);
  if (found.code !== 0) {
    throw new Error(`local image ${image} is missing: run \`npx portcullis lab up\` first (docker said: ${found.stderr.trim()})`);
  }
}

export async function imageSize(image: string): Promise<number> {
  const inspected = await docker(["image", "inspect", "--format", "{{.Size}}", image]);
  if (inspected.code !== 0) throw new Error(`cannot inspect ${image}: ${inspected.stderr.trim()}`);
  return Number(inspected.stdout.trim());
}

export const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** The last lines of a long build log, for failure messages. */
export const tail = (text: string, lines = 40): string => text.trimEnd().split("\n").slice(-lines).join("\n");
