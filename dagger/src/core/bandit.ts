import { z } from "zod";
import { CONFIDENCES, type Confidence, type Finding, type Severity } from "./findings.js";
import { fingerprintOf } from "./fingerprint.js";
import type { ToolRun } from "./toolrun.js";
import { parseJsonText, validate } from "./validate.js";

// Bandit's own scale: UNDEFINED is what a plugin reports when it sets none.
const BanditLevel = z.enum(["UNDEFINED", "LOW", "MEDIUM", "HIGH"]);

const BanditResult = z.object({
  filename: z.string().min(1),
  test_id: z.string().regex(/^B\d{3}$/, "expected a Bandit test id such as B104"),
  test_name: z.string(),
  issue_severity: BanditLevel,
  issue_confidence: BanditLevel,
  issue_text: z.string(),
  line_number: z.number().int().nonnegative(),
  line_range: z.array(z.number().int()).optional(),
  col_offset: z.number().int().nonnegative().optional(),
  // end_col_offset appeared in Bandit 1.7.5; issue_cwe in 1.7.3.
  end_col_offset: z.number().int().nonnegative().optional(),
  issue_cwe: z.object({ id: z.number().int(), link: z.string() }).optional(),
  more_info: z.string().optional(),
  code: z.string().optional(),
});

/** Bandit's JSON formatter output (1.7.x–1.9.x): `errors` and `results` are always present. */
export const BanditReportSchema = z.object({
  errors: z.array(z.object({ filename: z.string(), reason: z.string() })),
  generated_at: z.string().optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  results: z.array(BanditResult),
});
export type BanditReport = z.infer<typeof BanditReportSchema>;

/** Paths relative to the scanned source, without the "./" Bandit keeps from `-r .`. */
export function normaliseSourcePath(path: string): string {
  let p = path.replace(/\\/g, "/");
  while (p.startsWith("./")) p = p.slice(2);
  return p;
}

function severityOf(level: z.infer<typeof BanditLevel>): Severity {
  return level === "UNDEFINED" ? "UNKNOWN" : level;
}

function confidenceOf(level: z.infer<typeof BanditLevel>): Confidence {
  return CONFIDENCES.includes(level) ? level : "UNDEFINED";
}

// Bandit's JSON has no version field; its more_info links are versioned docs (…/en/1.9.4/…).
function versionFrom(report: BanditReport): string | undefined {
  for (const result of report.results) {
    const match = /\/en\/(\d+\.\d+\.\d+)\//.exec(result.more_info ?? "");
    if (match) return match[1];
  }
  return undefined;
}

/** Bandit JSON -> findings. Files Bandit could not scan become errors: a file not scanned is not a pass. */
export function parseBandit(text: string, opts: { filePath: string }): ToolRun {
  const report = validate(BanditReportSchema, parseJsonText(text, { filePath: opts.filePath, what: "Bandit JSON report" }), {
    filePath: opts.filePath,
    what: "Bandit JSON report",
  });
  const findings = report.results.map((result): Finding => {
    const location = {
      path: normaliseSourcePath(result.filename),
      line: result.line_number,
      ...(result.line_range && result.line_range.length > 1 ? { endLine: Math.max(...result.line_range) } : {}),
      ...(result.col_offset !== undefined ? { column: result.col_offset + 1 } : {}),
    };
    const cwe = result.issue_cwe && result.issue_cwe.id > 0 ? [`CWE-${result.issue_cwe.id}`] : [];
    const links = [result.more_info, result.issue_cwe?.link].filter((l): l is string => !!l);
    return {
      tool: "bandit",
      stage: "sast",
      ruleId: result.test_id,
      title: result.test_name,
      message: result.issue_text,
      severity: severityOf(result.issue_severity),
      confidence: confidenceOf(result.issue_confidence),
      location,
      cwe,
      links,
      fingerprint: fingerprintOf("bandit", result.test_id, { location }),
    };
  });
  const errors = report.errors.map(
    (e) => `Bandit could not scan ${normaliseSourcePath(e.filename)}: ${e.reason}`,
  );
  const version = versionFrom(report);
  return {
    tool: "bandit",
    stage: "sast",
    ...(version ? { version } : {}),
    findings,
    errors,
    notes: findings.length === 0 && errors.length === 0 ? ["Bandit reported no issues"] : [],
  };
}
