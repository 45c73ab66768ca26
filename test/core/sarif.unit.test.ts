import { describe, expect, it } from "vitest";
import {
  evaluate,
  parseBandit,
  parsePolicy,
  renderSarif,
  toolFailure,
  cweTag,
  levelOf,
  type Verdict,
  type JudgedFinding,
} from "../../dagger/src/core/index.js";
import { fixture, mixedVerdict } from "./fixtures.js";
import { expectValidSarif, validateSarif } from "./sarif-schema.js";

const NOW = new Date("2026-11-28T12:00:00Z");

function b104Verdict(policyYaml = "version: 1\n"): Verdict {
  const run = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "bandit.json" });
  return evaluate({ runs: [run], policy: parsePolicy(policyYaml, { filePath: "p.yaml" }), now: NOW });
}

describe("SARIF report (Bandit)", () => {
  it("validates against the SARIF 2.1.0 schema", () => {
    expectValidSarif(renderSarif(b104Verdict()));
  });

  it("the schema check can fail: a result without a message is refused", () => {
    const log = JSON.parse(renderSarif(b104Verdict()));
    delete log.runs[0].results[0].message;
    expect(validateSarif(log)).toBe(false);
  });

  it("has one run per tool, rules with help URIs, CWE tags and security-severity", () => {
    const log = expectValidSarif(renderSarif(b104Verdict()));
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0]!;
    expect(run.tool.driver).toMatchObject({ name: "Bandit", version: "1.9.4" });
    const rule = run.tool.driver.rules!.find((r) => r.id === "B104")!;
    expect(rule).toEqual({
      id: "B104",
      name: "hardcoded_bind_all_interfaces",
      shortDescription: { text: "B104 hardcoded_bind_all_interfaces" },
      helpUri: "https://bandit.readthedocs.io/en/1.9.4/plugins/b104_hardcoded_bind_all_interfaces.html",
      help: {
        text: "hardcoded_bind_all_interfaces - https://bandit.readthedocs.io/en/1.9.4/plugins/b104_hardcoded_bind_all_interfaces.html",
        markdown:
          "[B104](https://bandit.readthedocs.io/en/1.9.4/plugins/b104_hardcoded_bind_all_interfaces.html): hardcoded_bind_all_interfaces",
      },
      defaultConfiguration: { level: "warning" },
      properties: { tags: ["security", "external/cwe/cwe-605"], "security-severity": "5.5", precision: "medium" },
    });
  });

  it("puts Bandit findings at file:line relative to the source root, with partial fingerprints", () => {
    const verdict = b104Verdict();
    const log = expectValidSarif(renderSarif(verdict));
    const result = log.runs[0]!.results!.find((r) => r.ruleId === "B104")!;
    expect(result.level).toBe("warning");
    expect(result.locations![0]!.physicalLocation).toEqual({
      artifactLocation: { uri: "app/server.py", uriBaseId: "%SRCROOT%" },
      region: { startLine: 7, startColumn: 16 },
    });
    expect(result.partialFingerprints).toEqual({ "portcullis/v1": verdict.blocking[0]!.fingerprint });
    expect(result.properties).toMatchObject({ "security-severity": "5.5", disposition: "blocking" });
    expect(log.runs[0]!.tool.driver.rules![result.ruleIndex!]!.id).toBe("B104");
  });

  it("marks waived findings as suppressed with the justification", () => {
    const policy = `version: 1
waivers:
  - id: B104
    reason: dev server only, behind the proxy
    owner: team-a
    expires: 2026-12-31
`;
    const log = expectValidSarif(renderSarif(b104Verdict(policy)));
    const result = log.runs[0]!.results!.find((r) => r.ruleId === "B104")!;
    expect(result.suppressions).toEqual([
      {
        kind: "external",
        status: "accepted",
        justification: "dev server only, behind the proxy (owner team-a, expires 2026-12-31, p.yaml:3)",
      },
    ]);
    expect(log.runs[0]!.results!.filter((r) => r.suppressions)).toHaveLength(1);
  });

  it("records a tool that failed as an unsuccessful invocation", () => {
    const verdict = evaluate({
      runs: [toolFailure("trivy", "trivy exited 2")],
      policy: parsePolicy("version: 1\n", { filePath: "p.yaml" }),
      now: NOW,
    });
    const log = expectValidSarif(renderSarif(verdict));
    expect(log.runs[0]!.invocations).toEqual([
      { executionSuccessful: false, toolExecutionNotifications: [{ level: "error", message: { text: "trivy exited 2" } }] },
    ]);
    expect(log.runs[0]!.results).toEqual([]);
  });
});

describe("SARIF helpers", () => {
  it("maps severities to levels", () => {
    expect(["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"].map((s) => levelOf(s as never))).toEqual([
      "error",
      "error",
      "warning",
      "note",
      "note",
    ]);
  });
  it("writes CWE tags as GitHub reads them", () => {
    expect(cweTag("CWE-605")).toBe("external/cwe/cwe-605");
    expect(cweTag("NVD-CWE-noinfo")).toBeUndefined();
  });
});

describe("SARIF report for large verdicts (compact writer)", () => {
  it("writes the same results as the indented writer, and stays valid SARIF", () => {
    const real = JSON.parse(fixture("bandit/bandit-b104.json"));
    const many = {
      ...real,
      results: Array.from({ length: 6_000 }, (_, i) => ({ ...real.results[i % 4], filename: `./app/m${i}.py` })),
    };
    const policy = parsePolicy("version: 1\n", { filePath: "p.yaml" });
    const big = evaluate({ runs: [parseBandit(JSON.stringify(many), { filePath: "many.json" })], policy, now: NOW });
    const small = evaluate({
      runs: [parseBandit(JSON.stringify({ ...many, results: many.results.slice(0, 8) }), { filePath: "few.json" })],
      policy,
      now: NOW,
    });
    const compactText = renderSarif(big);
    expect(compactText.split("\n")).toHaveLength(2); // one line plus the final newline
    const compact = expectValidSarif(compactText);
    const pretty = expectValidSarif(renderSarif(small));
    expect(compact.runs[0]!.results).toHaveLength(6_000);
    expect(compact.runs[0]!.tool).toEqual(pretty.runs[0]!.tool);
    const byFingerprint = new Map(compact.runs[0]!.results!.map((r) => [r.partialFingerprints!["portcullis/v1"], r]));
    for (const result of pretty.runs[0]!.results!) {
      expect(byFingerprint.get(result.partialFingerprints!["portcullis/v1"])).toEqual(result);
    }
  });
});

describe("SARIF results", () => {
  it("leave absent fields out rather than writing null, waived, expired, source and package findings alike", async () => {
    const { resultOf } = await import("../../dagger/src/core/report/sarif.js");
    const verdict = mixedVerdict(NOW);
    expect(verdict.waived.length).toBeGreaterThan(0);
    const odd = { ...verdict.findings[0]!, location: { path: "dir with space/ü.py", line: 0, endLine: 3, column: 2 } };
    const bare: JudgedFinding = { ...verdict.findings[0]!, location: { path: "a.py", line: 7 } };
    for (const [i, f] of [...verdict.findings, odd, bare].entries()) {
      const text = JSON.stringify(resultOf(f, i, { imageLocation: "docker/Dockerfile app" }));
      expect(text).not.toContain("null");
      const result = JSON.parse(text);
      expect(Object.keys(result)).toEqual(
        ["ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints", ...(f.waivedBy ? ["suppressions"] : []), "properties"],
      );
      if (f.location) {
        expect(Object.keys(result.locations[0].physicalLocation.region)).toEqual(
          ["startLine", ...(f.location.endLine ? ["endLine"] : []), ...(f.location.column ? ["startColumn"] : [])],
        );
      } else {
        expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe("docker/Dockerfile%20app");
      }
    }
    expect(JSON.parse(JSON.stringify(resultOf(odd, 0, {}))).locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "dir%20with%20space/%C3%BC.py", uriBaseId: "%SRCROOT%" },
      region: { startLine: 1, endLine: 3, startColumn: 2 },
    });
  });
});

describe("SARIF results written directly (large logs)", () => {
  it("are byte for byte JSON.stringify(resultOf(…)), whatever the finding holds", async () => {
    const { resultOf, resultWriter } = await import("../../dagger/src/core/report/sarif.js");
    const verdict = mixedVerdict(NOW);
    const awkward = 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f ü ✓ 🔒 lone \ud800 end';
    const source = verdict.findings.find((f) => f.location)!;
    const image = verdict.findings.find((f) => f.package)!;
    const waiver = verdict.waived[0]!.waiver;
    const odd: JudgedFinding[] = [
      { ...source, ruleId: awkward, message: awkward, location: { path: `dir/${awkward}.py`, line: 0, endLine: 9, column: 3 } },
      { ...source, location: { path: "a.py", line: 12 }, waivedBy: { ...waiver, reason: awkward, owner: awkward } },
      { ...source, confidence: undefined, location: { path: "a.py", line: 5, endLine: 0, column: 0 } },
      { ...image, package: { ...image.package!, name: awkward, target: awkward, path: undefined, fixedVersion: undefined, status: "affected" } },
      { ...image, package: { ...image.package!, sourceName: awkward, path: "usr/lib/x" }, waivedBy: waiver, disposition: "waived" },
      // What a writer reuses, met again with one part changed: the same message under another severity,
      // confidence or rule; the same rule under another severity or index; the same file elsewhere.
      { ...source, severity: "HIGH" },
      { ...source, confidence: "LOW" },
      { ...source, ruleId: "B999" },
      { ...source, disposition: "info" },
      { ...source, location: { ...source.location!, line: 77 } },
    ];
    const all = [...verdict.findings, ...odd];
    expect(all.some((f) => f.waivedBy) && all.some((f) => f.package) && all.some((f) => f.location?.endLine)).toBe(true);
    for (const opts of [{}, { imageLocation: "docker/Dockerfile app" }]) {
      // One writer for all, as a log is written (twice over, so every result meets what it left behind), and one per result.
      const write = resultWriter(opts);
      for (const [i, f] of [...all, ...all].entries()) {
        const ruleIndex = i % 3;
        expect(write(f, ruleIndex)).toBe(JSON.stringify(resultOf(f, ruleIndex, opts)));
      }
      for (const [i, f] of all.entries()) expect(resultWriter(opts)(f, i)).toBe(JSON.stringify(resultOf(f, i, opts)));
    }
    // A lone surrogate (Bandit's way of writing a file name that is not UTF-8) cannot be in a URI: it becomes U+FFFD.
    const uri = JSON.parse(resultWriter({})(odd[0]!, 0)).locations[0].physicalLocation.artifactLocation.uri as string;
    expect(uri).toContain("lone%20%EF%BF%BD%20end.py");
  });
});
