import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LabPartError, logLine, probe, run } from "../exec.js";
import { LAB_SOURCE_DIR } from "../paths.js";
import { RECIPE_LABEL, type LabContext } from "./part.js";

/** The CA bundle every lab image trusts. */
export const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** The host's CA bundle plus the optional `--ca-bundle` file, as one PEM text. */
export function caBundleText(ctx: LabContext, part: string): string {
  const files = [HOST_CA_BUNDLE, ...(ctx.options.caBundle ? [ctx.options.caBundle] : [])];
  return files
    .map((file) => {
      if (!existsSync(file)) {
        logLine(ctx.logOf(part), `CA bundle ${file} not found`);
        throw new LabPartError(part, `read ${file}`, ctx.logOf(part), "found no such CA bundle file");
      }
      const text = readFileSync(file, "utf8");
      if (!text.includes("-----BEGIN CERTIFICATE-----")) {
        throw new LabPartError(part, `read ${file}`, ctx.logOf(part), "found no PEM certificate in it");
      }
      return text.endsWith("\n") ? text : text + "\n";
    })
    .join("");
}

/** The Dockerfile of a lab image, as kept in the repository (lab/images/<name>/Dockerfile). */
export function dockerfileText(name: string): string {
  return readFileSync(join(LAB_SOURCE_DIR, "images", name, "Dockerfile"), "utf8");
}

export interface ImageInfo {
  id: string;
  recipe: string;
  sizeBytes: number;
}

/** Id, recipe label and size of a local image; undefined when absent. */
export function inspectImage(ref: string): ImageInfo | undefined {
  const out = probe("docker", ["image", "inspect", "--format", `{{.Id}}|{{index .Config.Labels "${RECIPE_LABEL}"}}|{{.Size}}`, ref]);
  if (!out) return undefined;
  const [id, recipe, size] = out.split("|");
  return { id: id ?? "", recipe: recipe === "<no value>" ? "" : (recipe ?? ""), sizeBytes: Number(size) };
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

const builtFile = (ctx: LabContext) => join(ctx.layout.dir, "built-images.json");

/** The images this lab directory built, by reference and id: `lab down --purge` removes only these. */
export function builtImages(ctx: LabContext): Record<string, string> {
  try {
    return JSON.parse(readFileSync(builtFile(ctx), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

export function recordBuiltImage(ctx: LabContext, ref: string): void {
  const info = inspectImage(ref);
  if (!info) return;
  writeFileSync(builtFile(ctx), JSON.stringify({ ...builtImages(ctx), [ref]: info.id }, null, 2) + "\n");
}

/** Removes the images this lab built that still carry the id it built (one rebuilt elsewhere is not ours). */
export async function removeBuiltImages(ctx: LabContext, part: string, refs: readonly string[]): Promise<string[]> {
  const built = builtImages(ctx);
  const removed: string[] = [];
  for (const ref of refs) {
    if (built[ref] && inspectImage(ref)?.id === built[ref]) {
      await run("docker", ["image", "rm", ref], { part, log: ctx.logOf(part) });
      removed.push(ref);
    }
    delete built[ref];
  }
  writeFileSync(builtFile(ctx), JSON.stringify(built, null, 2) + "\n");
  return removed;
}

/**
 * Builds an image with the legacy builder (Docker 20.10 from Debian has no buildx; it resolves FROM
 * against local images), from a staged context holding the repository Dockerfile and extra files.
 */
export async function buildImage(
  ctx: LabContext,
  part: string,
  opts: { name: string; tag: string; recipe: string; files: Record<string, string | { copyFrom: string }> },
): Promise<ImageInfo> {
  const context = join(ctx.layout.buildDir, "context", opts.name);
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, "Dockerfile"), dockerfileText(opts.name));
  for (const [file, content] of Object.entries(opts.files)) {
    if (typeof content === "string") writeFileSync(join(context, file), content);
    else copyFileSync(content.copyFrom, join(context, file));
  }
  ctx.progress(part, `docker build -t ${opts.tag}`);
  await run("docker", ["build", "--pull=false", "--label", `${RECIPE_LABEL}=${opts.recipe}`, "-t", opts.tag, context], {
    part,
    log: ctx.logOf(part),
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
  });
  rmSync(context, { recursive: true, force: true });
  recordBuiltImage(ctx, opts.tag);
  const info = inspectImage(opts.tag);
  if (!info || info.recipe !== opts.recipe) {
    throw new LabPartError(part, `docker image inspect ${opts.tag}`, ctx.logOf(part), "does not show the image just built");
  }
  return info;
}
