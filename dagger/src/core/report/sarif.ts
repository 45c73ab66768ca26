import type { Log, ReportingDescriptor, Result, Run, Location } from "sarif";
import { severityRank, type Severity, type ToolName } from "../findings.js";
import type { JudgedFinding, Verdict } from "../gate.js";
import { PRETTY_JSON_LIMIT, jsonText } from "./json.js";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

/** GitHub code scanning reads `security-severity` (0–10) on rules: >9 critical, ≥7 high, ≥4 medium, >0 low. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  CRITICAL: "9.5",
  HIGH: "8.0",
  MEDIUM: "5.5",
  LOW: "2.0",
  UNKNOWN: "0.0",
};

export function levelOf(severity: Severity): Result.level {
  return severity === "CRITICAL" || severity === "HIGH" ? "error" : severity === "MEDIUM" ? "warning" : "note";
}

const DRIVERS: Record<ToolName, { name: string; informationUri: string }> = {
  bandit: { name: "Bandit", informationUri: "https://bandit.readthedocs.io/" },
  trivy: { name: "Trivy", informationUri: "https://trivy.dev/" },
};

export interface SarifOptions {
  /**
   * Where image findings are anchored. The core cannot know the Dockerfile's path, and GitHub code
   * scanning rejects results without a physical location, so image findings point at line 1 of this file.
   */
  imageLocation?: string;
}

/** `CWE-605` -> `external/cwe/cwe-605`, the tag GitHub code scanning turns into a CWE link. */
export function cweTag(cwe: string): string | undefined {
  const match = /^CWE-(\d+)$/i.exec(cwe);
  return match ? `external/cwe/cwe-${match[1]}` : undefined;
}

function ruleFor(f: JudgedFinding, severity: Severity): ReportingDescriptor {
  const helpUri = f.links[0];
  const tags = ["security", ...f.cwe.map(cweTag).filter((t): t is string => !!t)];
  const helpText = `${f.title}${helpUri ? ` - ${helpUri}` : ""}`;
  return {
    id: f.ruleId,
    name: f.tool === "bandit" ? f.title : f.ruleId,
    shortDescription: { text: f.tool === "bandit" ? `${f.ruleId} ${f.title}` : f.title },
    ...(helpUri ? { helpUri } : {}),
    help: { text: helpText, markdown: helpUri ? `[${f.ruleId}](${helpUri}): ${f.title}` : `${f.ruleId}: ${f.title}` },
    defaultConfiguration: { level: levelOf(severity) },
    properties: {
      tags,
      "security-severity": SECURITY_SEVERITY[severity],
      ...(f.tool === "bandit" ? { precision: precisionOf(f) } : {}),
    },
  };
}

function precisionOf(f: JudgedFinding): string {
  switch (f.confidence) {
    case "HIGH":
      return "high";
    case "MEDIUM":
      return "medium";
    case "LOW":
      return "low";
    default:
      return "medium";
  }
}

// Results are built as single object literals (absent fields undefined, which JSON.stringify leaves
// out), not with spreads: one shape per kind of result, cheap to build for 100,000 findings.
function locationOf(f: JudgedFinding, opts: SarifOptions): Location {
  if (f.location) {
    return {
      physicalLocation: {
        artifactLocation: { uri: uriOf(f.location.path), uriBaseId: "%SRCROOT%" },
        region: {
          startLine: Math.max(1, f.location.line),
          endLine: f.location.endLine || undefined,
          startColumn: f.location.column || undefined,
        },
      },
    };
  }
  const pkg = f.package!;
  return {
    physicalLocation: {
      artifactLocation: { uri: uriOf(opts.imageLocation ?? "Dockerfile"), uriBaseId: "%SRCROOT%" },
      region: { startLine: 1 },
    },
    logicalLocations: [{ name: pkg.name, fullyQualifiedName: qualifiedName(pkg), kind: "package" }],
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A path as a SARIF artifact URI. Bandit writes a file name that is not UTF-8 with lone surrogates
 * (Python's surrogateescape), which encodeURI refuses: they become U+FFFD, as in any UTF-8 text.
 */
function uriOf(path: string): string {
  try {
    return encodeURI(path);
  } catch {
    return encodeURI(path.replace(LONE_SURROGATE, "\uFFFD"));
  }
}

function qualifiedName(pkg: NonNullable<JudgedFinding["package"]>): string {
  return `${pkg.target}/${pkg.path ? `${pkg.path}/` : ""}${pkg.name}@${pkg.installedVersion}`;
}

function justificationOf(w: NonNullable<JudgedFinding["waivedBy"]>): string {
  return `${w.reason} (owner ${w.owner}, expires ${w.expires}, ${w.source})`;
}

// The rule carries the title and links; the message says what is specific to this finding.
function messageOf(f: JudgedFinding): string {
  if (f.package) {
    const p = f.package;
    const fix = p.fixedVersion ? `fixed in ${p.fixedVersion}` : `no fixed version${p.status ? ` (${p.status})` : ""}`;
    return `${f.ruleId} (${f.severity}) in ${p.name} ${p.installedVersion}${p.sourceName ? ` (source ${p.sourceName})` : ""}, ${fix}; target ${p.target}`;
  }
  return `${f.ruleId} (${f.severity}, confidence ${f.confidence ?? "UNDEFINED"}): ${f.message}`;
}

export function resultOf(f: JudgedFinding, ruleIndex: number, opts: SarifOptions): Result {
  const w = f.waivedBy;
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: levelOf(f.severity),
    message: { text: messageOf(f) },
    locations: [locationOf(f, opts)],
    partialFingerprints: { "portcullis/v1": f.fingerprint },
    suppressions: w
      ? [{ kind: "external", status: "accepted", justification: justificationOf(w) }]
      : undefined,
    properties: { "security-severity": SECURITY_SEVERITY[f.severity], disposition: f.disposition },
  };
}

const quote = JSON.stringify as (text: string) => string;

/**
 * A writer of `JSON.stringify(resultOf(f, ruleIndex, opts))`, written directly: a result is ten small
 * objects, and JSON.stringify's cost goes by object. Strings are still quoted by JSON.stringify; the
 * keys and their order are resultOf's (test/core/sarif.unit.test.ts checks the two agree to the byte).
 * What repeats from result to result (a rule's opening, a file's URI, a Bandit message, the closing
 * properties) is written once per log and reused.
 */
export function resultWriter(opts: SarifOptions): (f: JudgedFinding, ruleIndex: number) => string {
  const imageUri = quote(uriOf(opts.imageLocation ?? "Dockerfile"));
  const uris = new Map<string, string>();
  const openings = new Map<string, { ruleIndex: number; bySeverity: Array<string | undefined> }>();
  const messages = new Map<string, { ruleId: string; severity: string; confidence?: string; text: string }>();
  const closings = new Map<string, string>();
  return (f, ruleIndex) => {
    // {"ruleId":…,"ruleIndex":…,"level":…,"message":{"text":
    let rule = openings.get(f.ruleId);
    if (!rule || rule.ruleIndex !== ruleIndex) openings.set(f.ruleId, (rule = { ruleIndex, bySeverity: [] }));
    const rank = severityRank(f.severity);
    const opening = (rule.bySeverity[rank] ??=
      `{"ruleId":${quote(f.ruleId)},"ruleIndex":${ruleIndex},"level":"${levelOf(f.severity)}","message":{"text":`);
    let message: string;
    let location: string;
    if (f.location) {
      const seen = messages.get(f.message);
      if (seen && seen.ruleId === f.ruleId && seen.severity === f.severity && seen.confidence === f.confidence) message = seen.text;
      else messages.set(f.message, { ruleId: f.ruleId, severity: f.severity, confidence: f.confidence, text: (message = quote(messageOf(f))) });
      const l = f.location;
      let uri = uris.get(l.path);
      if (uri === undefined) uris.set(l.path, (uri = quote(uriOf(l.path))));
      location =
        `{"physicalLocation":{"artifactLocation":{"uri":${uri},"uriBaseId":"%SRCROOT%"},` +
        `"region":{"startLine":${Math.max(1, l.line)}${l.endLine ? `,"endLine":${l.endLine}` : ""}${l.column ? `,"startColumn":${l.column}` : ""}}}}`;
    } else {
      const pkg = f.package!;
      message = quote(messageOf(f));
      location =
        `{"physicalLocation":{"artifactLocation":{"uri":${imageUri},"uriBaseId":"%SRCROOT%"},"region":{"startLine":1}},` +
        `"logicalLocations":[{"name":${quote(pkg.name)},"fullyQualifiedName":${quote(qualifiedName(pkg))},"kind":"package"}]}`;
    }
    const w = f.waivedBy;
    const suppressions = w ? `"suppressions":[{"kind":"external","status":"accepted","justification":${quote(justificationOf(w))}}],` : "";
    const closingKey = `${f.severity} ${f.disposition}`;
    let closing = closings.get(closingKey);
    if (closing === undefined) {
      closings.set(closingKey, (closing = `"properties":{"security-severity":"${SECURITY_SEVERITY[f.severity]}","disposition":"${f.disposition}"}}`));
    }
    return `${opening}${message}},"locations":[${location}],"partialFingerprints":{"portcullis/v1":${quote(f.fingerprint)}},${suppressions}${closing}`;
  };
}

/** A run without its results, which always come last so the compact writer can append them. */
function runFor(tool: ToolName, verdict: Verdict): { run: Run; findings: JudgedFinding[]; indexOf: Map<string, number> } {
  const summaries = verdict.tools.filter((t) => t.tool === tool);
  const findings = verdict.findings.filter((f) => f.tool === tool);
  // A rule's severity is the worst among its results (one CVE can hit several packages).
  const worst = new Map<string, JudgedFinding>();
  for (const f of findings) {
    const seen = worst.get(f.ruleId);
    if (!seen || severityRank(f.severity) > severityRank(seen.severity)) worst.set(f.ruleId, f);
  }
  const ruleIds = [...worst.keys()].sort();
  const indexOf = new Map(ruleIds.map((id, i) => [id, i]));
  const errors = summaries.flatMap((s) => s.errors);
  const version = summaries.find((s) => s.version)?.version;
  const run: Run = {
    tool: {
      driver: {
        ...DRIVERS[tool],
        ...(version ? { version } : {}),
        rules: ruleIds.map((id) => ruleFor(worst.get(id)!, worst.get(id)!.severity)),
      },
    },
    invocations: [
      {
        executionSuccessful: errors.length === 0,
        ...(errors.length > 0
          ? { toolExecutionNotifications: errors.map((text) => ({ level: "error" as const, message: { text } })) }
          : {}),
      },
    ],
    properties: { stage: summaries[0]?.stage ?? (tool === "bandit" ? "sast" : "image") },
    results: [],
  };
  return { run, findings, indexOf };
}

/** Results per chunk when a large log is written piece by piece. */
const RESULTS_PER_CHUNK = 200;

/**
 * The SARIF log as a sequence of text chunks. Small logs come as one indented chunk; large ones
 * compact, result by result, so neither the whole result tree nor the whole text need exist at once.
 */
export function* sarifChunks(verdict: Verdict, opts: SarifOptions = {}): Generator<string> {
  const tools = [...new Set(verdict.tools.map((t) => t.tool))].sort();
  const runs = tools.map((tool) => runFor(tool, verdict));
  const log: Log = {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: runs.map((r) => r.run),
    // SARIF has no place for the gate's own facts; a property bag carries them for readers that look.
    properties: {
      "portcullis/outcome": verdict.outcome,
      "portcullis/trivyDbUpdatedAt": verdict.db.updatedAt ?? "unknown",
    },
  };
  if (verdict.findings.length <= PRETTY_JSON_LIMIT) {
    for (const { run, findings, indexOf } of runs) run.results = findings.map((f) => resultOf(f, indexOf.get(f.ruleId)!, opts));
    yield jsonText(log, verdict.findings.length);
    return;
  }
  // `runs` last, and `results` last in each run, so each can be left open and filled in.
  const { runs: _allRuns, ...rest } = log;
  yield `${JSON.stringify({ ...rest, runs: [] }).slice(0, -3)}[`;
  const write = resultWriter(opts);
  for (const [r, { run, findings, indexOf }] of runs.entries()) {
    yield `${r > 0 ? "," : ""}${JSON.stringify(run).slice(0, -3)}[`;
    for (let i = 0; i < findings.length; i += RESULTS_PER_CHUNK) {
      const texts: string[] = [];
      for (const f of findings.slice(i, i + RESULTS_PER_CHUNK)) texts.push(write(f, indexOf.get(f.ruleId)!));
      yield `${i > 0 ? "," : ""}${texts.join(",")}`;
    }
    yield "]}";
  }
  yield "]}\n";
}

/** One SARIF 2.1.0 log, one run per tool that took part. */
export function renderSarif(verdict: Verdict, opts: SarifOptions = {}): string {
  return [...sarifChunks(verdict, opts)].join("");
}
