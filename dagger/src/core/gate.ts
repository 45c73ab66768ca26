import picomatch from "picomatch";
import type { DbMetadata } from "./dbmeta.js";
import {
  SEVERITIES,
  confidenceAtLeast,
  severityAtLeast,
  severityRank,
  type Finding,
  type Severity,
  type Stage,
  type ToolName,
} from "./findings.js";
import { waiverExpired, waiverTermProblems, type Policy, type Waiver } from "./policy.js";
import type { ToolRun } from "./toolrun.js";

const DAY_MS = 86_400_000;

/** What the gate decided about one finding. `info` is reported below every threshold. */
export type Disposition = "blocking" | "warning" | "waived" | "info";

export interface JudgedFinding extends Finding {
  disposition: Disposition;
  /** The waiver that waived it (disposition "waived"). */
  waivedBy?: WaiverRef;
  /** An expired waiver that matched it and no longer waives. */
  expiredWaiver?: WaiverRef;
}

export interface WaiverRef {
  id: string;
  source: string;
  reason: string;
  owner: string;
  expires: string;
}

export interface WaivedFinding {
  finding: JudgedFinding;
  waiver: WaiverRef;
}

export interface ExpiredWaiver extends Waiver {
  /** How many findings it would still have waived. */
  matched: number;
}

export interface ToolSummary {
  tool: ToolName;
  stage: Stage;
  version?: string;
  artifact?: string;
  findings: number;
  errors: string[];
  notes: string[];
}

export interface DbStatus {
  /** False when no DB metadata was given: the age is unknown. */
  known: boolean;
  updatedAt?: string;
  nextUpdate?: string;
  ageDays?: number;
  maxAgeDays: number;
  stale: boolean;
}

export type SeverityCounts = Record<Severity, number>;

export interface Verdict {
  outcome: "pass" | "fail" | "error";
  /** The `now` the gate judged at (ISO), so a verdict can be re-derived. */
  evaluatedAt: string;
  policy: { source: string; sast: Policy["sast"]; image: Policy["image"]; maxWaiverDays?: number };
  counts: {
    total: number;
    blocking: number;
    warnings: number;
    waived: number;
    info: number;
    byStage: Record<Stage, SeverityCounts>;
  };
  /** Every finding, sorted by a stable key (stage, severity, rule, place, fingerprint). */
  findings: JudgedFinding[];
  blocking: JudgedFinding[];
  warnings: JudgedFinding[];
  waived: WaivedFinding[];
  expiredWaivers: ExpiredWaiver[];
  unusedWaivers: Waiver[];
  errors: string[];
  notes: string[];
  tools: ToolSummary[];
  db: DbStatus;
}

export interface GateInput {
  runs: ToolRun[];
  policy: Policy;
  now: Date;
  db?: DbMetadata;
  /** Problems found outside the runs (unreadable DB metadata, …): each makes the outcome "error". */
  extraErrors?: string[];
}

const STAGE_ORDER: Record<Stage, number> = { sast: 0, image: 1 };

function emptyCounts(): SeverityCounts {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts;
}

function refOf(w: Waiver): WaiverRef {
  return { id: w.id, source: w.source, reason: w.reason, owner: w.owner, expires: w.expires };
}

/** Total order over findings so reports are byte-identical for the same input. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    STAGE_ORDER[a.stage] - STAGE_ORDER[b.stage] ||
    severityRank(b.severity) - severityRank(a.severity) ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.location?.path ?? "", b.location?.path ?? "") ||
    (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
    (a.location?.column ?? 0) - (b.location?.column ?? 0) ||
    cmp(a.package?.target ?? "", b.package?.target ?? "") ||
    cmp(a.package?.name ?? "", b.package?.name ?? "") ||
    cmp(a.package?.installedVersion ?? "", b.package?.installedVersion ?? "") ||
    cmp(a.package?.path ?? "", b.package?.path ?? "") ||
    cmp(a.fingerprint, b.fingerprint)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface CompiledWaiver {
  waiver: Waiver;
  ref: WaiverRef;
  expired: boolean;
  pathMatches?: (path: string) => boolean;
  matched: number;
}

function waiverMatches(w: CompiledWaiver, f: Finding): boolean {
  if (w.waiver.id !== f.ruleId) return false;
  if (w.waiver.package !== undefined) {
    if (!f.package || (f.package.name !== w.waiver.package && f.package.sourceName !== w.waiver.package)) return false;
  }
  if (w.pathMatches) {
    if (!f.location || !w.pathMatches(f.location.path)) return false;
  }
  return true;
}

/** Whether a finding reaches its stage's blocking threshold, before waivers. */
export function isBlocking(f: Finding, policy: Policy): boolean {
  if (f.stage === "sast") {
    return severityAtLeast(f.severity, policy.sast.failOn) && confidenceAtLeast(f.confidence, policy.sast.minConfidence);
  }
  return severityAtLeast(f.severity, policy.image.failOn) && (!policy.image.ignoreUnfixed || !!f.package?.fixedVersion);
}

function warnOn(stage: Stage, policy: Policy): Severity {
  return stage === "sast" ? policy.sast.warnOn : policy.image.warnOn;
}

function dbStatus(db: DbMetadata | undefined, policy: Policy, now: Date): DbStatus {
  const maxAgeDays = policy.image.maxDbAgeDays;
  if (!db) return { known: false, maxAgeDays, stale: false };
  const ageMs = now.getTime() - Date.parse(db.updatedAt);
  return {
    known: true,
    updatedAt: db.updatedAt,
    nextUpdate: db.nextUpdate,
    ageDays: Math.max(0, Math.floor(ageMs / DAY_MS)),
    maxAgeDays,
    stale: ageMs > maxAgeDays * DAY_MS,
  };
}

/** The gate: (findings, policy, now) -> Verdict. Pure and deterministic. */
export function evaluate(input: GateInput): Verdict {
  const { runs, policy, now } = input;
  const errors: string[] = [];
  const notes: string[] = [];

  if (runs.length === 0) errors.push("no scanner output to judge: give a Bandit report, a Trivy report, or both");
  for (const run of runs) {
    errors.push(...run.errors);
    notes.push(...run.notes);
  }
  errors.push(...(input.extraErrors ?? []));
  errors.push(...waiverTermProblems(policy, now).map((p) => `policy: ${p}`));

  const db = dbStatus(input.db, policy, now);
  if (db.stale) {
    errors.push(
      `Trivy vulnerability DB is stale: updated ${db.updatedAt}, ${db.ageDays} day(s) old; policy image.maxDbAgeDays is ${db.maxAgeDays}`,
    );
  } else if (!db.known && runs.some((r) => r.tool === "trivy")) {
    notes.push("Trivy DB age unknown (no DB metadata given)");
  }

  const compiled: CompiledWaiver[] = policy.waivers.map((waiver) => ({
    waiver,
    ref: refOf(waiver),
    expired: waiverExpired(waiver, now),
    ...(waiver.path !== undefined ? { pathMatches: picomatch(waiver.path, { dot: true }) } : {}),
    matched: 0,
  }));
  const waiversById = new Map<string, CompiledWaiver[]>();
  for (const w of compiled) {
    const same = waiversById.get(w.waiver.id);
    if (same) same.push(w);
    else waiversById.set(w.waiver.id, [w]);
  }

  // The same finding reported twice (same fingerprint) is judged once.
  const seen = new Set<string>();
  const findings: JudgedFinding[] = [];
  for (const run of runs) {
    for (const finding of run.findings) {
      if (seen.has(finding.fingerprint)) continue;
      seen.add(finding.fingerprint);
      findings.push(judge(finding, waiversById.get(finding.ruleId) ?? [], policy));
    }
  }
  findings.sort(compareFindings);

  const byStage: Record<Stage, SeverityCounts> = { sast: emptyCounts(), image: emptyCounts() };
  const blocking: JudgedFinding[] = [];
  const warnings: JudgedFinding[] = [];
  const waived: WaivedFinding[] = [];
  let info = 0;
  for (const f of findings) {
    byStage[f.stage][f.severity]++;
    if (f.disposition === "blocking") blocking.push(f);
    else if (f.disposition === "warning") warnings.push(f);
    else if (f.disposition === "waived") waived.push({ finding: f, waiver: f.waivedBy! });
    else info++;
  }

  const outcome = errors.length > 0 ? "error" : blocking.length > 0 ? "fail" : "pass";
  return {
    outcome,
    evaluatedAt: now.toISOString(),
    policy: {
      source: policy.source,
      sast: policy.sast,
      image: policy.image,
      ...(policy.maxWaiverDays !== undefined ? { maxWaiverDays: policy.maxWaiverDays } : {}),
    },
    counts: { total: findings.length, blocking: blocking.length, warnings: warnings.length, waived: waived.length, info, byStage },
    findings,
    blocking,
    warnings,
    waived,
    expiredWaivers: compiled.filter((w) => w.expired).map((w) => ({ ...w.waiver, matched: w.matched })),
    unusedWaivers: compiled.filter((w) => !w.expired && w.matched === 0).map((w) => w.waiver),
    errors,
    notes,
    tools: runs.map((run) => ({
      tool: run.tool,
      stage: run.stage,
      ...(run.version ? { version: run.version } : {}),
      ...(run.artifact ? { artifact: run.artifact } : {}),
      findings: run.findings.length,
      errors: run.errors,
      notes: run.notes,
    })),
    db,
  };
}

function judge(finding: Finding, candidates: CompiledWaiver[], policy: Policy): JudgedFinding {
  let active: CompiledWaiver | undefined;
  let expired: CompiledWaiver | undefined;
  for (const w of candidates) {
    if (!waiverMatches(w, finding)) continue;
    w.matched++;
    if (w.expired) expired ??= w;
    else active ??= w;
  }
  const disposition: Disposition = active
    ? "waived"
    : isBlocking(finding, policy)
      ? "blocking"
      : severityAtLeast(finding.severity, warnOn(finding.stage, policy))
        ? "warning"
        : "info";
  // Built field by field (not spread) so every judged finding shares one compact object shape.
  const judged: JudgedFinding = {
    tool: finding.tool,
    stage: finding.stage,
    ruleId: finding.ruleId,
    title: finding.title,
    message: finding.message,
    severity: finding.severity,
    cwe: finding.cwe,
    links: finding.links,
    fingerprint: finding.fingerprint,
    disposition,
  };
  if (finding.confidence !== undefined) judged.confidence = finding.confidence;
  if (finding.location !== undefined) judged.location = finding.location;
  if (finding.package !== undefined) judged.package = finding.package;
  if (active) judged.waivedBy = active.ref;
  if (expired) judged.expiredWaiver = expired.ref;
  return judged;
}

function describe(f: Finding): string {
  if (f.location) return `${f.ruleId} (${f.severity}) at ${f.location.path}:${f.location.line}`;
  if (f.package) return `${f.ruleId} (${f.severity}) in ${f.package.name} ${f.package.installedVersion}`;
  return `${f.ruleId} (${f.severity})`;
}

/** One plain-text paragraph saying why the gate decided what it did (for CLI lines and thrown errors). */
export function summarizeVerdict(verdict: Verdict): string {
  const { counts } = verdict;
  const tail = `${counts.warnings} warning(s), ${counts.waived} waived, ${counts.total} finding(s) in all.`;
  const list = (items: string[], total = items.length) =>
    items.join("; ") + (total > items.length ? `; and ${total - items.length} more` : "");
  if (verdict.outcome === "error") {
    const blocking = counts.blocking > 0 ? ` ${counts.blocking} blocking finding(s) as well.` : "";
    return `ERROR: the gate could not judge (${verdict.errors.length} problem(s)): ${list(verdict.errors.slice(0, 2), verdict.errors.length)}.${blocking} ${tail}`;
  }
  if (verdict.outcome === "fail") {
    return `FAIL: ${counts.blocking} blocking finding(s): ${list(verdict.blocking.slice(0, 3).map(describe), counts.blocking)}. ${tail}`;
  }
  return `PASS: no blocking findings. ${tail}`;
}
