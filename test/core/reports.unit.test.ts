import { describe, expect, it } from "vitest";
import {
  evaluate,
  parseBandit,
  parsePolicy,
  renderJson,
  renderJunit,
  renderMarkdown,
  renderReports,
  toolFailure,
  type Verdict,
} from "../../dagger/src/core/index.js";
import { cell, countsTable, findingsTable, table, toolsSection, waiverList } from "../../dagger/src/core/report/markdown.js";
import { fixture, mixedVerdict } from "./fixtures.js";

const NOW = new Date("2026-11-28T12:00:00Z");
const WAIVERS = `waivers:
  - id: B104
    reason: dev server only
    owner: team-a
    expires: 2026-12-31
  - id: B602
    path: scripts/*.py
    reason: build script
    owner: team-b
    expires: 2026-12-01
  - id: B101
    reason: was fixed
    owner: team-c
    expires: 2026-11-01
`;

function verdictFor(fixtureName: string, policyYaml = "version: 1\n"): Verdict {
  const run = parseBandit(fixture(`bandit/${fixtureName}`), { filePath: fixtureName });
  return evaluate({ runs: [run], policy: parsePolicy(policyYaml, { filePath: "p.yaml" }), now: NOW });
}

describe("Markdown building blocks", () => {
  it("escapes pipes, backslashes and newlines in a cell", () => {
    expect(cell("a|b\\c\nd")).toBe("a\\|b\\\\c d");
  });

  it("renders a table", () => {
    expect(table(["a", "b"], [["1", "x|y"]])).toBe("| a | b |\n|---|---|\n| 1 | x\\|y |");
  });

  it("counts per stage and severity, saying which stage was not scanned", () => {
    expect(countsTable(verdictFor("bandit-b104.json"))).toBe(
      [
        "| stage | CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN | total |",
        "|---|---|---|---|---|---|---|",
        "| SAST (Bandit) | 0 | 0 | 2 | 2 | 0 | 4 |",
        "| Image (Trivy): not scanned | – | – | – | – | – | – |",
      ].join("\n"),
    );
  });

  it("cuts long finding tables and says how many rows are left out", () => {
    const verdict = verdictFor("bandit-b104.json");
    expect(findingsTable(verdict.warnings, 1)).toBe(
      [
        "| severity | rule | stage | where | fixed in | confidence | title |",
        "|---|---|---|---|---|---|---|",
        "| MEDIUM | B608 | sast | app/legacy.py:7 |  | LOW | hardcoded_sql_expressions |",
        "",
        "…and 2 more (every finding is in the SARIF and JSON reports).",
      ].join("\n"),
    );
  });

  it("lists waivers with scope, expiry, owner and where they are written", () => {
    const verdict = verdictFor("bandit-b104.json", `version: 1\n${WAIVERS}`);
    expect(waiverList(verdict.unusedWaivers)).toBe("- `B602` (path scripts/*.py): expires 2026-12-01, owner team-b — p.yaml:7");
    expect(waiverList(verdict.expiredWaivers)).toBe(
      "- `B101`: expires 2026-11-01, owner team-c, would waive 1 finding(s) — p.yaml:12",
    );
  });

  it("names tool versions and the DB age", () => {
    const run = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "b.json" });
    const verdict = evaluate({
      runs: [run],
      policy: parsePolicy("version: 1\n", { filePath: "p.yaml" }),
      now: NOW,
      db: { version: 2, updatedAt: "2026-11-26T06:00:00Z", nextUpdate: "2026-11-27T06:00:00Z" },
    });
    expect(toolsSection(verdict)).toBe(
      [
        "- bandit 1.9.4: 4 finding(s)",
        "- Trivy DB: updated 2026-11-26T06:00:00Z, 2 day(s) old (policy allows 7)",
        "- Policy: `p.yaml`, judged at 2026-11-28T12:00:00.000Z",
      ].join("\n"),
    );
  });
});

describe("Markdown summary", () => {
  it("puts the verdict first, then the blocking table, then counts, warnings and waivers", () => {
    const md = renderMarkdown(verdictFor("bandit-b104.json", `version: 1\n${WAIVERS}`));
    const headings = md.split("\n").filter((l) => l.startsWith("#"));
    expect(headings).toEqual([
      "# portcullis gate: ✅ PASS",
      "## Blocking findings (0)",
      "## Findings by stage and severity",
      "## Warnings (3)",
      "## Waived findings (1)",
      "## Expired waivers (1) — no longer waive",
      "## Unused waivers (1)",
      "## Tools",
    ]);
    expect(md).toContain("| MEDIUM | B104 | app/server.py:7 | dev server only | team-a | 2026-12-31 |");
  });

  it("shows errors before anything else on an error verdict", () => {
    const md = renderMarkdown(verdictFor("bandit-syntax-error.json"));
    expect(md.split("\n").slice(0, 7)).toEqual([
      "# portcullis gate: ⚠️ ERROR",
      "",
      "ERROR: the gate could not judge (1 problem(s)): Bandit could not scan app/broken.py: syntax error while parsing AST from file. 1 blocking finding(s) as well. 0 warning(s), 0 waived, 1 finding(s) in all.",
      "",
      "## Errors (1)",
      "",
      "- Bandit could not scan app/broken.py: syntax error while parsing AST from file",
    ]);
  });
});

describe("JSON verdict", () => {
  it("carries outcome, counts, every finding, blocking, waived, waivers and tool versions", () => {
    const doc = JSON.parse(renderJson(verdictFor("bandit-b104.json", `version: 1\n${WAIVERS}`)));
    expect(doc).toMatchObject({
      verdictVersion: 1,
      outcome: "pass",
      counts: { total: 4, blocking: 0, warnings: 3, waived: 1 },
      tools: [{ tool: "bandit", stage: "sast", version: "1.9.4", findings: 4 }],
      db: { known: false },
    });
    expect(doc.findings).toHaveLength(4);
    expect(doc.waived).toMatchObject([{ ruleId: "B104", waiver: { id: "B104", owner: "team-a" } }]);
    expect(doc.expiredWaivers.map((w: { id: string }) => w.id)).toEqual(["B101"]);
    expect(doc.unusedWaivers.map((w: { id: string }) => w.id)).toEqual(["B602"]);
  });
});

describe("JUnit XML", () => {
  it("has one failing test case per blocking rule", () => {
    const xml = renderJunit(verdictFor("bandit-b104.json", "version: 1\nsast: { minConfidence: LOW }\n"));
    expect(xml).toContain('<testsuites name="portcullis gate" tests="2" failures="2" errors="0">');
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toContain('<testcase classname="portcullis.sast" name="B104 hardcoded_bind_all_interfaces">');
    expect(xml).toContain('<failure message="1 blocking finding(s) of B608 (MEDIUM)" type="MEDIUM">');
    expect(xml).not.toContain("portcullis.image");
  });

  it("passes with one case per scanned stage when nothing blocks", () => {
    const xml = renderJunit(verdictFor("bandit-clean.json"));
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="portcullis gate" tests="1" failures="0" errors="0">',
        '  <testsuite name="portcullis.sast" tests="1" failures="0" errors="0" skipped="0">',
        "    <properties>",
        '      <property name="portcullis.outcome" value="pass"/>',
        '      <property name="portcullis.trivyDbUpdatedAt" value="unknown"/>',
        "    </properties>",
        '    <testcase classname="portcullis.sast" name="no blocking sast findings"/>',
        "  </testsuite>",
        "</testsuites>",
        "",
      ].join("\n"),
    );
  });

  it("reports tool errors as errored test cases, escaping XML", () => {
    const verdict = evaluate({
      runs: [toolFailure("bandit", 'bandit crashed: <stdin> & "quotes"')],
      policy: parsePolicy("version: 1\n", { filePath: "p.yaml" }),
      now: NOW,
    });
    const xml = renderJunit(verdict);
    expect(xml).toContain('errors="1"');
    expect(xml).toContain("bandit crashed: &lt;stdin&gt; &amp;");
  });
});

describe("renderReports", () => {
  it("renders all four reports from one verdict, byte-identical on every call", () => {
    const verdict = verdictFor("bandit-b104.json", `version: 1\n${WAIVERS}`);
    const first = renderReports(verdict);
    expect(Object.keys(first).sort()).toEqual(["junit.xml", "portcullis.sarif", "summary.md", "verdict.json"]);
    expect(renderReports(verdictFor("bandit-b104.json", `version: 1\n${WAIVERS}`))).toEqual(first);
  });
});

describe("JSON verdict for large verdicts (compact writer)", () => {
  it("is one line of valid JSON holding every finding, with the same records as the indented writer", () => {
    const real = JSON.parse(fixture("bandit/bandit-b104.json"));
    const results = Array.from({ length: 6_000 }, (_, i) => ({ ...real.results[i % 4], filename: `./app/m${i}.py` }));
    const policy = parsePolicy("version: 1\n", { filePath: "p.yaml" });
    const judge = (items: unknown[]) =>
      evaluate({ runs: [parseBandit(JSON.stringify({ ...real, results: items }), { filePath: "r.json" })], policy, now: NOW });
    const text = renderJson(judge(results));
    expect(text.split("\n")).toHaveLength(2);
    const big = JSON.parse(text);
    const small = JSON.parse(renderJson(judge(results.slice(0, 8))));
    expect(big.findings).toHaveLength(6_000);
    expect(big.counts.total).toBe(6_000);
    expect(big.rules).toEqual(small.rules);
    const byFingerprint = new Map(big.findings.map((f: { fingerprint: string }) => [f.fingerprint, f]));
    for (const record of small.findings) expect(byFingerprint.get(record.fingerprint)).toEqual(record);
  });
});

describe("verdict.json records", () => {
  it("list their fields in one fixed order and leave absent ones out, waived, expired, source and package findings alike", async () => {
    const { recordOf } = await import("../../dagger/src/core/report/json.js");
    const verdict = mixedVerdict(NOW);
    expect(verdict.waived.length).toBeGreaterThan(0);
    const ORDER = ["fingerprint", "tool", "stage", "ruleId", "severity", "confidence", "disposition", "message", "location", "package", "waivedBy", "expiredWaiver"];
    const expired = verdict.waived[0]!.waiver;
    for (const f of [...verdict.findings, { ...verdict.findings[0]!, expiredWaiver: expired }]) {
      const keys = Object.keys(JSON.parse(JSON.stringify(recordOf(f))));
      const present = ORDER.filter((k) => (k === "expiredWaiver" || k === "waivedBy" || k === "confidence" || k === "location" || k === "package" ? (f as unknown as Record<string, unknown>)[k] !== undefined : true));
      expect(keys).toEqual(present);
    }
    expect(Object.keys(JSON.parse(JSON.stringify(recordOf(verdict.findings.find((f) => f.package)!))))).not.toContain("confidence");
  });
});
