import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LabPartError, logLine, probe, run } from "../exec.js";
import type { LabLayout } from "../paths.js";
import { recipeHash, type LabContext, type LabPart } from "./part.js";
import { baseRecipes, DEBIAN_IMAGE } from "./base-images.js";
import { buildImage, dockerfileText, inspectImage, megabytes, removeBuiltImages, shortId } from "./images.js";

export const TRIVY_VERSION = "v0.74.0";
export const TRIVY_IMAGE = "aquasec/trivy:0.74.0";
const TRIVY_MODULE = "github.com/aquasecurity/trivy/cmd/trivy";
const TRIVY_LDFLAGS = `-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION}`;

export function trivyBinary(layout: LabLayout): string {
  return join(layout.goBin, "trivy");
}

/** `Version: v0.74.0` from the binary, or undefined when absent or different. */
export function builtTrivyVersion(layout: LabLayout): string | undefined {
  const bin = trivyBinary(layout);
  if (!existsSync(bin)) return undefined;
  return probe(bin, ["--version"])?.match(/^Version:\s*(\S+)/m)?.[1];
}

/** Environment for `go`: GOBIN under the lab dir; the module proxy and build cache as configured (warm caches make rebuilds fast). */
export function goEnv(layout: LabLayout): NodeJS.ProcessEnv {
  return { ...process.env, GOBIN: layout.goBin, CGO_ENABLED: "0" };
}

/** Go ≥ 1.21 fetches the toolchain a module asks for (Trivy wants 1.26) from the module proxy. */
export function requireGo(ctx: LabContext, part: string): string {
  const version = probe("go", ["env", "GOVERSION"]);
  const log = ctx.logOf(part);
  const m = version?.match(/^go1\.(\d+)/);
  if (!version || !m) {
    logLine(log, "no `go` on the PATH");
    throw new LabPartError(part, "go env GOVERSION", log, "found no Go toolchain on the PATH (install Go >= 1.21; it fetches newer toolchains from the module proxy)");
  }
  if (Number(m[1]) < 21) {
    throw new LabPartError(part, "go env GOVERSION", log, `found ${version}; Go >= 1.21 is needed (Debian 12's golang-go 1.19 is too old)`);
  }
  return version;
}

function trivyRecipe(ctx: LabContext): string {
  return recipeHash(TRIVY_VERSION, TRIVY_LDFLAGS, dockerfileText("trivy"), baseRecipes(ctx).debian);
}

/** Trivy v0.74.0 built with `go install` into the lab's GOBIN, then the `aquasec/trivy:0.74.0` image. */
export const trivyPart: LabPart = {
  name: "trivy",
  async up(ctx) {
    const part = "trivy";
    const log = ctx.logOf(part);
    const did: string[] = [];
    if (builtTrivyVersion(ctx.layout) !== TRIVY_VERSION) {
      const go = requireGo(ctx, part);
      mkdirSync(ctx.layout.goBin, { recursive: true });
      ctx.progress(part, `go install ${TRIVY_MODULE}@${TRIVY_VERSION} (${go}; several minutes on a cold build cache)`);
      await run("go", ["install", "-ldflags", TRIVY_LDFLAGS, `${TRIVY_MODULE}@${TRIVY_VERSION}`], {
        part,
        log,
        // encoding/json/v2 is behind this experiment in Go 1.25/1.26; Trivy does not build without it.
        env: { ...goEnv(ctx.layout), GOEXPERIMENT: "jsonv2" },
      });
      const version = builtTrivyVersion(ctx.layout);
      if (version !== TRIVY_VERSION) {
        throw new LabPartError(part, `${trivyBinary(ctx.layout)} --version`, log, `reports ${version ?? "nothing"}, expected ${TRIVY_VERSION}`);
      }
      did.push("binary");
    }
    const recipe = trivyRecipe(ctx);
    let image = inspectImage(TRIVY_IMAGE);
    if (image?.recipe !== recipe || did.length > 0) {
      if (!inspectImage(DEBIAN_IMAGE)) throw new LabPartError(part, `docker image inspect ${DEBIAN_IMAGE}`, log, "found no base image (base-images part)");
      image = await buildImage(ctx, part, { name: "trivy", tag: TRIVY_IMAGE, recipe, files: { trivy: { copyFrom: trivyBinary(ctx.layout) } } });
      did.push("image");
    }
    const detail = `trivy ${TRIVY_VERSION} (${trivyBinary(ctx.layout)}), ${TRIVY_IMAGE} ${shortId(image.id)} (${megabytes(image.sizeBytes)})`;
    return { action: did.length === 0 ? "reused" : "built", detail: did.length ? `${detail}; built ${did.join(" and ")}` : detail };
  },
  async status(ctx) {
    const version = builtTrivyVersion(ctx.layout);
    const image = inspectImage(TRIVY_IMAGE);
    const current = image?.recipe === trivyRecipe(ctx);
    const detail = `binary ${version ?? "missing"}, ${TRIVY_IMAGE} ${image ? `${shortId(image.id)} ${megabytes(image.sizeBytes)}${current ? "" : " (stale recipe)"}` : "missing"}`;
    return { state: version === TRIVY_VERSION && current ? "up" : "down", detail };
  },
  async down(ctx, purge) {
    if (!purge) return "image kept";
    const removed = await removeBuiltImages(ctx, "trivy", [TRIVY_IMAGE]);
    rmSync(ctx.layout.goBin, { recursive: true, force: true });
    return `removed ${[...removed, ctx.layout.goBin].join(", ")}`;
  },
};
