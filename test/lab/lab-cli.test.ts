import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLabLock } from "../../lab/lock.js";
import { cli, cliChild, ensureLabUp, labDir, layout, listeningAddresses, registryCredentials, sh, tempDir } from "./helpers.js";

const PARTS = ["packages", "docker", "registry", "base-images", "trivy", "trivy-db", "engine"];

/** Part lines of `lab up`: name, action, seconds. */
function partLines(stdout: string): Map<string, { action: string; seconds: number }> {
  const parts = new Map<string, { action: string; seconds: number }>();
  for (const line of stdout.split("\n")) {
    const m = line.match(/^(\S+)\s+(reused|installed|started|built|rebuilt|unavailable)\s+([\d.]+)s\s/);
    if (m) parts.set(m[1]!, { action: m[2]!, seconds: Number(m[3]) });
  }
  return parts;
}

describe("portcullis lab up / status / env / down", () => {
  beforeAll(() => {
    ensureLabUp();
  });

  it("lab up on a lab that is up reuses every part and rebuilds nothing", () => {
    const res = cli(["lab", "up"]);
    expect(res.code, res.stderr).toBe(0);
    const parts = partLines(res.stdout);
    expect([...parts.keys()]).toEqual(PARTS);
    for (const [name, p] of parts) {
      // The engine part reports "unavailable" until the engine issue's service exists.
      expect(p.action, `${name}: ${res.stdout}`).toMatch(name === "engine" ? /^(reused|unavailable)$/ : /^reused$/);
    }
    expect(res.stdout).toMatch(/lab up: ready in [\d.]+s/);
  });

  it("a second lab up waits on the lock held by another run, then succeeds", async () => {
    const release = await acquireLabLock(layout.lockFile);
    let released = false;
    try {
      const second = cliChild(["lab", "up"]);
      // It must announce the wait and not finish while the lock is held.
      const deadline = Date.now() + 60_000;
      let sawWait = false;
      second.child.stderr?.on("data", (c: Buffer) => {
        if (c.toString().includes(`waiting for the lab lock held by another lab up (pid ${process.pid})`)) sawWait = true;
      });
      while (!sawWait && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(sawWait).toBe(true);
      expect(second.child.exitCode).toBeNull();
      release();
      released = true;
      const res = await second.done;
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/lab up: ready/);
    } finally {
      if (!released) release();
    }
  });

  it("a killed lab up leaves a stale lock that does not block the next run", async () => {
    const release = await acquireLabLock(layout.lockFile);
    const victim = cliChild(["lab", "up"]);
    // Let it queue on our lock, then hand the lock over and kill it while it holds it.
    await new Promise((r) => setTimeout(r, 4_000));
    release();
    const pid = victim.child.pid!;
    const deadline = Date.now() + 60_000;
    let held = false;
    while (Date.now() < deadline) {
      if (existsSync(layout.lockFile) && readFileSync(layout.lockFile, "utf8").trim() === String(pid)) {
        held = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    victim.child.kill("SIGKILL");
    await victim.done;
    expect(held, "the victim never held the lock").toBe(true);
    expect(readFileSync(layout.lockFile, "utf8").trim()).toBe(String(pid));
    const next = cli(["lab", "up"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toMatch(/waiting for the lab lock/);
    expect(existsSync(layout.lockFile)).toBe(false);
  });

  it("lab status shows every part with its state and details", () => {
    const res = cli(["lab", "status", "--json"]);
    expect(res.code, res.stderr).toBe(0);
    const status = JSON.parse(res.stdout) as { dir: string; parts: { part: string; state: string; detail: string }[] };
    expect(status.dir).toBe(labDir);
    expect(status.parts.map((p) => p.part)).toEqual(PARTS);
    const byName = Object.fromEntries(status.parts.map((p) => [p.part, p]));
    for (const name of PARTS.filter((p) => p !== "engine")) expect(byName[name]!.state, `${name}: ${byName[name]!.detail}`).toBe("up");
    expect(byName.engine!.state).toMatch(/^(up|unavailable)$/);
    expect(byName.registry!.detail).toContain("http://127.0.0.1:5000");
    expect(byName["base-images"]!.detail).toMatch(/debian:bookworm-slim [0-9a-f]{12} .*python:3\.11-slim [0-9a-f]{12}/);
    expect(byName.trivy!.detail).toMatch(/binary v0\.74\.0, aquasec\/trivy:0\.74\.0 [0-9a-f]{12}/);
    expect(byName["trivy-db"]!.detail).toMatch(/Version 2, UpdatedAt \S+, NextUpdate \S+; 127\.0\.0\.1:5000\/trivy-db:2@sha256:/);
    const text = cli(["lab", "status"]);
    for (const name of PARTS) expect(text.stdout).toMatch(new RegExp(`^${name}\\s+(up|unavailable)\\s`, "m"));
  });

  it("lab env prints shell exports matching the credentials file, which is private", () => {
    const res = cli(["lab", "env"]);
    expect(res.code, res.stderr).toBe(0);
    const vars = Object.fromEntries(
      res.stdout
        .trim()
        .split("\n")
        .map((l) => l.match(/^export ([A-Z_]+)='(.*)'$/)!)
        .map((m) => [m[1], m[2]]),
    );
    const creds = registryCredentials();
    expect(vars.PORTCULLIS_LAB_REGISTRY).toBe("127.0.0.1:5000");
    expect(vars.PORTCULLIS_LAB_REGISTRY_USER).toBe(creds.user);
    expect(vars.PORTCULLIS_LAB_REGISTRY_PASSWORD).toBe(creds.password);
    expect(vars.PORTCULLIS_LAB_TRIVY_DB_REPOSITORY).toBe("127.0.0.1:5000/trivy-db");
    expect(statSync(layout.registryCredentials).mode & 0o777).toBe(0o600);
    if ("DAGGER_SESSION_PORT" in vars) {
      expect(vars.DAGGER_SESSION_PORT).toMatch(/^\d+$/);
      expect(vars.DAGGER_SESSION_TOKEN).toBeTruthy();
    }
  });

  it("the registry listens on 127.0.0.1 only", () => {
    const addrs = listeningAddresses(5000);
    expect(addrs.length).toBeGreaterThan(0);
    // 0100007F is 127.0.0.1 in /proc/net/tcp's byte order; nothing on 0.0.0.0 or :: .
    expect(addrs.every((a) => a === "0100007F")).toBe(true);
  });

  it("an extra --ca-bundle that does not exist stops lab up with exit 2 and one line naming part, command and log", () => {
    const res = cli(["lab", "up", "--ca-bundle", "/nonexistent/proxy-ca.pem"]);
    expect(res.code).toBe(2);
    const errorLines = res.stderr.split("\n").filter((l) => l.startsWith("portcullis lab up:"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toBe(
      `portcullis lab up: part "base-images" failed: \`read /nonexistent/proxy-ca.pem\` found no such CA bundle file (log: ${layout.logsDir}/base-images.log)`,
    );
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  describe("in a second lab directory whose registry port is taken by the first lab", () => {
    const dir = tempDir("second");
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("lab up fails at the registry part with one line, and lab status reports the partial state", () => {
      const res = cli(["lab", "up", "--dir", dir]);
      expect(res.code).toBe(2);
      expect(res.stdout).toMatch(/^docker\s+reused/m);
      expect(res.stderr.trim().split("\n").pop()).toBe(
        `portcullis lab up: part "registry" failed: \`GET http://127.0.0.1:5000/v2/\` port 5000 is taken by a registry that refuses this lab's credentials (another lab directory's?) (log: ${dir}/logs/registry.log)`,
      );
      const status = cli(["lab", "status", "--dir", dir]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^registry\s+down\s+port 5000 taken by a registry refusing this lab's credentials/m);
      expect(status.stdout).toMatch(/^trivy-db\s+down\s+no DB in/m);
    });

    it("lab down there stops nothing of the first lab", () => {
      const res = cli(["lab", "down", "--dir", dir]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^registry\s+not running/m);
      expect(res.stdout).toMatch(/^docker\s+left running \(not started by the lab\)/m);
      expect(cli(["lab", "status", "--json"]).stdout).toContain('"state": "up"');
      const first = JSON.parse(cli(["lab", "status", "--json"]).stdout) as { parts: { part: string; state: string }[] };
      expect(first.parts.find((p) => p.part === "registry")!.state).toBe("up");
    });

    it("lab down --purge there removes its own data but no image it did not build", () => {
      expect(existsSync(`${dir}/registry/credentials.env`)).toBe(true);
      const res = cli(["lab", "down", "--purge", "--dir", dir]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^base-images\s+no images built by this lab directory$/m);
      expect(res.stdout).toMatch(/^registry\s+not running, data and credentials removed$/m);
      expect(existsSync(`${dir}/registry`)).toBe(false);
      for (const ref of ["debian:bookworm-slim", "python:3.11-slim", "aquasec/trivy:0.74.0"]) {
        expect(sh("docker", ["image", "inspect", ref]).code, ref).toBe(0);
      }
    });
  });

  // Last: it restarts the registry and the engine that the other suites use.
  it("lab down stops the registry it started (data kept) and lab up brings it back with the same credentials", () => {
    const before = registryCredentials();
    const down = cli(["lab", "down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^registry\s+stopped \(pid \d+\)$/m);
    expect(listeningAddresses(5000)).toEqual([]);
    const up = cli(["lab", "up"]);
    expect(up.code, up.stderr).toBe(0);
    expect(partLines(up.stdout).get("registry")!.action).toBe("started");
    expect(partLines(up.stdout).get("trivy-db")!.action).toBe("reused");
    expect(registryCredentials()).toEqual(before);
  });
});
