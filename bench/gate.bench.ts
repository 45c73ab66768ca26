/**
 * npm run bench:gate — time and peak memory to parse, gate and render every report for 100,000
 * synthetic findings built from the real Bandit and Trivy fixtures. Target: < 2 s and < 300 MB.
 *
 * The parent builds the synthetic reports and writes them to a temp dir; a fresh child process
 * measures, so its peak RSS counts only what the gate itself needs.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

// `npm run bench:gate -- --findings N` measures another size (default 100,000).
const TOTAL_FINDINGS = Number(process.argv[process.argv.indexOf("--findings") + 1]) || 100_000;
const TARGET_MS = 2_000;
const TARGET_MB = 300;
const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
const NOW = new Date("2026-11-28T12:00:00Z");

/** policies/default.yaml's thresholds with two waivers, so the gate has waivers to match. */
const BENCH_POLICY = `version: 1
sast: { failOn: MEDIUM, minConfidence: MEDIUM, warnOn: LOW }
image: { failOn: CRITICAL, warnOn: HIGH, ignoreUnfixed: false, maxDbAgeDays: 7 }
maxWaiverDays: 90
waivers:
  - id: B104
    path: app/module_1*.py
    reason: bench waiver
    owner: bench
    expires: 2026-12-31
  - id: CVE-2020-14343
    reason: bench waiver
    owner: bench
    expires: 2026-12-31
`;

interface Figures {
  findings: number;
  parseMs: number;
  gateMs: number;
  renderMs: number;
  totalMs: number;
  cpuMs: number;
  peakRssMb: number;
  /** Peak RSS when each phase ended: shows which phase sets the peak. */
  peakAfterMb: { parse: number; gate: number };
  cpuPhaseMs: { parse: number; gate: number; render: number };
  reportBytes: Record<string, number>;
  outcome: string;
}

/** Copies of the real Bandit results, spread over many files and lines. */
function syntheticBandit(count: number): string {
  const real = JSON.parse(readFileSync(join(FIXTURES, "bandit/bandit-b104.json"), "utf8"));
  const templates = real.results as Array<Record<string, unknown>>;
  const results = Array.from({ length: count }, (_, i) => {
    const t = templates[i % templates.length]!;
    return { ...t, filename: `./app/module_${Math.floor(i / 50)}.py`, line_number: (i % 50) + 1, line_range: [(i % 50) + 1] };
  });
  return JSON.stringify({ ...real, results });
}

/** Copies of the real Trivy vulnerabilities, spread over many packages and targets. */
function syntheticTrivy(count: number): string {
  const real = JSON.parse(readFileSync(join(FIXTURES, "trivy/trivy-python-vuln.json"), "utf8"));
  const templates = (real.Results as Array<{ Target: string; Class?: string; Type?: string; Vulnerabilities?: unknown[] }>).flatMap(
    (r) => (r.Vulnerabilities ?? []).map((v) => ({ result: r, vuln: v as Record<string, unknown> })),
  );
  if (templates.length === 0) throw new Error("trivy-python-vuln.json has no vulnerabilities to copy");
  const perTarget = 1_000;
  const results = [];
  for (let start = 0; start < count; start += perTarget) {
    const vulns = [];
    for (let i = start; i < Math.min(count, start + perTarget); i++) {
      const { vuln } = templates[i % templates.length]!;
      vulns.push({ ...vuln, PkgName: `${String(vuln.PkgName)}-${i}`, PkgPath: `usr/lib/python3/pkg-${i}/METADATA` });
    }
    const { result } = templates[start % templates.length]!;
    results.push({ Target: `${result.Target} #${start / perTarget}`, Class: result.Class, Type: result.Type, Vulnerabilities: vulns });
  }
  return JSON.stringify({ ...real, Results: results });
}

async function measure(dir: string): Promise<Figures> {
  const core = await import("../dagger/src/core/index.js");
  // The CLI's own reader and writer, so the figures are those of `portcullis gate`.
  const { readInputBytes, writeReportFile } = await import("../ci/commands/gate.js");
  const policyText = BENCH_POLICY;
  // The same path as `portcullis gate`: each input text is dropped once parsed, the runs once judged,
  // and each report written chunk by chunk.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const policy = core.parsePolicy(policyText, { filePath: "bench-policy.yaml", now: NOW });
  // Read one at a time, as the CLI does: each report's bytes can be freed once it is parsed.
  const runs = [core.parseBandit(await readInputBytes("--bandit", join(dir, "bandit.json")), { filePath: "bandit.json" })];
  runs.push(core.parseTrivy(await readInputBytes("--trivy", join(dir, "trivy.json")), { filePath: "trivy.json" }));
  const t1 = performance.now();
  const cpu1 = process.cpuUsage(cpu0);
  const peakParse = process.resourceUsage().maxRSS / 1024;
  const verdict = core.evaluate({ runs: runs.splice(0), policy, now: NOW });
  const t2 = performance.now();
  const cpu2 = process.cpuUsage(cpu0);
  const peakGate = process.resourceUsage().maxRSS / 1024;
  const reportBytes: Record<string, number> = {};
  for (const name of core.REPORT_FILES) {
    reportBytes[name] = await writeReportFile(join(dir, `out-${name}`), core.reportChunks(name, verdict));
  }
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  return {
    findings: verdict.counts.total,
    parseMs: t1 - t0,
    gateMs: t2 - t1,
    renderMs: t3 - t2,
    totalMs: t3 - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakAfterMb: { parse: peakParse, gate: peakGate },
    cpuPhaseMs: {
      parse: (cpu1.user + cpu1.system) / 1000,
      gate: (cpu2.user + cpu2.system - cpu1.user - cpu1.system) / 1000,
      render: (cpu.user + cpu.system - cpu2.user - cpu2.system) / 1000,
    },
    reportBytes,
    outcome: verdict.outcome,
  };
}

/**
 * The reference workload: read both inputs, JSON.parse them whole and JSON.stringify them back, the
 * least any JSON-reading gate does with these bytes. Timed in its own fresh process next to each
 * measuring run, so the ratio of the two says how the gate compares however busy the machine is.
 */
async function reference(dir: string): Promise<number> {
  const t0 = performance.now();
  let bytes = 0;
  for (const name of ["bandit.json", "trivy.json"]) {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, name), "utf8"));
    bytes += JSON.stringify(parsed).length;
  }
  if (bytes === 0) throw new Error("reference workload read nothing");
  return performance.now() - t0;
}

/** The median of some numbers. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The whole `portcullis gate` command, start to exit, as a user runs it: wall time, and peak RSS as
 * the kernel counts it for the child (python's getrusage; figures say "n/a" without python3).
 */
function wholeCommand(dir: string, policyFile: string): { ms: number; peakMb?: number; exit: number | null } {
  const cli = fileURLToPath(new URL("../ci/bin/portcullis.mjs", import.meta.url));
  const args = [cli, "gate", "--bandit", join(dir, "bandit.json"), "--trivy", join(dir, "trivy.json"), "--policy", policyFile];
  args.push("--now", NOW.toISOString(), "--out-dir", join(dir, "cli-reports"), "--quiet");
  const probe =
    "import resource, subprocess, sys, time; t = time.monotonic(); r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); " +
    "print(r.returncode, (time.monotonic() - t) * 1000, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)";
  const py = spawnSync("python3", ["-c", probe, process.execPath, ...args], { encoding: "utf8" });
  if (py.status === 0) {
    const [exit, ms, peakMb] = py.stdout.trim().split(" ").map(Number);
    return { ms: ms!, peakMb, exit: exit! };
  }
  const t0 = performance.now();
  const child = spawnSync(process.execPath, args, { stdio: "ignore" });
  return { ms: performance.now() - t0, exit: child.status };
}

async function main() {
  const measureDir = process.argv[process.argv.indexOf("--measure") + 1];
  if (process.argv.includes("--measure") && measureDir) {
    process.stdout.write(JSON.stringify(await measure(measureDir)));
    return;
  }
  const referenceDir = process.argv[process.argv.indexOf("--reference") + 1];
  if (process.argv.includes("--reference") && referenceDir) {
    process.stdout.write(JSON.stringify(await reference(referenceDir)));
    return;
  }
  // `--runs N` measuring runs (default 5), each in a fresh process; the target is judged on the median.
  const runs = Math.max(1, Number(process.argv[process.argv.indexOf("--runs") + 1]) || 5);
  // `--keep DIR` leaves the inputs in DIR, to profile the measuring run on its own
  // (node --cpu-prof <bundle printed below> --measure DIR).
  const keep = process.argv.includes("--keep") ? process.argv[process.argv.indexOf("--keep") + 1] : undefined;
  const dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  try {
    process.stderr.write(`building ${TOTAL_FINDINGS} synthetic findings from the real fixtures…\n`);
    writeFileSync(join(dir, "bandit.json"), syntheticBandit(TOTAL_FINDINGS / 2));
    writeFileSync(join(dir, "trivy.json"), syntheticTrivy(TOTAL_FINDINGS / 2));
    writeFileSync(join(dir, "policy.yaml"), BENCH_POLICY);
    const inputMb = (statSync(join(dir, "bandit.json")).size + statSync(join(dir, "trivy.json")).size) / 1024 / 1024;
    // The measuring runs execute the same bundle form as `npx portcullis` (ci/bin/bundle.mjs), not tsx.
    const { bundledEntry } = (await import(new URL("../ci/bin/bundle.mjs", import.meta.url).href)) as {
      bundledEntry: (entry: string) => Promise<string>;
    };
    const measuring = await bundledEntry("bench/gate.bench.ts");
    if (keep) process.stderr.write(`measuring bundle: ${measuring}\n`);
    const all: Figures[] = [];
    const references: number[] = [];
    const child = (mode: string) => {
      const run = spawnSync(process.execPath, [measuring, mode, dir], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
      if (run.status !== 0) throw new Error(`${mode} run failed: ${run.stderr.trim()}`);
      return JSON.parse(run.stdout) as unknown;
    };
    for (let r = 1; r <= runs; r++) {
      const run = child("--measure") as Figures;
      const ref = child("--reference") as number;
      all.push(run);
      references.push(ref);
      process.stderr.write(
        `run ${r}/${runs}: ${run.totalMs.toFixed(0)} ms (parse ${run.parseMs.toFixed(0)}, gate ${run.gateMs.toFixed(0)}, render+write ${run.renderMs.toFixed(0)}), peak RSS ${run.peakRssMb.toFixed(0)} MB; reference ${ref.toFixed(0)} ms, ratio ${(run.totalMs / ref).toFixed(2)}\n`,
      );
    }
    // The figures printed are those of the median run by total time.
    const f = [...all].sort((a, b) => a.totalMs - b.totalMs)[Math.floor((all.length - 1) / 2)]!;
    const medianMs = median(all.map((r) => r.totalMs));
    const medianRss = median(all.map((r) => r.peakRssMb));
    // The written reports must be whole: a fast writer of broken JSON is no result.
    for (const name of ["portcullis.sarif", "verdict.json"]) JSON.parse(readFileSync(join(dir, `out-${name}`), "utf8"));
    const cli = wholeCommand(dir, join(dir, "policy.yaml"));
    if (cli.exit !== 1) throw new Error(`portcullis gate exited ${cli.exit}, expected 1 (fail) on the bench input`);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const lines = [
      `findings:       ${f.findings} (input ${inputMb.toFixed(1)} MB of Bandit + Trivy JSON; outcome ${f.outcome})`,
      `runs:           ${all.length}, each in a fresh process; figures below are the median run's`,
      `parse:          ${f.parseMs.toFixed(0)} ms wall, ${f.cpuPhaseMs.parse.toFixed(0)} ms CPU (peak RSS so far ${f.peakAfterMb.parse.toFixed(0)} MB)`,
      `gate:           ${f.gateMs.toFixed(0)} ms wall, ${f.cpuPhaseMs.gate.toFixed(0)} ms CPU (peak RSS so far ${f.peakAfterMb.gate.toFixed(0)} MB)`,
      `render+write:   ${f.renderMs.toFixed(0)} ms wall, ${f.cpuPhaseMs.render.toFixed(0)} ms CPU (${Object.entries(f.reportBytes).map(([n, b]) => `${n} ${mb(b)} MB`).join(", ")})`,
      `total:          median ${medianMs.toFixed(0)} ms wall (runs: ${all.map((r) => r.totalMs.toFixed(0)).join(", ")}), ${f.cpuMs.toFixed(0)} ms CPU (target < ${TARGET_MS} ms) ${medianMs < TARGET_MS ? "ok" : "OVER TARGET"}`,
      `peak RSS:       median ${medianRss.toFixed(0)} MB (runs: ${all.map((r) => r.peakRssMb.toFixed(0)).join(", ")}; whole process; target < ${TARGET_MB} MB) ${medianRss < TARGET_MB ? "ok" : "OVER TARGET"}`,
      `reference:      read + JSON.parse + JSON.stringify of the same inputs, in a fresh process after each run: median ${median(references).toFixed(0)} ms; gate/reference median ratio ${median(all.map((r, i) => r.totalMs / references[i]!)).toFixed(2)} (how the gate compares with the least a JSON reader does, whatever the machine's load)`,
      `whole command:  portcullis gate … --out-dir, start to exit: ${cli.ms.toFixed(0)} ms, peak RSS ${cli.peakMb === undefined ? "n/a (no python3)" : `${cli.peakMb.toFixed(0)} MB`} (exit ${cli.exit}; includes node start and module loading)`,
      `load average:   ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs (wall time suffers on a busy machine)`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    if (medianMs >= TARGET_MS || medianRss >= TARGET_MB) process.exitCode = 1;
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
