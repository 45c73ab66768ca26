/** The normalised finding model shared by every tool portcullis runs. */

/** One ordered severity scale for every tool: UNKNOWN < LOW < MEDIUM < HIGH < CRITICAL. */
export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Bandit's confidence scale (image findings carry none). */
export const CONFIDENCES = ["UNDEFINED", "LOW", "MEDIUM", "HIGH"] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** Rank on the ordered scale: UNKNOWN 0 … CRITICAL 4. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** True when `severity` is at or above `threshold`. */
export function severityAtLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

/** True when `confidence` is at or above `threshold` (a finding without confidence never meets one). */
export function confidenceAtLeast(confidence: Confidence | undefined, threshold: Confidence): boolean {
  return confidence !== undefined && CONFIDENCES.indexOf(confidence) >= CONFIDENCES.indexOf(threshold);
}

/** Which policy stage judges a finding. */
export type Stage = "sast" | "image";
export type ToolName = "bandit" | "trivy";

export interface SourceLocation {
  /** Relative to the scanned source, no leading "./". */
  path: string;
  line: number;
  endLine?: number;
  column?: number;
}

export interface PackageLocation {
  /** Package name as the scanner reports it (e.g. "zlib1g", "PyYAML"). */
  name: string;
  /** Source package for OS packages (e.g. "zlib"). */
  sourceName?: string;
  installedVersion: string;
  /** Where a language package was found in the image (Trivy PkgPath), when the scanner says. */
  path?: string;
  fixedVersion?: string;
  /** Trivy's status: fixed, affected, will_not_fix, … */
  status?: string;
  /** Trivy target, e.g. "app (debian 12.5)" or "Python". */
  target: string;
  /** Trivy result class/type, e.g. "os-pkgs"/"debian", "lang-pkgs"/"python-pkg". */
  targetType?: string;
}

export interface Finding {
  tool: ToolName;
  stage: Stage;
  /** Rule id: a Bandit test id (B104) or a vulnerability id (CVE-…, GHSA-…). */
  ruleId: string;
  /** Bandit test name or vulnerability title. */
  title: string;
  message: string;
  severity: Severity;
  confidence?: Confidence;
  location?: SourceLocation;
  package?: PackageLocation;
  cwe: string[];
  links: string[];
  /** Stable across runs for the same finding: sha256 over tool, rule, location/package. */
  fingerprint: string;
}
