import { summarizeVerdict, type Verdict } from "../gate.js";

/** Bumped when the verdict.json shape changes incompatibly. */
export const VERDICT_JSON_VERSION = 1;

/** The machine-readable verdict: every finding once (with its disposition), blocking ones in full again. */
export function renderJson(verdict: Verdict): string {
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
    blocking: verdict.blocking,
    waived: verdict.waived.map(({ finding, waiver }) => ({ fingerprint: finding.fingerprint, ruleId: finding.ruleId, waiver })),
    expiredWaivers: verdict.expiredWaivers,
    unusedWaivers: verdict.unusedWaivers,
    findings: verdict.findings,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
