import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { SEVERITIES, type Confidence, type Severity } from "./findings.js";
import { PolicyError } from "./errors.js";

const DAY_MS = 86_400_000;

const SeveritySchema = z.enum(SEVERITIES);
const MinConfidenceSchema = z.enum(["LOW", "MEDIUM", "HIGH"]);

const WaiverSchema = z.strictObject({
  id: z.string().trim().min(1, "must name a vulnerability id or Bandit test id"),
  package: z.string().trim().min(1).optional(),
  path: z.string().trim().min(1).optional(),
  reason: z.string().trim().min(1, "must say why the finding is accepted"),
  owner: z.string().trim().min(1, "must name who answers for the waiver"),
  expires: z.iso.date("must be a calendar date written YYYY-MM-DD"),
});

/** The policy file schema: unknown keys are errors, so a typo never silently weakens the gate. */
export const PolicySchema = z.strictObject({
  version: z.literal(1, { error: "must be 1" }),
  sast: z
    .strictObject({
      failOn: SeveritySchema.default("MEDIUM"),
      minConfidence: MinConfidenceSchema.default("MEDIUM"),
      warnOn: SeveritySchema.default("LOW"),
    })
    .default({ failOn: "MEDIUM", minConfidence: "MEDIUM", warnOn: "LOW" }),
  image: z
    .strictObject({
      failOn: SeveritySchema.default("CRITICAL"),
      warnOn: SeveritySchema.default("HIGH"),
      ignoreUnfixed: z.boolean().default(false),
      maxDbAgeDays: z.number().int().positive().default(7),
    })
    .default({ failOn: "CRITICAL", warnOn: "HIGH", ignoreUnfixed: false, maxDbAgeDays: 7 }),
  waivers: z.array(WaiverSchema).nullable().default([]),
  maxWaiverDays: z.number().int().positive().optional(),
});

export interface Waiver {
  id: string;
  package?: string;
  path?: string;
  reason: string;
  owner: string;
  /** Last day (UTC, YYYY-MM-DD) on which the waiver still waives. */
  expires: string;
  /** Where the waiver is written, for reports: "policies/default.yaml:14". */
  source: string;
}

export interface Policy {
  version: 1;
  /** The file the policy came from. */
  source: string;
  sast: { failOn: Severity; minConfidence: Exclude<Confidence, "UNDEFINED">; warnOn: Severity };
  image: { failOn: Severity; warnOn: Severity; ignoreUnfixed: boolean; maxDbAgeDays: number };
  waivers: Waiver[];
  maxWaiverDays?: number;
}

/** A waiver stops waiving once its expiry day (UTC) is over. */
export function waiverExpired(waiver: Pick<Waiver, "expires">, now: Date): boolean {
  return now.getTime() >= Date.parse(`${waiver.expires}T00:00:00Z`) + DAY_MS;
}

/** Whole days from `now` (UTC day) to the waiver's expiry day. */
export function daysUntilExpiry(waiver: Pick<Waiver, "expires">, now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((Date.parse(`${waiver.expires}T00:00:00Z`) - today) / DAY_MS);
}

/** Waivers that run longer than the policy's maxWaiverDays allows, as one-line problems. */
export function waiverTermProblems(policy: Policy, now: Date): string[] {
  if (policy.maxWaiverDays === undefined) return [];
  const max = policy.maxWaiverDays;
  return policy.waivers
    .filter((w) => daysUntilExpiry(w, now) > max)
    .map(
      (w) =>
        `${w.source} waiver ${w.id}: expires ${w.expires}, ${daysUntilExpiry(w, now)} days out; maxWaiverDays is ${max}`,
    );
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  }
  return out || "(top level)";
}

/** The 1-based line of the YAML node at `path`, or of its nearest ancestor that exists. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[], key?: string): number | undefined {
  const keys = path.map((k) => (typeof k === "symbol" ? String(k) : k));
  for (let depth = keys.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(keys.slice(0, depth), true)) as Node | null | undefined;
    if (!node) continue;
    if (key !== undefined && depth === keys.length && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return counter.linePos(pair.key.range[0]).line;
    }
    if (node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function fail(filePath: string, line: number | undefined, field: string | undefined, problem: string, cause?: unknown): never {
  const where = line !== undefined ? `${filePath}:${line}` : filePath;
  throw new PolicyError(`${where}${field ? ` ${field}` : ""}: ${problem}`, filePath, line, { cause });
}

/**
 * Parses and validates a policy. Errors are one line: `file:line field: problem`.
 * With `now`, a waiver further out than maxWaiverDays is an error too.
 */
export function parsePolicy(yamlText: string, opts: { filePath: string; now?: Date }): Policy {
  const { filePath } = opts;
  if (yamlText.trim().length === 0) fail(filePath, undefined, undefined, "empty policy file (expected at least `version: 1`)");
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line;
    // prettyErrors adds " at line L, column C:" and a code excerpt; the line is already in front.
    const message = syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    fail(filePath, line, undefined, `YAML syntax: ${message}`, syntax);
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    fail(filePath, 1, undefined, "a policy is a YAML mapping with at least `version: 1`");
  }
  const parsed = PolicySchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : "";
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      const line = lineOf(doc, counter, issue.path, key);
      fail(filePath, line, formatPath([...issue.path, key]), `unknown key${more}`, parsed.error);
    }
    const line = lineOf(doc, counter, issue.path);
    const missing = valueAt(data, issue.path) === undefined;
    const problem = missing ? "is required" : issue.message;
    fail(filePath, line, formatPath(issue.path), `${problem}${more}`, parsed.error);
  }
  const raw = parsed.data;
  const policy: Policy = {
    version: 1,
    source: filePath,
    sast: raw.sast,
    image: raw.image,
    waivers: (raw.waivers ?? []).map((w, index) => ({
      id: w.id,
      ...(w.package !== undefined ? { package: w.package } : {}),
      ...(w.path !== undefined ? { path: w.path.replace(/^(\.\/)+/, "") } : {}),
      reason: w.reason,
      owner: w.owner,
      expires: w.expires,
      source: `${filePath}:${lineOf(doc, counter, ["waivers", index]) ?? "?"}`,
    })),
    ...(raw.maxWaiverDays !== undefined ? { maxWaiverDays: raw.maxWaiverDays } : {}),
  };
  if (opts.now) {
    const index = policy.waivers.findIndex((w) => policy.maxWaiverDays !== undefined && daysUntilExpiry(w, opts.now!) > policy.maxWaiverDays);
    if (index >= 0) {
      const waiver = policy.waivers[index]!;
      fail(
        filePath,
        lineOf(doc, counter, ["waivers", index, "expires"]),
        `waivers[${index}].expires`,
        `${waiver.expires} is ${daysUntilExpiry(waiver, opts.now)} days out, over maxWaiverDays (${policy.maxWaiverDays})`,
      );
    }
  }
  return policy;
}
