import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import type { Stage } from "../findings.js";
import type { JudgedFinding, Verdict } from "../gate.js";
import { where } from "./markdown.js";

const STAGES: Stage[] = ["sast", "image"];

function groupByRule(findings: JudgedFinding[]): Map<string, JudgedFinding[]> {
  const groups = new Map<string, JudgedFinding[]>();
  for (const f of findings) {
    const group = groups.get(f.ruleId);
    if (group) group.push(f);
    else groups.set(f.ruleId, [f]);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Lists where a rule blocks; long lists are cut (every finding is in the SARIF and JSON reports). */
export const JUNIT_LOCATION_LIMIT = 50;

function failureText(findings: JudgedFinding[]): string {
  const lines = findings.slice(0, JUNIT_LOCATION_LIMIT).map((f) => `${f.severity} ${f.ruleId} ${where(f)}: ${f.message}`);
  if (findings.length > JUNIT_LOCATION_LIMIT) lines.push(`…and ${findings.length - JUNIT_LOCATION_LIMIT} more`);
  return lines.join("\n");
}

function addSuite(
  root: XMLBuilder,
  verdict: Verdict,
  name: string,
  cases: Array<(suite: XMLBuilder) => void>,
  failures: number,
  errors: number,
) {
  const suite = root.ele("testsuite", { name, tests: cases.length, failures, errors, skipped: 0 });
  const properties = suite.ele("properties");
  properties.ele("property", { name: "portcullis.outcome", value: verdict.outcome });
  properties.ele("property", { name: "portcullis.trivyDbUpdatedAt", value: verdict.db.updatedAt ?? "unknown" });
  for (const addCase of cases) addCase(suite);
}

/** JUnit XML: per stage, one test case per blocking rule (or one passing case); tool errors as errored cases. */
export function renderJunit(verdict: Verdict): string {
  const root = create({ version: "1.0", encoding: "UTF-8" }).ele("testsuites", {
    name: "portcullis gate",
    tests: 0,
    failures: 0,
    errors: 0,
  });
  let tests = 0;
  let failures = 0;
  // Only stages that were scanned get a suite: a passing case for a scan that never ran would lie.
  for (const stage of STAGES.filter((s) => verdict.tools.some((t) => t.stage === s))) {
    const blocking = groupByRule(verdict.blocking.filter((f) => f.stage === stage));
    const cases: Array<(suite: XMLBuilder) => void> = [];
    for (const [ruleId, findings] of blocking) {
      cases.push((suite) => {
        const first = findings[0]!;
        suite
          .ele("testcase", { classname: `portcullis.${stage}`, name: `${ruleId} ${first.title}` })
          .ele("failure", { message: `${findings.length} blocking finding(s) of ${ruleId} (${first.severity})`, type: first.severity })
          .txt(failureText(findings));
      });
    }
    if (cases.length === 0) {
      cases.push((suite) => {
        suite.ele("testcase", { classname: `portcullis.${stage}`, name: `no blocking ${stage} findings` });
      });
    }
    addSuite(root, verdict, `portcullis.${stage}`, cases, blocking.size, 0);
    tests += cases.length;
    failures += blocking.size;
  }
  if (verdict.errors.length > 0) {
    const cases = verdict.errors.map((message, i) => (suite: XMLBuilder) => {
      suite
        .ele("testcase", { classname: "portcullis.errors", name: `error ${i + 1}` })
        .ele("error", { message: message.slice(0, 500), type: "error" })
        .txt(message);
    });
    addSuite(root, verdict, "portcullis.errors", cases, 0, cases.length);
    tests += cases.length;
  }
  root.att({ tests: String(tests), failures: String(failures), errors: String(verdict.errors.length) });
  return `${root.end({ prettyPrint: true })}\n`;
}
