/**
 * Hand-written checks that accept exactly what a zod schema accepts, and nothing more, for the one
 * item shape validated 100,000 times in a large report (zod takes ~6 µs an item; these well under 1).
 * A false answer proves nothing: the item then goes through zod, which accepts it or names the field.
 * test/core/guards.unit.test.ts checks that no guard accepts what its schema rejects.
 */
import { SEVERITIES } from "./findings.js";

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSafeInt(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v);
}

function optString(v: unknown): boolean {
  return v === undefined || typeof v === "string";
}

function optNonNegInt(v: unknown): boolean {
  return v === undefined || (isSafeInt(v) && (v as number) >= 0);
}

function optStringArray(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") return false;
  return true;
}

const BANDIT_LEVELS = new Set<unknown>(["UNDEFINED", "LOW", "MEDIUM", "HIGH"]);
const SEVERITY_SET = new Set<unknown>(SEVERITIES);
const TEST_ID = /^B\d{3}$/;

/** True only when BanditResultSchema (bandit.ts) accepts `v`. */
export function isBanditResultShape(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (typeof v.filename !== "string" || v.filename.length < 1) return false;
  if (typeof v.test_id !== "string" || !TEST_ID.test(v.test_id)) return false;
  if (typeof v.test_name !== "string" || typeof v.issue_text !== "string") return false;
  if (!BANDIT_LEVELS.has(v.issue_severity) || !BANDIT_LEVELS.has(v.issue_confidence)) return false;
  if (!isSafeInt(v.line_number) || (v.line_number as number) < 0) return false;
  const range = v.line_range;
  if (range !== undefined) {
    if (!Array.isArray(range)) return false;
    for (let i = 0; i < range.length; i++) if (!isSafeInt(range[i])) return false;
  }
  if (!optNonNegInt(v.col_offset) || !optNonNegInt(v.end_col_offset)) return false;
  const cwe = v.issue_cwe;
  if (cwe !== undefined && !(isObject(cwe) && isSafeInt(cwe.id) && typeof cwe.link === "string")) return false;
  return optString(v.more_info) && optString(v.code);
}

/** True only when TrivyVulnerabilitySchema (trivy.ts) accepts `v`. */
export function isTrivyVulnerabilityShape(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (typeof v.VulnerabilityID !== "string" || v.VulnerabilityID.length < 1) return false;
  if (typeof v.PkgName !== "string" || v.PkgName.length < 1) return false;
  if (v.Severity !== undefined && !SEVERITY_SET.has(v.Severity)) return false;
  return (
    optString(v.PkgID) &&
    optString(v.PkgPath) &&
    optString(v.InstalledVersion) &&
    optString(v.FixedVersion) &&
    optString(v.Status) &&
    optString(v.PrimaryURL) &&
    optString(v.Title) &&
    optString(v.Description) &&
    optStringArray(v.CweIDs) &&
    optStringArray(v.References)
  );
}
