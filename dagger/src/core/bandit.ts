import { z } from "zod";
import { CONFIDENCES, type Confidence, type Finding, type Severity } from "./findings.js";
import { fingerprintOf } from "./fingerprint.js";
import { stringInterner } from "./intern.js";
import type { ToolRun } from "./toolrun.js";
import { isBanditResultShape } from "./guards.js";
import { eagerDocument, lazyDocument, type JsonDocument, type JsonInput } from "./lazyjson.js";
import { checkJsonText, parseJsonText, rawArray, validate } from "./validate.js";

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

/**
 * Bandit's JSON formatter output (1.7.x–1.9.x): `errors` and `results` are always present.
 * Each result is `BanditResultSchema`, validated one at a time in parseBandit.
 */
export const BanditReportSchema = z.object({
  errors: z.array(z.object({ filename: z.string(), reason: z.string() })),
  generated_at: z.string().optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  results: rawArray,
});
export const BanditResultSchema = BanditResult;
export type BanditResult = z.infer<typeof BanditResult>;

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
function versionFrom(moreInfo: string | undefined): string | undefined {
  return /\/en\/(\d+\.\d+\.\d+)\//.exec(moreInfo ?? "")?.[1];
}

/** Bandit JSON -> findings. Files Bandit could not scan become errors: a file not scanned is not a pass. */
export function parseBandit(text: JsonInput, opts: { filePath: string }): ToolRun {
  const what = "Bandit JSON report";
  checkJsonText(text, { filePath: opts.filePath, what });
  const lazy = lazyDocument(text, [["results"]]);
  if (lazy) {
    try {
      return banditRun(lazy, opts);
    } catch {
      // Something in the text is wrong: the whole-text parse below finds it and says it as it always has.
    }
  }
  return banditRun(eagerDocument(parseJsonText(text, { filePath: opts.filePath, what })), opts);
}

function banditRun(document: JsonDocument, opts: { filePath: string }): ToolRun {
  const what = "Bandit JSON report";
  const report = validate(BanditReportSchema, document.root, { filePath: opts.filePath, what });
  const items = document.items(report.results);
  const intern = stringInterner();
  // CWE and links depend only on the test (and Bandit's docs version): shared by all its findings.
  const references = new Map<string, { cwe: string[]; links: string[] }>();
  let version: string | undefined;
  const findings: Finding[] = [];
  for (let i = 0; i < items.length; i++) {
    const raw = items.take(i);
    const result = isBanditResultShape(raw) ? (raw as BanditResult) : validate(BanditResult, raw, { filePath: opts.filePath, what, at: ["results", i] });
    version ??= versionFrom(result.more_info);
    const location = {
      path: intern(normaliseSourcePath(result.filename)),
      line: result.line_number,
      ...(result.line_range && result.line_range.length > 1 ? { endLine: Math.max(...result.line_range) } : {}),
      ...(result.col_offset !== undefined ? { column: result.col_offset + 1 } : {}),
    };
    const referenceKey = `${result.test_id}\u0000${result.more_info ?? ""}\u0000${result.issue_cwe?.id ?? ""}`;
    let shared = references.get(referenceKey);
    if (!shared) {
      shared = {
        cwe: result.issue_cwe && result.issue_cwe.id > 0 ? [`CWE-${result.issue_cwe.id}`] : [],
        links: [result.more_info, result.issue_cwe?.link].filter((l): l is string => !!l),
      };
      references.set(referenceKey, shared);
    }
    const ruleId = intern(result.test_id);
    findings.push({
      tool: "bandit",
      stage: "sast",
      ruleId,
      title: intern(result.test_name),
      message: intern(result.issue_text),
      severity: severityOf(result.issue_severity),
      confidence: confidenceOf(result.issue_confidence),
      location,
      cwe: shared.cwe,
      links: shared.links,
      fingerprint: fingerprintOf("bandit", ruleId, { location }),
    });
  }
  const errors = report.errors.map((e) => `Bandit could not scan ${normaliseSourcePath(e.filename)}: ${e.reason}`);
  return {
    tool: "bandit",
    stage: "sast",
    ...(version ? { version } : {}),
    findings,
    errors,
    notes: findings.length === 0 && errors.length === 0 ? ["Bandit reported no issues"] : [],
  };
}
