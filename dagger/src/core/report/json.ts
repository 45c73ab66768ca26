import { summarizeVerdict, type JudgedFinding, type Verdict } from "../gate.js";

/** Up to this many findings, JSON reports are indented for people; larger ones are compact to bound memory. */
export const PRETTY_JSON_LIMIT = 5_000;

export function jsonText(value: unknown, findings: number): string {
  return `${JSON.stringify(value, null, findings <= PRETTY_JSON_LIMIT ? 2 : undefined)}\n`;
}

/** Bumped when the verdict.json shape changes incompatibly. */
export const VERDICT_JSON_VERSION = 1;

/** A finding as verdict.json writes it: what a rule says (title, CWE, links) lives once under `rules`. */
export interface FindingRecord {
  fingerprint: string;
  tool: JudgedFinding["tool"];
  stage: JudgedFinding["stage"];
  ruleId: string;
  severity: JudgedFinding["severity"];
  confidence?: JudgedFinding["confidence"];
  disposition: JudgedFinding["disposition"];
  message: string;
  location?: JudgedFinding["location"];
  package?: JudgedFinding["package"];
  waivedBy?: JudgedFinding["waivedBy"];
  expiredWaiver?: JudgedFinding["expiredWaiver"];
}

// One object literal, not spreads: every record has one shape and is cheap to build for 100,000
// findings. Absent fields are undefined, which JSON.stringify leaves out; the key order is the order
// verdict.json shows them in.
export function recordOf(f: JudgedFinding): FindingRecord {
  return {
    fingerprint: f.fingerprint,
    tool: f.tool,
    stage: f.stage,
    ruleId: f.ruleId,
    severity: f.severity,
    confidence: f.confidence,
    disposition: f.disposition,
    message: f.message,
    location: f.location,
    package: f.package,
    waivedBy: f.waivedBy,
    expiredWaiver: f.expiredWaiver,
  };
}

/** `JSON.stringify(items.map(toJson))` without its brackets: a run of comma-separated items to splice into a document. */
export function jsonItems<T>(items: T[], toJson: (item: T) => unknown): string {
  return JSON.stringify(items.map(toJson)).slice(1, -1);
}

function rulesOf(findings: JudgedFinding[]) {
  const rules = new Map<string, { tool: string; title: string; cwe: string[]; links: string[] }>();
  for (const f of findings) {
    if (!rules.has(f.ruleId)) rules.set(f.ruleId, { tool: f.tool, title: f.title, cwe: f.cwe, links: f.links });
  }
  return Object.fromEntries([...rules.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const FINDINGS_PER_CHUNK = 200;

/** verdict.json as text chunks: one indented chunk when small, compact and finding by finding when large. */
export function* jsonChunks(verdict: Verdict): Generator<string> {
  const document = {
    verdictVersion: VERDICT_JSON_VERSION,
    outcome: verdict.outcome,
    summary: summarizeVerdict(verdict),
    evaluatedAt: verdict.evaluatedAt,
    policy: verdict.policy,
    counts: verdict.counts,
    errors: verdict.errors,
    notes: verdict.notes,
    tools: verdict.tools,
    db: verdict.db,
    blocking: [] as FindingRecord[],
    waived: verdict.waived.map(({ finding, waiver }) => ({ fingerprint: finding.fingerprint, ruleId: finding.ruleId, waiver })),
    expiredWaivers: verdict.expiredWaivers,
    unusedWaivers: verdict.unusedWaivers,
    rules: rulesOf(verdict.findings),
    findings: [] as FindingRecord[],
  };
  const findings = verdict.findings;
  if (findings.length <= PRETTY_JSON_LIMIT) {
    document.blocking = verdict.blocking.map(recordOf);
    document.findings = findings.map(recordOf);
    yield jsonText(document, findings.length);
    return;
  }
  // `blocking` and `findings` (the last key) are left open and filled in chunk by chunk.
  const records = function* (list: JudgedFinding[]): Generator<string> {
    for (let i = 0; i < list.length; i += FINDINGS_PER_CHUNK) {
      yield `${i > 0 ? "," : ""}${jsonItems(list.slice(i, i + FINDINGS_PER_CHUNK), recordOf)}`;
    }
  };
  const { blocking: _blocking, waived, expiredWaivers, unusedWaivers, rules, findings: _findings, ...head } = document;
  yield `${JSON.stringify(head).slice(0, -1)},"blocking":[`;
  yield* records(verdict.blocking);
  yield `],${JSON.stringify({ waived, expiredWaivers, unusedWaivers, rules, findings: [] }).slice(1, -3)}[`;
  yield* records(findings);
  yield "]}\n";
}

/** The machine-readable verdict: every finding once (with its disposition), the blocking ones again. */
export function renderJson(verdict: Verdict): string {
  return [...jsonChunks(verdict)].join("");
}
