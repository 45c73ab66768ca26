import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLabUp, layout, must, REPO_ROOT, registryCredentials, sh, tempDir } from "./helpers.js";

const FIXTURES = join(REPO_ROOT, "test", "lab", "fixtures");
const IMAGES = { vulnerable: "portcullis-labtest/vulnerable-python:lab", patched: "portcullis-labtest/patched-debian:lab" };

interface TrivyVuln {
  VulnerabilityID: string;
  PkgName: string;
  InstalledVersion: string;
  FixedVersion?: string;
  Status?: string;
  Severity: string;
  SeveritySource?: string;
}
interface TrivyReport {
  Trivy?: { Version?: string };
  Results?: { Target: string; Class: string; Vulnerabilities?: TrivyVuln[] }[];
}

const work = tempDir("scan");

/** Trivy in its lab image, host network (the registry is on loopback), the work dir mounted. */
function trivy(args: string[], env: Record<string, string> = {}) {
  // `-e NAME` passes the value from our environment, so the password is never on a command line.
  const envArgs = Object.keys(env).flatMap((k) => ["-e", k]);
  return sh("docker", ["run", "--rm", "--network", "host", ...envArgs, "-v", `${work}:/work`, "aquasec/trivy:0.74.0", ...args], {
    env: { ...process.env, ...env },
  });
}

const SCAN_FLAGS = ["--skip-java-db-update", "--skip-version-check", "--disable-telemetry", "--scanners", "vuln", "--format", "json"];

function findings(report: TrivyReport): string[] {
  return (report.Results ?? [])
    .flatMap((r) => r.Vulnerabilities ?? [])
    .map((v) => `${v.PkgName} ${v.InstalledVersion} ${v.VulnerabilityID} ${v.Severity} ${v.FixedVersion ? `fixed ${v.FixedVersion}` : `no fix (${v.Status})`}`)
    .sort();
}

const PAM_FIXED = "1.5.2-6+deb12u3";
const PERL_FIXED = "5.36.0-7+deb12u4";

/** The base image's version of a Debian package, and whether it predates bookworm-security's fix. */
function inBase(pkg: string, fixed: string): { version: string; vulnerable: boolean } {
  const version = must("docker", ["run", "--rm", "debian:bookworm-slim", "dpkg-query", "-W", "-f", "${Version}", pkg]).trim();
  const cmp = sh("docker", ["run", "--rm", "debian:bookworm-slim", "dpkg", "--compare-versions", version, "lt", fixed]);
  return { version, vulnerable: cmp.code === 0 };
}
const pamInBase = () => inBase("libpam0g", PAM_FIXED);
const perlInBase = () => inBase("perl-base", PERL_FIXED);

function credsEnv(password?: string): Record<string, string> {
  const creds = registryCredentials();
  return { TRIVY_USERNAME: creds.user, TRIVY_PASSWORD: password ?? creds.password };
}

describe("the lab's Trivy DB, pulled from the lab registry by Trivy in its image", () => {
  beforeAll(() => {
    ensureLabUp();
    for (const [name, tag] of [
      ["vulnerable-python", IMAGES.vulnerable],
      ["patched-debian", IMAGES.patched],
    ] as const) {
      must("docker", ["build", "-q", "-t", tag, join(FIXTURES, name)], { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
      must("docker", ["save", "-o", join(work, `${name}.tar`), tag]);
    }
    must("docker", ["save", "-o", join(work, "debian.tar"), "debian:bookworm-slim"]);
  });

  afterAll(() => {
    sh("docker", ["image", "rm", IMAGES.vulnerable, IMAGES.patched]);
    // Trivy ran as root in the container: remove its files through a container too.
    sh("docker", ["run", "--rm", "-v", `${work}:/work`, "--entrypoint", "sh", "aquasec/trivy:0.74.0", "-c", "rm -rf /work/*"]);
    rmSync(work, { recursive: true, force: true });
  });

  it("downloads the DB with --db-repository and reports the zlib CRITICAL without a fix and the Python findings with fixes", () => {
    const res = trivy(
      ["image", "--input", "/work/vulnerable-python.tar", "--cache-dir", "/work/cache-vulnerable", "--db-repository", "127.0.0.1:5000/trivy-db", ...SCAN_FLAGS, "--output", "/work/vulnerable.json"],
      credsEnv(),
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/Artifact successfully downloaded\s+repo="127\.0\.0\.1:5000\/trivy-db:2"/);
    const report = JSON.parse(readFileSync(join(work, "vulnerable.json"), "utf8")) as TrivyReport;
    expect(report.Trivy?.Version).toBe("v0.74.0");
    // pam's finding is expected while the base's pam predates bookworm-security's fix (a later point release may carry it).
    const pam = pamInBase();
    const pamLines = pam.vulnerable
      ? ["libpam-modules", "libpam-modules-bin", "libpam-runtime", "libpam0g"].map((p) => `${p} ${pam.version} CVE-2025-6020 HIGH fixed ${PAM_FIXED}`)
      : [];
    const perl = perlInBase();
    const perlLines = perl.vulnerable ? [`perl-base ${perl.version} CVE-2026-42496 CRITICAL fixed ${PERL_FIXED}`] : [];
    expect(findings(report)).toEqual(
      [
        "zlib1g 1:1.2.13.dfsg-1 CVE-2023-45853 CRITICAL no fix (will_not_fix)",
        ...pamLines,
        ...perlLines,
        "PyYAML 5.3.1 CVE-2020-14343 CRITICAL fixed 5.4",
        "Jinja2 2.10 CVE-2019-10906 HIGH fixed 2.10.1",
        "Jinja2 2.10 CVE-2020-28493 MEDIUM fixed 2.11.3",
        "requests 2.19.1 CVE-2018-18074 HIGH fixed 2.20.0",
        "urllib3 1.23 CVE-2019-11324 HIGH fixed 1.24.2",
        "Werkzeug 0.15.2 CVE-2019-14806 HIGH fixed 0.15.3",
      ].sort(),
    );
    // Severities come from the NVD scores in the DB (no vendor severity is stored).
    const all = (report.Results ?? []).flatMap((r) => r.Vulnerabilities ?? []);
    expect(new Set(all.map((v) => v.SeveritySource))).toEqual(new Set(["nvd"]));
  });

  it("refuses to download the DB with a wrong registry password", () => {
    const res = trivy(
      ["image", "--input", "/work/debian.tar", "--cache-dir", "/work/cache-wrong", "--db-repository", "127.0.0.1:5000/trivy-db", ...SCAN_FLAGS],
      credsEnv("not-the-password"),
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/UNAUTHORIZED|unauthorized|401/);
  });

  it("scans offline from the exported DB directory (--skip-db-update), and a patched base image has fewer findings", () => {
    // A copy: Trivy writes its scan cache next to the DB.
    mkdirSync(join(work, "offline"), { recursive: true });
    cpSync(layout.trivyDbDir, join(work, "offline", "db"), { recursive: true });
    const scan = (tar: string) => {
      const res = trivy(["image", "--input", `/work/${tar}`, "--cache-dir", "/work/offline", "--skip-db-update", "--offline-scan", ...SCAN_FLAGS]);
      expect(res.code, res.stderr).toBe(0);
      return findings(JSON.parse(res.stdout) as TrivyReport);
    };
    const unpatched = scan("debian.tar");
    const patched = scan("patched-debian.tar");
    expect(unpatched).toContain("zlib1g 1:1.2.13.dfsg-1 CVE-2023-45853 CRITICAL no fix (will_not_fix)");
    expect(unpatched.filter((f) => f.includes("CVE-2025-6020"))).toHaveLength(pamInBase().vulnerable ? 4 : 0);
    expect(unpatched.filter((f) => f.includes("CVE-2026-42496"))).toHaveLength(perlInBase().vulnerable ? 1 : 0);
    // The upgrade takes every Debian fix (pam's and perl's from bookworm-security); the zlib finding has no fix and stays.
    expect(patched).toEqual(["zlib1g 1:1.2.13.dfsg-1 CVE-2023-45853 CRITICAL no fix (will_not_fix)"]);
    if (pamInBase().vulnerable || perlInBase().vulnerable) expect(patched.length).toBeLessThan(unpatched.length);
  });

  it("keeps metadata.json at schema Version 2 with UpdatedAt in the past and NextUpdate in the future", () => {
    const meta = JSON.parse(readFileSync(join(layout.trivyDbDir, "metadata.json"), "utf8")) as { Version: number; UpdatedAt: string; NextUpdate: string };
    expect(meta.Version).toBe(2);
    expect(Date.parse(meta.UpdatedAt)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(meta.NextUpdate)).toBeGreaterThan(Date.now());
  });

  it("every advisory in the data file cites its sources and a CVE id, with an NVD score matching its severity", () => {
    const data = parse(readFileSync(join(REPO_ROOT, "lab", "trivy-db", "advisories.yaml"), "utf8")) as {
      vulnerabilities: { id: string; sources: string[]; nvd: { score: number; severity: string }; affects: unknown[] }[];
    };
    expect(data.vulnerabilities.length).toBeGreaterThanOrEqual(8);
    for (const v of data.vulnerabilities) {
      expect(v.id).toMatch(/^CVE-\d{4}-\d{4,}$/);
      expect(v.sources.length, v.id).toBeGreaterThan(0);
      expect(v.sources.join(" "), v.id).toMatch(/https:\/\//);
      expect(v.affects.length, v.id).toBeGreaterThan(0);
      // CVSS v3 qualitative rating scale.
      const s = v.nvd.score;
      const rating = s >= 9 ? "CRITICAL" : s >= 7 ? "HIGH" : s >= 4 ? "MEDIUM" : s > 0 ? "LOW" : "NONE";
      expect(v.nvd.severity, v.id).toBe(rating);
    }
  });
});
