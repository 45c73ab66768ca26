import { flatObjectJson, quote } from "./jsontext.js";
import { summarizeVerdict, type JudgedFinding, type Verdict } from "../gate.js";

/** Up to this many findings, JSON reports are indented for people; larger ones are compact to bound memory. */
export const PRETTY_JSON_LIMIT = 5_000;

export function jsonText(value: unknown, findings: number): string {
  return `${JSON.stringify(value, null, findings <= PRETTY_JSON_LIMIT ? 2 : undefined)}\n`;
}

/** Bumped when the verdict.json shape changes incompatibly. */
export const VERDICT_JSON_VERSION = 1;

/** A finding as verdict.json writes it: what a rule says (title, CWE, links) lives once under `rules`. */
export function recordOf(f: JudgedFinding) {
  return {
    fingerprint: f.fingerprint,
    tool: f.tool,
    stage: f.stage,
    ruleId: f.ruleId,
    severity: f.severity,
    ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
    disposition: f.disposition,
    message: f.message,
    ...(f.location !== undefined ? { location: f.location } : {}),
    ...(f.package !== undefined ? { package: f.package } : {}),
    ...(f.waivedBy !== undefined ? { waivedBy: f.waivedBy } : {}),
    ...(f.expiredWaiver !== undefined ? { expiredWaiver: f.expiredWaiver } : {}),
  };
}

/** JSON.stringify of objects met again and again (waiver refs), remembered by identity. */
export function jsonMemo(): (value: object) => string {
  const cache = new Map<object, string>();
  return (value) => {
    let text = cache.get(value);
    if (text === undefined) {
      text = JSON.stringify(value);
      if (cache.size < 10_000) cache.set(value, text);
    }
    return text;
  };
}

/**
 * Exactly `JSON.stringify(recordOf(f))`, written out directly for the large-report writer
 * (test/core/reports.unit.test.ts compares the two byte for byte).
 */
export function recordJson(f: JudgedFinding, memo: (value: object) => string = JSON.stringify): string {
  return (
    `{"fingerprint":${quote(f.fingerprint)},"tool":${quote(f.tool)},"stage":${quote(f.stage)},` +
    `"ruleId":${quote(f.ruleId)},"severity":${quote(f.severity)}` +
    `${f.confidence !== undefined ? `,"confidence":${quote(f.confidence)}` : ""},"disposition":${quote(f.disposition)},` +
    `"message":${quote(f.message)}` +
    `${f.location !== undefined ? `,"location":${flatObjectJson(f.location)}` : ""}` +
    `${f.package !== undefined ? `,"package":${flatObjectJson(f.package)}` : ""}` +
    `${f.waivedBy !== undefined ? `,"waivedBy":${memo(f.waivedBy)}` : ""}` +
    `${f.expiredWaiver !== undefined ? `,"expiredWaiver":${memo(f.expiredWaiver)}` : ""}}`
  );
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
    blocking: [] as ReturnType<typeof recordOf>[],
    waived: verdict.waived.map(({ finding, waiver }) => ({ fingerprint: finding.fingerprint, ruleId: finding.ruleId, waiver })),
    expiredWaivers: verdict.expiredWaivers,
    unusedWaivers: verdict.unusedWaivers,
    rules: rulesOf(verdict.findings),
    findings: [] as ReturnType<typeof recordOf>[],
  };
  const findings = verdict.findings;
  if (findings.length <= PRETTY_JSON_LIMIT) {
    document.blocking = verdict.blocking.map(recordOf);
    document.findings = findings.map(recordOf);
    yield jsonText(document, findings.length);
    return;
  }
  // `blocking` and `findings` (the last key) are left open and filled in chunk by chunk.
  const memo = jsonMemo();
  const records = function* (list: JudgedFinding[]): Generator<string> {
    for (let i = 0; i < list.length; i += FINDINGS_PER_CHUNK) {
      const batch: string[] = [];
      for (const f of list.slice(i, i + FINDINGS_PER_CHUNK)) batch.push(recordJson(f, memo));
      yield `${i > 0 ? "," : ""}${batch.join(",")}`;
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
