import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../exec.js";
import { RECIPE_LABEL, recipeHash, type LabContext, type LabPart } from "./part.js";
import { buildImage, caBundleText, dockerfileText, inspectImage, megabytes, recordBuiltImage, removeBuiltImages, shortId } from "./images.js";

export const DEBIAN_IMAGE = "debian:bookworm-slim";
export const PYTHON_IMAGE = "python:3.11-slim";
export const ROOTFS_IMAGE = "portcullis-lab/debian-rootfs:bookworm";

const SUITE = "bookworm";
/** Debian mirror for debootstrap (`PORTCULLIS_LAB_DEBIAN_MIRROR` to use another). */
export function debianMirror(): string {
  return process.env.PORTCULLIS_LAB_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
}

// Bump when the rootfs trimming below changes, so cached rootfs tarballs are rebuilt.
const ROOTFS_RECIPE_VERSION = "1";

/** Trimmed like the upstream slim images: no docs, manuals or locales now, nor in later installs. */
const DPKG_SLIM = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
`;

/** deb822 sources like upstream debian:bookworm: the point release, updates and security. */
function debianSources(mirror: string): string {
  const security = mirror.replace(/\/debian\/?$/, "/debian-security");
  return `Types: deb
URIs: ${mirror}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${security}
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;
}

const APT_CLEAN = `DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
`;

function emptyDir(dir: string, keep: (name: string) => boolean = () => false): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (!keep(name)) rmSync(join(dir, name), { recursive: true, force: true });
}

function trimRootfs(root: string, mirror: string): void {
  emptyDir(join(root, "var/cache/apt/archives"), (n) => n === "partial" || n === "lock");
  emptyDir(join(root, "var/lib/apt/lists"), (n) => n === "partial" || n === "lock");
  emptyDir(join(root, "usr/share/man"));
  emptyDir(join(root, "usr/share/info"));
  emptyDir(join(root, "usr/share/locale"), (n) => n === "locale.alias");
  const doc = join(root, "usr/share/doc");
  for (const pkg of existsSync(doc) ? readdirSync(doc) : []) emptyDir(join(doc, pkg), (n) => n === "copyright");
  writeFileSync(join(root, "etc/dpkg/dpkg.cfg.d/portcullis-lab-slim"), DPKG_SLIM);
  writeFileSync(join(root, "etc/apt/apt.conf.d/docker-clean"), APT_CLEAN);
  rmSync(join(root, "etc/apt/sources.list"), { force: true });
  writeFileSync(join(root, "etc/apt/sources.list.d/debian.sources"), debianSources(mirror));
}

/** debootstrap → trimmed rootfs tarball (cached by recipe) → `docker import`. */
async function importRootfs(ctx: LabContext, key: string): Promise<void> {
  const part = "base-images";
  const log = ctx.logOf(part);
  const mirror = debianMirror();
  const tarball = join(ctx.layout.buildDir, `rootfs-${SUITE}-${key}.tar`);
  if (!existsSync(tarball)) {
    const root = join(ctx.layout.buildDir, `rootfs-${SUITE}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(ctx.layout.buildDir, { recursive: true });
    ctx.progress(part, `debootstrap --variant=minbase ${SUITE} from ${mirror}`);
    await run("debootstrap", ["--variant=minbase", SUITE, root, mirror], { part, log });
    trimRootfs(root, mirror);
    await run("tar", ["--numeric-owner", "-C", root, "-cf", `${tarball}.partial`, "."], { part, log });
    renameSync(`${tarball}.partial`, tarball);
    rmSync(root, { recursive: true, force: true });
  }
  ctx.progress(part, `docker import ${ROOTFS_IMAGE}`);
  await run("docker", ["import", "--change", `LABEL ${RECIPE_LABEL}=${key}`, "--change", 'CMD ["bash"]', tarball, ROOTFS_IMAGE], { part, log });
  recordBuiltImage(ctx, ROOTFS_IMAGE);
}

export function baseRecipes(ctx: LabContext): { rootfs: string; debian: string; python: string } {
  const rootfs = recipeHash(ROOTFS_RECIPE_VERSION, SUITE, debianMirror(), DPKG_SLIM, APT_CLEAN);
  const debian = recipeHash(rootfs, dockerfileText("debian"), caBundleText(ctx, "base-images"));
  const python = recipeHash(debian, dockerfileText("python"));
  return { rootfs, debian, python };
}

/** `debian:bookworm-slim` and `python:3.11-slim`, built locally from Debian packages. */
export const baseImagesPart: LabPart = {
  name: "base-images",
  async up(ctx) {
    const recipes = baseRecipes(ctx);
    const built: string[] = [];
    let debian = inspectImage(DEBIAN_IMAGE);
    if (debian?.recipe !== recipes.debian) {
      if (inspectImage(ROOTFS_IMAGE)?.recipe !== recipes.rootfs) await importRootfs(ctx, recipes.rootfs);
      debian = await buildImage(ctx, "base-images", {
        name: "debian",
        tag: DEBIAN_IMAGE,
        recipe: recipes.debian,
        files: { "ca-bundle.crt": caBundleText(ctx, "base-images") },
      });
      built.push(DEBIAN_IMAGE);
    }
    let python = inspectImage(PYTHON_IMAGE);
    if (python?.recipe !== recipes.python) {
      python = await buildImage(ctx, "base-images", { name: "python", tag: PYTHON_IMAGE, recipe: recipes.python, files: {} });
      built.push(PYTHON_IMAGE);
    }
    const detail = `${DEBIAN_IMAGE} ${shortId(debian.id)} (${megabytes(debian.sizeBytes)}), ${PYTHON_IMAGE} ${shortId(python.id)} (${megabytes(python.sizeBytes)})`;
    return { action: built.length === 0 ? "reused" : "built", detail: built.length === 0 ? detail : `${detail}; built ${built.join(", ")}` };
  },
  async status(ctx) {
    const recipes = baseRecipes(ctx);
    const lines: string[] = [];
    let up = true;
    for (const [ref, recipe] of [
      [DEBIAN_IMAGE, recipes.debian],
      [PYTHON_IMAGE, recipes.python],
    ] as const) {
      const info = inspectImage(ref);
      if (!info) {
        up = false;
        lines.push(`${ref} missing`);
      } else {
        const current = info.recipe === recipe;
        up &&= current;
        lines.push(`${ref} ${shortId(info.id)} ${megabytes(info.sizeBytes)}${current ? "" : " (stale recipe)"}`);
      }
    }
    return { state: up ? "up" : "down", detail: lines.join(", ") };
  },
  async down(ctx, purge) {
    if (!purge) return "images kept";
    const removed = await removeBuiltImages(ctx, "base-images", [PYTHON_IMAGE, DEBIAN_IMAGE, ROOTFS_IMAGE]);
    for (const name of existsSync(ctx.layout.buildDir) ? readdirSync(ctx.layout.buildDir) : []) {
      if (name.startsWith("rootfs-")) rmSync(join(ctx.layout.buildDir, name), { recursive: true, force: true });
    }
    return removed.length ? `removed ${removed.join(", ")}` : "no images built by this lab directory";
  },
};
