import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectValidSarif } from "../core/sarif-schema.js";
import { hasStackTrace, portcullis, tempDir } from "./helpers.js";

const BANDIT = "test/fixtures/bandit";
const TRIVY = "test/fixtures/trivy";
const NOW = ["--now", "2026-11-28T12:00:00Z"];
const REPORTS = ["portcullis.sarif", "summary.md", "verdict.json", "junit.xml"];

function expectOneLineError(stderr: string, pattern: RegExp) {
  expect(hasStackTrace(stderr)).toBe(false);
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe("portcullis gate (real CLI)", () => {
  it("exits 1 on a blocking B104, prints the summary and writes all four reports", () => {
    const out = tempDir();
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-b104.json`, "--policy", "policies/default.yaml", "--out-dir", out, ...NOW]);
    expect(run.status).toBe(1);
    expect(run.stdout.split("\n")[0]).toBe("# portcullis gate: ❌ FAIL");
    expect(run.stderr.trim()).toBe("portcullis gate: FAIL: 1 blocking finding(s): B104 (MEDIUM) at app/server.py:7. 3 warning(s), 0 waived, 4 finding(s) in all.");
    for (const name of REPORTS) expect(existsSync(join(out, name))).toBe(true);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toBe(run.stdout);
    expect(JSON.parse(readFileSync(join(out, "verdict.json"), "utf8")).outcome).toBe("fail");
  });

  it("judges Bandit and Trivy together: exit 1, a valid SARIF log with a run per tool", () => {
    const out = tempDir();
    const run = portcullis([
      "gate",
      "--bandit",
      `${BANDIT}/bandit-b104.json`,
      "--trivy",
      `${TRIVY}/trivy-python-vuln.json`,
      "--trivy-db-metadata",
      `${TRIVY}/trivy-db-metadata.json`,
      "--policy",
      "policies/default.yaml",
      "--image-location",
      "app/Dockerfile",
      "--out-dir",
      out,
      "--now",
      "2026-11-29T12:00:00Z",
      "-q",
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^portcullis gate: FAIL: 3 blocking finding\(s\): B104 \(MEDIUM\) at app\/server\.py:7; CVE-2020-14343/);
    const log = expectValidSarif(readFileSync(join(out, "portcullis.sarif"), "utf8"));
    expect(log.runs.map((r) => r.results!.length)).toEqual([4, 10]);
    const verdict = JSON.parse(readFileSync(join(out, "verdict.json"), "utf8"));
    expect(verdict.tools.map((t: { tool: string; version?: string }) => `${t.tool} ${t.version}`)).toEqual(["bandit 1.9.4", "trivy v0.74.0"]);
    expect(verdict.db).toMatchObject({ known: true, ageDays: 0, stale: false });
  });

  it("exits 0 for an image in which Trivy detected nothing", () => {
    const run = portcullis(["gate", "--trivy", `${TRIVY}/trivy-empty.json`]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("- Trivy detected nothing (no Results)");
  });

  it("exits 0 on a clean run; --quiet prints nothing", () => {
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--quiet", ...NOW]);
    expect(run).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });

  it("writes each report where asked", () => {
    const out = tempDir();
    const files = { sarif: "a/x.sarif", markdown: "b/x.md", json: "c/x.json", junit: "d/x.xml" };
    const run = portcullis([
      "gate",
      "--bandit",
      `${BANDIT}/bandit-clean.json`,
      "-q",
      ...Object.entries(files).flatMap(([flag, path]) => [`--${flag}`, join(out, path)]),
      ...NOW,
    ]);
    expect(run.status).toBe(0);
    for (const path of Object.values(files)) expect(existsSync(join(out, path))).toBe(true);
  });

  it("exits 2 when Bandit could not scan a file, and still writes the reports", () => {
    const out = tempDir();
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-syntax-error.json`, "--out-dir", out, "-q", ...NOW]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Bandit could not scan app/broken.py");
    expect(JSON.parse(readFileSync(join(out, "verdict.json"), "utf8")).outcome).toBe("error");
  });

  it("gives byte-identical reports for the same input", () => {
    const [a, b] = [tempDir(), tempDir()];
    for (const out of [a, b]) portcullis(["gate", "--bandit", `${BANDIT}/bandit-b104.json`, "--out-dir", out, "-q", ...NOW]);
    for (const name of REPORTS) expect(readFileSync(join(b, name))).toEqual(readFileSync(join(a, name)));
  });
});

describe("portcullis gate on bad input: one line, exit 2, never a stack trace", () => {
  const dir = tempDir();
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it("a missing file (reports still written, outcome error)", () => {
    const out = tempDir();
    const run = portcullis(["gate", "--bandit", join(dir, "nope.json"), "--out-dir", out, "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /^portcullis gate: --bandit .*nope\.json: no such file$/);
    expect(JSON.parse(readFileSync(join(out, "verdict.json"), "utf8")).errors[0]).toMatch(/nope\.json: no such file$/);
  });

  it("an empty file", () => {
    const run = portcullis(["gate", "--trivy", write("empty.json", ""), "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /^portcullis gate: --trivy .*empty\.json: empty file$/);
  });

  it("a truncated file", () => {
    const text = readFileSync(`${BANDIT}/bandit-b104.json`, "utf8");
    const run = portcullis(["gate", "--bandit", write("cut.json", text.slice(0, 700)), "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /cut\.json: not JSON \(truncated or corrupt Bandit JSON report\?\)/);
  });

  it("a Bandit report passed as --trivy", () => {
    const run = portcullis(["gate", "--trivy", `${BANDIT}/bandit-b104.json`, "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /bandit-b104\.json: not a valid Trivy JSON report: .*SchemaVersion/);
  });

  it("a 200 MB report is refused without reading it", () => {
    const big = join(dir, "big.json");
    writeFileSync(big, "");
    truncateSync(big, 200 * 1024 * 1024); // sparse: takes no disk
    const run = portcullis(["gate", "--bandit", big, "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /big\.json: 200\.0 MB is over the 100 MB limit for a report$/);
  });

  it("no scanner input at all", () => {
    const run = portcullis(["gate", "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /^portcullis gate: nothing to judge/);
  });

  it("a broken policy names file, line and field", () => {
    const policy = write("policy.yaml", "version: 1\nimage:\n  failOn: SEVERE\n");
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--policy", policy, "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /policy\.yaml:3 image\.failOn: Invalid option/);
  });

  it("a bad --now", () => {
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--now", "soon", "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /^portcullis gate: --now soon: not an ISO date/);
  });

  it("an unknown option is a usage error (2), not a failing gate (1)", () => {
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--bogus"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Unknown argument: bogus");
  });
});

describe("portcullis gate --trivy-db-metadata", () => {
  const dir = tempDir();
  const metadata = join(dir, "metadata.json");
  writeFileSync(
    metadata,
    JSON.stringify({ Version: 2, NextUpdate: "2026-11-21T06:00:00Z", UpdatedAt: "2026-11-20T06:00:00Z", DownloadedAt: "2026-11-20T07:00:00Z" }),
  );

  it("a DB older than maxDbAgeDays is an error; its date is in the reports", () => {
    const out = tempDir();
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--trivy-db-metadata", metadata, "--out-dir", out, "-q", ...NOW]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Trivy vulnerability DB is stale: updated 2026-11-20T06:00:00Z, 8 day\(s\) old/);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toContain("Trivy DB: updated 2026-11-20T06:00:00Z, 8 day(s) old");
  });

  it("a fresh DB passes", () => {
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--trivy-db-metadata", metadata, "--now", "2026-11-22T00:00:00Z"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("- Trivy DB: updated 2026-11-20T06:00:00Z, 1 day(s) old (policy allows 7)");
  });

  it("unreadable metadata is an error", () => {
    const run = portcullis(["gate", "--bandit", `${BANDIT}/bandit-clean.json`, "--trivy-db-metadata", `${BANDIT}/bandit-clean.json`, "-q"]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /^portcullis gate: --trivy-db-metadata .*not a valid Trivy DB metadata\.json: .*Version/);
  });
});

describe("portcullis policy validate (real CLI)", () => {
  it("exits 0 for the shipped policies", () => {
    for (const file of ["policies/default.yaml", "policies/strict.yaml"]) {
      const run = portcullis(["policy", "validate", file]);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^${file}: valid policy`));
    }
  });

  it("exits 2 with file:line field: problem", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "p.yaml"), "version: 1\nwaivers:\n  - id: B104\n    owner: me\n    expires: 2027-01-01\n");
    const run = portcullis(["policy", "validate", join(dir, "p.yaml")]);
    expect(run.status).toBe(2);
    expectOneLineError(run.stderr, /^portcullis policy: .*p\.yaml:3 waivers\[0\]\.reason: is required$/);
  });
});
