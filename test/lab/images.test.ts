import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureLabUp, must, sh } from "./helpers.js";

const run = (image: string, script: string) => sh("docker", ["run", "--rm", image, "sh", "-c", script]);

describe("lab images built from Debian packages", () => {
  beforeAll(() => {
    ensureLabUp();
  });

  it("python:3.11-slim runs python 3.11 with python, pip and useradd on the PATH and no PEP 668 marker", () => {
    const res = sh("docker", ["run", "--rm", "python:3.11-slim", "python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe("3.11");
    const tools = run("python:3.11-slim", "for c in python pip useradd; do command -v $c; done; pip --version; test -e /usr/lib/python3.11/EXTERNALLY-MANAGED && echo pep668-marker-present || echo pep668-marker-absent");
    expect(tools.stdout).toMatch(/\/python\n/);
    expect(tools.stdout).toMatch(/\/pip\n/);
    expect(tools.stdout).toMatch(/\/useradd\n/);
    expect(tools.stdout).toMatch(/^pip \d+\.\d+.* \(python 3\.11\)$/m);
    expect(tools.stdout).toContain("pep668-marker-absent");
  });

  it("pip install works inside python:3.11-slim (PyPI through the host CA bundle), system-wide and in a venv", () => {
    const res = run(
      "python:3.11-slim",
      "set -e; pip install --no-cache-dir --disable-pip-version-check -q six==1.16.0; python -c 'import six; print(\"system\", six.__version__)'; " +
        "python -m venv /tmp/venv; /tmp/venv/bin/pip install --no-cache-dir --disable-pip-version-check -q six==1.17.0; /tmp/venv/bin/python -c 'import six; print(\"venv\", six.__version__)'",
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("system 1.16.0");
    expect(res.stdout).toContain("venv 1.17.0");
  });

  it("debian:bookworm-slim trusts the host CA bundle and keeps it through update-ca-certificates", () => {
    const hostDigest = createHash("sha256").update(readFileSync("/etc/ssl/certs/ca-certificates.crt")).digest("hex");
    const res = run("debian:bookworm-slim", "sha256sum /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/portcullis-lab-ca-bundle.crt");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split("\n").filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual([hostDigest, hostDigest]);
    // The python image installed ca-certificates, which regenerated the bundle: the host's certificates must still be in it.
    const firstHostCert = readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8").match(/-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64})/)![1]!;
    const inPython = run("python:3.11-slim", `grep -c '${firstHostCert}' /etc/ssl/certs/ca-certificates.crt`);
    expect(Number(inPython.stdout.trim())).toBeGreaterThan(0);
  });

  it("debian:bookworm-slim is not upgraded (zlib1g carries CVE-2023-45853) but has bookworm-security in its apt sources", () => {
    const res = run("debian:bookworm-slim", "dpkg-query -W -f '${Version}' zlib1g; echo; cat /etc/apt/sources.list.d/debian.sources");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split("\n")[0]).toBe("1:1.2.13.dfsg-1");
    expect(res.stdout).toMatch(/^Suites: bookworm-security$/m);
    expect(res.stdout).toMatch(/^Suites: bookworm bookworm-updates$/m);
  });

  it("aquasec/trivy:0.74.0 has trivy as entrypoint and reports version v0.74.0", () => {
    const res = sh("docker", ["run", "--rm", "aquasec/trivy:0.74.0", "--version"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Version: v0\.74\.0$/m);
    const entrypoint = must("docker", ["image", "inspect", "--format", "{{json .Config.Entrypoint}}", "aquasec/trivy:0.74.0"]).trim();
    expect(JSON.parse(entrypoint)).toEqual(["trivy"]);
  });
});
