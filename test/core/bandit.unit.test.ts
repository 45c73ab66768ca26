import { describe, expect, it } from "vitest";
import { parseBandit, SchemaValidationError } from "../../dagger/src/core/index.js";
import { fixture } from "./fixtures.js";

describe("parseBandit on real Bandit 1.9.4 output", () => {
  it("turns every result into a finding with a normalised location, CWE and links", () => {
    const run = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "bandit-b104.json" });
    expect(run).toMatchObject({ tool: "bandit", stage: "sast", version: "1.9.4", errors: [], notes: [] });
    expect(run.findings.map((f) => `${f.ruleId} ${f.location?.path}:${f.location?.line}`)).toEqual([
      "B608 app/legacy.py:7",
      "B101 app/legacy.py:12",
      "B311 app/legacy.py:13",
      "B104 app/server.py:7",
    ]);
    const b104 = run.findings.find((f) => f.ruleId === "B104")!;
    expect(b104).toMatchObject({
      tool: "bandit",
      stage: "sast",
      title: "hardcoded_bind_all_interfaces",
      message: "Possible binding to all interfaces.",
      severity: "MEDIUM",
      confidence: "MEDIUM",
      location: { path: "app/server.py", line: 7, column: 16 },
      cwe: ["CWE-605"],
      links: [
        "https://bandit.readthedocs.io/en/1.9.4/plugins/b104_hardcoded_bind_all_interfaces.html",
        "https://cwe.mitre.org/data/definitions/605.html",
      ],
    });
    expect(b104.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps confidence apart from severity (B608 is MEDIUM severity, LOW confidence)", () => {
    const run = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "b.json" });
    expect(run.findings.find((f) => f.ruleId === "B608")).toMatchObject({ severity: "MEDIUM", confidence: "LOW" });
  });

  it("gives the same fingerprints on a second parse and different ones per finding", () => {
    const a = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "a.json" }).findings.map((f) => f.fingerprint);
    const b = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "b.json" }).findings.map((f) => f.fingerprint);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
  });

  it("reports a clean run as clean, with a note", () => {
    const run = parseBandit(fixture("bandit/bandit-clean.json"), { filePath: "clean.json" });
    expect(run.findings).toEqual([]);
    expect(run.errors).toEqual([]);
    expect(run.notes).toEqual(["Bandit reported no issues"]);
    expect(run.version).toBeUndefined();
  });

  it("turns files Bandit could not scan into errors naming the file", () => {
    const run = parseBandit(fixture("bandit/bandit-syntax-error.json"), { filePath: "se.json" });
    expect(run.errors).toEqual(["Bandit could not scan app/broken.py: syntax error while parsing AST from file"]);
    expect(run.findings.map((f) => f.ruleId)).toEqual(["B104"]);
  });

  it("accepts Bandit 1.7.4 output (no end_col_offset) with the same findings", () => {
    const old = parseBandit(fixture("bandit/bandit-1.7.4-b104.json"), { filePath: "old.json" });
    const now = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "new.json" });
    expect(old.version).toBe("1.7.4");
    expect(old.findings.map((f) => f.fingerprint)).toEqual(now.findings.map((f) => f.fingerprint));
  });
});

describe("parseBandit on bad input", () => {
  const bad = (text: string) => () => parseBandit(text, { filePath: "reports/bandit.json" });

  it("names the file for empty input", () => {
    expect(bad("  \n")).toThrow(new SchemaValidationError("reports/bandit.json: empty file, expected a Bandit JSON report", "reports/bandit.json"));
  });

  it("names the file for truncated JSON", () => {
    const text = fixture("bandit/bandit-b104.json");
    expect(bad(text.slice(0, text.length / 2))).toThrow(/^reports\/bandit\.json: not JSON \(truncated or corrupt Bandit JSON report\?\)/);
  });

  it("names the exact field that is wrong", () => {
    const report = JSON.parse(fixture("bandit/bandit-b104.json"));
    report.results[3].issue_severity = "SEVERE";
    expect(bad(JSON.stringify(report))).toThrow(/reports\/bandit\.json: not a valid Bandit JSON report: .*→ at results\[3\]\.issue_severity/);
  });

  it("refuses a Trivy report given as Bandit output", () => {
    expect(bad(JSON.stringify({ SchemaVersion: 2, ArtifactName: "x", Results: [] }))).toThrow(/→ at errors.*→ at results/);
  });

  it("is a SchemaValidationError whose message is one line", () => {
    try {
      bad("[]")();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SchemaValidationError);
      expect((error as SchemaValidationError).code).toBe("SCHEMA_VALIDATION");
      expect((error as Error).message).not.toContain("\n");
    }
  });
});
