import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Log, Run } from "sarif";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_YAML, evaluate, parseBandit, parsePolicy, renderReports, STAGE_OF_TOOL, toolFailure, type ToolName } from "../../dagger/src/core/index.js";
import { parseAction } from "./action-calls.js";
import {
  MAX_RESULTS_PER_UPLOAD,
  MAX_RUNS_PER_UPLOAD,
  fitSarifToLimits,
  normalisePrefix,
  toolKey,
} from "../../.github/actions/portcullis/sarif-limits.mjs";
import { REPO_ROOT } from "./module-signature.js";

const SCRIPT = resolve(REPO_ROOT, ".github/actions/portcullis/sarif-limits.mjs");
const FIXTURE = resolve(REPO_ROOT, "test/fixtures/bandit/bandit-b104.json");

/** The SARIF the module would write for the real Bandit B104 fixture, through the real core. */
function banditSarif(): Log {
  const run = parseBandit(readFileSync(FIXTURE, "utf8"), { filePath: FIXTURE });
  const policy = parsePolicy(DEFAULT_POLICY_YAML, { filePath: "default.yaml" });
  const verdict = evaluate({ runs: [run], policy, now: new Date("2026-11-28T00:00:00Z") });
  return JSON.parse(renderReports(verdict)["portcullis.sarif"]) as Log;
}

/** A copy of a run under another tool name, to exercise the split (no Trivy fixture is needed for that). */
function asTool(run: Run, name: string): Run {
  return { ...structuredClone(run), tool: { driver: { ...run.tool.driver, name } } };
}

function uris(log: Log): string[] {
  return log.runs.flatMap((r) => (r.results ?? []).flatMap((x) => (x.locations ?? []).map((l) => l.physicalLocation?.artifactLocation?.uri ?? "")));
}

describe("fitting the module's SARIF to code scanning's limits", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("keeps one file per tool and makes source-relative paths repository-relative", () => {
    const log = banditSarif();
    const before = uris(log);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((u) => !u.startsWith("/") && !u.startsWith("services/"))).toBe(true);
    const { files, warnings } = fitSarifToLimits({ ...log, runs: [...log.runs, asTool(log.runs[0]!, "Trivy")] }, { sourcePrefix: "./services/api/" });
    expect(Object.keys(files).sort()).toEqual(["bandit", "trivy"]);
    expect(warnings).toEqual([]);
    expect(uris(files.bandit!)).toEqual(before.map((u) => `services/api/${u}`));
    expect(files.bandit!.runs[0]!.tool.driver.name).toBe("Bandit");
    expect(uris(log)).toEqual(before); // the input is not modified
  });

  it("the action uploads every tool the module reports, each under its own category", () => {
    const steps = parseAction(readFileSync(resolve(REPO_ROOT, ".github/actions/portcullis/action.yml"), "utf8")).steps as Array<{
      uses?: string;
      if?: string;
      with?: Record<string, string>;
    }>;
    const uploads = steps.filter((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"));
    const tools = Object.keys(STAGE_OF_TOOL).sort();
    expect(tools.length).toBeGreaterThan(1);
    expect(uploads.map((u) => u.with?.category).sort()).toEqual(tools.map((t) => `portcullis-${t}`));
    for (const tool of tools) {
      const upload = uploads.find((u) => u.with?.category === `portcullis-${tool}`)!;
      expect(upload.with?.sarif_file).toBe(`\${{ runner.temp }}/portcullis/sarif/${tool}.sarif`);
      expect(upload.if).toContain(`'${tool}')`);
    }
    // The file the splitter writes for a tool is named after the SARIF driver the core renders for it.
    const verdict = evaluate({
      runs: tools.map((tool) => toolFailure(tool as ToolName, "no output")),
      policy: parsePolicy(DEFAULT_POLICY_YAML, { filePath: "default.yaml" }),
      now: new Date("2026-11-28T00:00:00Z"),
    });
    const log = JSON.parse(renderReports(verdict)["portcullis.sarif"]) as Log;
    expect(log.runs.map((run) => toolKey(run)).sort()).toEqual(tools);
  });

  it("splits the SARIF of a real pipeline run on the lab (fixtures/regen.sh) into Bandit and Trivy files", () => {
    const log = JSON.parse(readFileSync(resolve(REPO_ROOT, "test/reach/fixtures/app-pass/portcullis.sarif"), "utf8")) as Log;
    const { files, warnings } = fitSarifToLimits(log, { sourcePrefix: "app" });
    expect(warnings).toEqual([]);
    expect(Object.keys(files).sort()).toEqual(["bandit", "trivy"]);
    const trivy = files.trivy!.runs[0]!.results!;
    expect(trivy.map((r) => r.ruleId)).toEqual(["CVE-2023-45853"]);
    expect(trivy[0]!.locations![0]!.physicalLocation!.artifactLocation).toEqual({ uri: "app/Dockerfile", uriBaseId: "%SRCROOT%" });
    expect(trivy[0]!.suppressions?.[0]?.status).toBe("accepted"); // the waiver travels to code scanning
  });

  it("leaves paths alone when the source is the repository root", () => {
    const log = banditSarif();
    expect(uris(fitSarifToLimits(log, { sourcePrefix: "." }).files.bandit!)).toEqual(uris(log));
    expect(normalisePrefix("")).toBe("");
    expect(normalisePrefix("/abs/path")).toBe("");
    expect(normalisePrefix("app/")).toBe("app");
  });

  it("uploads at most 20 runs and 25,000 results per tool, with a warning for each cut", () => {
    const log = banditSarif();
    const result = log.runs[0]!.results![0]!;
    const bigRun: Run = { ...log.runs[0]!, results: Array.from({ length: 1_300 }, () => structuredClone(result)) };
    const runs = Array.from({ length: MAX_RUNS_PER_UPLOAD + 5 }, () => bigRun);
    const { files, warnings } = fitSarifToLimits({ ...log, runs });
    const kept = files.bandit!;
    expect(kept.runs).toHaveLength(MAX_RUNS_PER_UPLOAD);
    expect(kept.runs.reduce((n, r) => n + (r.results?.length ?? 0), 0)).toBe(MAX_RESULTS_PER_UPLOAD);
    expect(warnings).toEqual([
      "bandit: 25 SARIF runs, code scanning takes 20 per upload; uploading the first 20 (all are in the reports artifact)",
      "bandit: 26000 SARIF results, code scanning takes 25000 per upload; uploading the first 25000 in report order (all are in the reports artifact)",
    ]);
  });

  it("runs as the action's step: writes per-tool files, ::warning:: lines and the tools output", () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-sarif-"));
    dirs.push(dir);
    const log = banditSarif();
    writeFileSync(join(dir, "portcullis.sarif"), JSON.stringify(log));
    const output = join(dir, "github-output");
    writeFileSync(output, "");
    const run = spawnSync(process.execPath, [SCRIPT, "--input", join(dir, "portcullis.sarif"), "--out-dir", join(dir, "sarif"), "--source-prefix", "app", "--github-output", output], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(dir, "sarif"))).toEqual(["bandit.sarif"]);
    expect(readFileSync(output, "utf8")).toBe('tools=["bandit"]\n');
    expect(run.stdout).toMatch(/^portcullis: bandit\.sarif: 1 run\(s\), \d+ result\(s\)$/m);
    expect(uris(JSON.parse(readFileSync(join(dir, "sarif/bandit.sarif"), "utf8")) as Log).every((u) => u.startsWith("app/"))).toBe(true);
  });

  it("reports unreadable input as an ::error:: and exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-sarif-"));
    dirs.push(dir);
    writeFileSync(join(dir, "portcullis.sarif"), "not json");
    const run = spawnSync(process.execPath, [SCRIPT, "--input", join(dir, "portcullis.sarif"), "--out-dir", join(dir, "sarif")], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stdout).toContain("::error title=portcullis SARIF limits::");
    expect(run.stdout).toContain("portcullis.sarif: cannot read SARIF JSON");
  });
});
