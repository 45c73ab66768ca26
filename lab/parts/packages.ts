import { existsSync } from "node:fs";
import { LabPartError, logLine, onPath, run } from "../exec.js";
import type { LabPart } from "./part.js";

/** Debian packages the lab needs, by the command each provides. */
export const HOST_PACKAGES: ReadonlyArray<{ command: string; pkg: string; file?: string }> = [
  { command: "dockerd", pkg: "docker.io" },
  { command: "docker-registry", pkg: "docker-registry" },
  { command: "skopeo", pkg: "skopeo" },
  { command: "debootstrap", pkg: "debootstrap" },
  { command: "htpasswd", pkg: "apache2-utils" },
  { command: "tar", pkg: "tar" },
  // The lab engine compiles its static exec helper (lab/engine/init.c) with these.
  { command: "gcc", pkg: "gcc" },
  { command: "gcc", pkg: "libc6-dev", file: "/usr/include/stdio.h" },
];

function missingPackages(): string[] {
  return HOST_PACKAGES.filter((p) => (p.file ? !existsSync(p.file) : !onPath(p.command))).map((p) => p.pkg);
}

/** Installs the Debian packages of the lab (docker.io, docker-registry, skopeo, debootstrap, apache2-utils, gcc, libc6-dev) when missing. */
export const packagesPart: LabPart = {
  name: "packages",
  async up(ctx) {
    const log = ctx.logOf("packages");
    const missing = missingPackages();
    if (missing.length === 0) return { action: "reused", detail: HOST_PACKAGES.map((p) => p.pkg).join(", ") + " present" };
    if (process.getuid?.() !== 0) {
      logLine(log, `missing Debian packages: ${missing.join(" ")}; installing them needs root`);
      throw new LabPartError("packages", `apt-get install ${missing.join(" ")}`, log, "needs root (run lab up as root, or install the packages)");
    }
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    ctx.progress("packages", `apt-get install ${missing.join(" ")}`);
    await run("apt-get", ["update"], { part: "packages", log, env });
    await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { part: "packages", log, env });
    // Debian's package starts its own registry on *:5000 under systemd; the lab runs its own on loopback.
    if (missing.includes("docker-registry") && onPath("systemctl")) {
      await run("systemctl", ["disable", "--now", "docker-registry"], { part: "packages", log }).catch(() => undefined);
    }
    return { action: "installed", detail: missing.join(", ") };
  },
  async status() {
    const missing = missingPackages();
    return missing.length === 0
      ? { state: "up", detail: "all present" }
      : { state: "down", detail: `missing: ${missing.join(", ")}` };
  },
};
