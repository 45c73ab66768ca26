import { describe, expect, it } from "vitest";
import { parseDbMetadata, parseTrivy, SchemaValidationError } from "../../dagger/src/core/index.js";
import { fixture } from "./fixtures.js";

const pythonVuln = () => parseTrivy(fixture("trivy/trivy-python-vuln.json"), { filePath: "trivy-python-vuln.json" });

describe("parseTrivy on real Trivy v0.74.0 output", () => {
  it("reads the version, the artifact and every vulnerability", () => {
    const run = pythonVuln();
    expect(run).toMatchObject({ tool: "trivy", stage: "image", version: "v0.74.0", artifact: "trivy-python-vuln.tar", errors: [], notes: [] });
    expect(run.findings.map((f) => `${f.ruleId} ${f.severity} ${f.package?.name}`).sort()).toEqual([
      "CVE-2018-18074 HIGH requests",
      "CVE-2019-10906 HIGH Jinja2",
      "CVE-2019-11324 HIGH urllib3",
      "CVE-2020-14343 CRITICAL PyYAML",
      "CVE-2020-28493 MEDIUM Jinja2",
      "CVE-2023-45853 CRITICAL zlib1g",
      "CVE-2025-6020 HIGH libpam-modules",
      "CVE-2025-6020 HIGH libpam-modules-bin",
      "CVE-2025-6020 HIGH libpam-runtime",
      "CVE-2025-6020 HIGH libpam0g",
    ]);
  });

  it("keeps an OS package's source package, status and the lack of a fix (zlib1g, CRITICAL)", () => {
    const zlib = pythonVuln().findings.find((f) => f.ruleId === "CVE-2023-45853")!;
    expect(zlib).toMatchObject({
      title: "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64",
      severity: "CRITICAL",
      cwe: ["CWE-190"],
      package: {
        name: "zlib1g",
        sourceName: "zlib",
        installedVersion: "1:1.2.13.dfsg-1",
        status: "will_not_fix",
        target: "trivy-python-vuln.tar (debian 12.15)",
        targetType: "debian",
      },
    });
    expect(zlib.package!.fixedVersion).toBeUndefined();
    expect(zlib.links[0]).toBe("https://avd.aquasec.com/nvd/cve-2023-45853");
    expect(zlib.message).toBe("CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 (no fixed version)");
  });

  it("keeps a language package's fixed version and where it was found (PyYAML, CRITICAL)", () => {
    const pyyaml = pythonVuln().findings.find((f) => f.ruleId === "CVE-2020-14343")!;
    expect(pyyaml.package).toEqual({
      name: "PyYAML",
      installedVersion: "5.3.1",
      fixedVersion: "5.4",
      status: "fixed",
      path: "usr/local/lib/python3.11/dist-packages/PyYAML-5.3.1.dist-info/METADATA",
      target: "Python",
      targetType: "python-pkg",
    });
  });

  it("gives each package its own fingerprint for the same CVE", () => {
    const pam = pythonVuln().findings.filter((f) => f.ruleId === "CVE-2025-6020");
    expect(new Set(pam.map((f) => f.fingerprint)).size).toBe(4);
    expect(pam.every((f) => f.package?.sourceName === "pam")).toBe(true);
  });

  it("reads an OS-only image", () => {
    const run = parseTrivy(fixture("trivy/trivy-debian.json"), { filePath: "trivy-debian.json" });
    expect(run.findings.map((f) => f.ruleId).sort()).toEqual([
      "CVE-2023-45853",
      "CVE-2025-6020",
      "CVE-2025-6020",
      "CVE-2025-6020",
      "CVE-2025-6020",
    ]);
  });

  it("treats a report with no Results as clean, and says so", () => {
    const run = parseTrivy(fixture("trivy/trivy-empty.json"), { filePath: "trivy-empty.json" });
    expect(run.findings).toEqual([]);
    expect(run.errors).toEqual([]);
    expect(run.notes).toEqual(["Trivy detected nothing (no Results)"]);
  });

  it("accepts the older v0.5x shape: no Trivy/ReportID/CreatedAt, no PkgIdentifier, Fingerprint or package list", () => {
    // Derived from the real report by dropping what later releases added; everything else is unchanged.
    const report = JSON.parse(fixture("trivy/trivy-python-vuln.json"));
    for (const key of ["Trivy", "ReportID", "CreatedAt", "ArtifactID"]) delete report[key];
    for (const result of report.Results) {
      delete result.Packages;
      for (const vuln of result.Vulnerabilities) {
        for (const key of ["PkgIdentifier", "Fingerprint", "VendorIDs", "Status", "CweIDs", "Layer"]) delete vuln[key];
      }
    }
    const run = parseTrivy(JSON.stringify(report), { filePath: "old.json" });
    expect(run.version).toBeUndefined();
    expect(run.findings).toHaveLength(10);
    // Without the package list the source package is unknown; without Status, so is the status.
    const zlib = run.findings.find((f) => f.ruleId === "CVE-2023-45853")!;
    expect(zlib.package).toEqual({
      name: "zlib1g",
      installedVersion: "1:1.2.13.dfsg-1",
      target: "trivy-python-vuln.tar (debian 12.15)",
      targetType: "debian",
    });
    // The identity of a finding does not depend on the optional fields.
    expect(run.findings.map((f) => f.fingerprint).sort()).toEqual(pythonVuln().findings.map((f) => f.fingerprint).sort());
  });
});

describe("parseTrivy on bad input", () => {
  const bad = (text: string) => () => parseTrivy(text, { filePath: "trivy.json" });

  it("refuses a Bandit report, naming the field", () => {
    expect(bad(fixture("bandit/bandit-b104.json"))).toThrow(
      "trivy.json: not a valid Trivy JSON report: ✖ expected 2 (a Trivy JSON report, SchemaVersion 2) → at SchemaVersion",
    );
  });

  it("refuses SchemaVersion 1", () => {
    expect(bad(JSON.stringify({ SchemaVersion: 1, Results: [] }))).toThrow(/→ at SchemaVersion/);
  });

  it("names the exact wrong field deep in the report", () => {
    const report = JSON.parse(fixture("trivy/trivy-python-vuln.json"));
    report.Results[1].Vulnerabilities[2].Severity = "SEVERE";
    expect(bad(JSON.stringify(report))).toThrow(/→ at Results\[1\]\.Vulnerabilities\[2\]\.Severity/);
  });

  it("refuses truncated and empty files", () => {
    const text = fixture("trivy/trivy-python-vuln.json");
    expect(bad(text.slice(0, 5000))).toThrow(SchemaValidationError);
    expect(bad(text.slice(0, 5000))).toThrow(/^trivy\.json: not JSON \(truncated or corrupt Trivy JSON report\?\)/);
    expect(bad("")).toThrow("trivy.json: empty file, expected a Trivy JSON report");
  });
});

describe("parseDbMetadata on the lab DB's real metadata.json", () => {
  it("reads version and times", () => {
    const db = parseDbMetadata(fixture("trivy/trivy-db-metadata.json"), { filePath: "metadata.json" });
    expect(db.version).toBe(2);
    expect(Date.parse(db.updatedAt)).not.toBeNaN();
    expect(Date.parse(db.nextUpdate)).toBeGreaterThan(Date.parse(db.updatedAt));
    expect(db.downloadedAt).toBe("0001-01-01T00:00:00Z");
  });

  it("refuses metadata without UpdatedAt", () => {
    expect(() => parseDbMetadata(JSON.stringify({ Version: 2, NextUpdate: "2026-11-29T00:00:00Z" }), { filePath: "m.json" })).toThrow(
      /m\.json: not a valid Trivy DB metadata\.json: .*→ at UpdatedAt/,
    );
  });
});
