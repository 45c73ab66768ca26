#!/usr/bin/env node
// Splits portcullis.sarif into one file per tool (one code-scanning category each) and trims each
// file to GitHub's upload limits, warning about what was left out. Wiring only: no verdict is made here.
import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join, posix } from "node:path";
import { pathToFileURL } from "node:url";

/** GitHub code scanning: at most 20 runs per uploaded file. */
export const MAX_RUNS_PER_UPLOAD = 20;
/** GitHub code scanning: at most 25,000 results per upload (we count them across the file's runs). */
export const MAX_RESULTS_PER_UPLOAD = 25_000;

/** The file and category key for a run: its driver's name, lower-cased, safe for a file name. */
export function toolKey(run) {
  const name = String(run?.tool?.driver?.name ?? "unknown");
  return name.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-") || "unknown";
}

/** "./app/" -> "app"; "." and "" -> "" (nothing to prefix); absolute paths are not prefixed. */
export function normalisePrefix(source) {
  let p = String(source ?? "").replace(/\\/g, "/").trim();
  if (p.startsWith("/")) return "";
  p = posix.normalize(p || ".");
  if (p === "." || p === "./") return "";
  return p.replace(/^\.\//, "").replace(/\/+$/, "");
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

// The module sees only the source Directory, so its file locations are relative to it;
// code scanning resolves them against the repository root.
function prefixLocation(artifactLocation, prefix) {
  if (!prefix || !artifactLocation || typeof artifactLocation.uri !== "string") return;
  const uri = artifactLocation.uri;
  if (uri === "" || uri.startsWith("/") || HAS_SCHEME.test(uri)) return;
  if (artifactLocation.uriBaseId !== undefined && artifactLocation.uriBaseId !== "%SRCROOT%" && artifactLocation.uriBaseId !== "SRCROOT") return;
  artifactLocation.uri = posix.join(prefix, uri);
}

function prefixRun(run, prefix) {
  for (const artifact of run.artifacts ?? []) prefixLocation(artifact.location, prefix);
  for (const result of run.results ?? []) {
    for (const location of result.locations ?? []) prefixLocation(location.physicalLocation?.artifactLocation, prefix);
  }
}

/**
 * @param {object} log a SARIF 2.1.0 log as parsed JSON
 * @param {{ sourcePrefix?: string, maxRuns?: number, maxResults?: number }} [options]
 * @returns {{ files: Record<string, object>, warnings: string[] }} one SARIF log per tool key
 */
export function fitSarifToLimits(log, options = {}) {
  const maxRuns = options.maxRuns ?? MAX_RUNS_PER_UPLOAD;
  const maxResults = options.maxResults ?? MAX_RESULTS_PER_UPLOAD;
  const prefix = normalisePrefix(options.sourcePrefix);
  if (!log || typeof log !== "object" || !Array.isArray(log.runs)) {
    throw new Error("not a SARIF log: no runs array at the top level");
  }
  const byTool = new Map();
  for (const run of log.runs) {
    const key = toolKey(run);
    if (!byTool.has(key)) byTool.set(key, []);
    byTool.get(key).push(run);
  }
  const files = {};
  const warnings = [];
  for (const [key, allRuns] of byTool) {
    let runs = allRuns;
    if (runs.length > maxRuns) {
      warnings.push(`${key}: ${runs.length} SARIF runs, code scanning takes ${maxRuns} per upload; uploading the first ${maxRuns} (all are in the reports artifact)`);
      runs = runs.slice(0, maxRuns);
    }
    let budget = maxResults;
    let total = 0;
    const kept = runs.map((run) => {
      const results = run.results ?? [];
      total += results.length;
      const copy = structuredClone({ ...run, results: results.slice(0, Math.max(0, budget)) });
      budget -= copy.results.length;
      prefixRun(copy, prefix);
      return copy;
    });
    if (total > maxResults) {
      warnings.push(`${key}: ${total} SARIF results, code scanning takes ${maxResults} per upload; uploading the first ${maxResults} in report order (all are in the reports artifact)`);
    }
    files[key] = { ...log, runs: kept };
  }
  return { files, warnings };
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!["--input", "--out-dir", "--source-prefix", "--github-output"].includes(flag) || value === undefined) {
      throw new Error(`unknown or incomplete option "${flag ?? ""}"; usage: sarif-limits.mjs --input FILE --out-dir DIR [--source-prefix PATH] [--github-output FILE]`);
    }
    args[flag.slice(2)] = value;
  }
  if (!args.input || !args["out-dir"]) throw new Error("--input and --out-dir are required");
  return args;
}

function main(argv) {
  const args = parseArgs(argv);
  let log;
  try {
    log = JSON.parse(readFileSync(args.input, "utf8"));
  } catch (error) {
    throw new Error(`${args.input}: cannot read SARIF JSON (${error.message})`);
  }
  const { files, warnings } = fitSarifToLimits(log, { sourcePrefix: args["source-prefix"] });
  mkdirSync(args["out-dir"], { recursive: true });
  for (const [key, file] of Object.entries(files)) {
    writeFileSync(join(args["out-dir"], `${key}.sarif`), JSON.stringify(file));
    const results = file.runs.reduce((n, run) => n + (run.results?.length ?? 0), 0);
    console.log(`portcullis: ${key}.sarif: ${file.runs.length} run(s), ${results} result(s)`);
  }
  for (const warning of warnings) console.log(`::warning title=portcullis SARIF limits::${warning}`);
  if (args["github-output"]) appendFileSync(args["github-output"], `tools=${JSON.stringify(Object.keys(files))}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.log(`::error title=portcullis SARIF limits::${error.message}`);
    process.exitCode = 2;
  }
}
