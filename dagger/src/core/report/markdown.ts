import { SEVERITIES, type Stage } from "../findings.js";
import { summarizeVerdict, type ExpiredWaiver, type JudgedFinding, type Verdict, type WaivedFinding } from "../gate.js";
import type { Waiver } from "../policy.js";

/** Tables longer than this are cut in the summary; the SARIF and JSON reports always hold every finding. */
export const MARKDOWN_ROW_LIMIT = 100;

const OUTCOME_BADGE: Record<Verdict["outcome"], string> = { pass: "✅ PASS", fail: "❌ FAIL", error: "⚠️ ERROR" };
const STAGE_NAME: Record<Stage, string> = { sast: "SAST (Bandit)", image: "Image (Trivy)" };

/** Escapes text for one Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

export function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

export function where(f: JudgedFinding): string {
  if (f.location) return `${f.location.path}:${f.location.line}`;
  if (f.package) return `${f.package.name} ${f.package.installedVersion} (${f.package.target})`;
  return "";
}

export function fixOf(f: JudgedFinding): string {
  if (!f.package) return "";
  if (f.package.fixedVersion) return f.package.fixedVersion;
  return f.package.status ? `none (${f.package.status})` : "none";
}

/** A findings table, cut at `limit` rows with a line saying how many more there are. */
export function findingsTable(findings: JudgedFinding[], limit = MARKDOWN_ROW_LIMIT): string {
  const rows = findings
    .slice(0, limit)
    .map((f) => [f.severity, f.ruleId, f.stage, where(f), fixOf(f), f.confidence ?? "", f.title]);
  const body = table(["severity", "rule", "stage", "where", "fixed in", "confidence", "title"], rows);
  return findings.length > limit
    ? `${body}\n\n…and ${findings.length - limit} more (every finding is in the SARIF and JSON reports).`
    : body;
}

export function countsTable(verdict: Verdict): string {
  const stages: Stage[] = ["sast", "image"];
  const order = [...SEVERITIES].reverse();
  const rows = stages.map((stage) =>
    verdict.tools.some((t) => t.stage === stage)
      ? [
          STAGE_NAME[stage],
          ...order.map((s) => String(verdict.counts.byStage[stage][s])),
          String(order.reduce((n, s) => n + verdict.counts.byStage[stage][s], 0)),
        ]
      : [`${STAGE_NAME[stage]}: not scanned`, ...order.map(() => "–"), "–"],
  );
  return table(["stage", ...order, "total"], rows);
}

export function waivedTable(waived: WaivedFinding[], limit = MARKDOWN_ROW_LIMIT): string {
  const rows = waived
    .slice(0, limit)
    .map(({ finding, waiver }) => [finding.severity, finding.ruleId, where(finding), waiver.reason, waiver.owner, waiver.expires]);
  const body = table(["severity", "rule", "where", "reason", "owner", "expires"], rows);
  return waived.length > limit ? `${body}\n\n…and ${waived.length - limit} more.` : body;
}

export function waiverList(waivers: Array<Waiver | ExpiredWaiver>): string {
  return waivers
    .map((w) => {
      const scope = [w.package ? `package ${w.package}` : "", w.path ? `path ${w.path}` : ""].filter(Boolean).join(", ");
      const matched = "matched" in w ? `, would waive ${w.matched} finding(s)` : "";
      return `- \`${w.id}\`${scope ? ` (${scope})` : ""}: expires ${w.expires}, owner ${w.owner}${matched} — ${w.source}`;
    })
    .join("\n");
}

export function toolsSection(verdict: Verdict): string {
  const lines = verdict.tools.map((t) => {
    const status = t.errors.length > 0 ? "failed" : `${t.findings} finding(s)`;
    return `- ${t.tool} ${t.version ?? "(version unknown)"}${t.artifact ? ` on \`${t.artifact}\`` : ""}: ${status}`;
  });
  const db = verdict.db;
  lines.push(
    db.known
      ? `- Trivy DB: updated ${db.updatedAt}, ${db.ageDays} day(s) old (policy allows ${db.maxAgeDays})${db.stale ? " — **stale**" : ""}`
      : `- Trivy DB: age unknown (no DB metadata given; policy allows ${db.maxAgeDays} days)`,
  );
  lines.push(`- Policy: \`${verdict.policy.source}\`, judged at ${verdict.evaluatedAt}`);
  return lines.join("\n");
}

/** The Markdown summary: verdict, counts, the blocking table first, then the rest. */
export function renderMarkdown(verdict: Verdict): string {
  const parts: string[] = [`# portcullis gate: ${OUTCOME_BADGE[verdict.outcome]}`, summarizeVerdict(verdict)];
  if (verdict.errors.length > 0) {
    parts.push(`## Errors (${verdict.errors.length})`, verdict.errors.map((e) => `- ${e}`).join("\n"));
  }
  parts.push(`## Blocking findings (${verdict.blocking.length})`);
  parts.push(verdict.blocking.length > 0 ? findingsTable(verdict.blocking) : "None.");
  parts.push("## Findings by stage and severity", countsTable(verdict));
  if (verdict.warnings.length > 0) parts.push(`## Warnings (${verdict.warnings.length})`, findingsTable(verdict.warnings));
  if (verdict.waived.length > 0) parts.push(`## Waived findings (${verdict.waived.length})`, waivedTable(verdict.waived));
  if (verdict.expiredWaivers.length > 0) {
    parts.push(`## Expired waivers (${verdict.expiredWaivers.length}) — no longer waive`, waiverList(verdict.expiredWaivers));
  }
  if (verdict.unusedWaivers.length > 0) {
    parts.push(`## Unused waivers (${verdict.unusedWaivers.length})`, waiverList(verdict.unusedWaivers));
  }
  if (verdict.notes.length > 0) parts.push("## Notes", verdict.notes.map((n) => `- ${n}`).join("\n"));
  parts.push("## Tools", toolsSection(verdict));
  return `${parts.join("\n\n")}\n`;
}
