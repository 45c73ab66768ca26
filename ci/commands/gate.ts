import { mkdir, open, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import {
  DEFAULT_POLICY_YAML,
  MAX_REPORT_BYTES,
  PortcullisError,
  evaluate,
  parseBandit,
  parseDbMetadata,
  parsePolicy,
  parseTrivy,
  renderReport,
  reportChunks,
  summarizeVerdict,
  toolFailure,
  type DbMetadata,
  type JsonInput,
  type ReportFile,
  type ToolRun,
} from "../../dagger/src/core/index.js";

/** Exit codes shared by every command: the gate's three outcomes. */
export const EXIT = { pass: 0, fail: 1, error: 2 } as const;

/** A user-facing problem: printed as one line, exit code 2. */
export class InputError extends Error {}

/** Checks a file the user named before it is read: one-line errors for what goes wrong (missing, a directory, empty, too big). */
async function checkInputFile(flag: string, path: string, maxBytes: number): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(`${flag} ${path}: not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${flag} ${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  // Checked before reading so a huge file is refused without being loaded.
  if (size > maxBytes) {
    throw new InputError(
      `${flag} ${path}: ${(size / 1024 / 1024).toFixed(1)} MB is over the ${maxBytes / 1024 / 1024} MB limit for a report`,
    );
  }
  if (size === 0) throw new InputError(`${flag} ${path}: empty file`);
}

/** Reads a file the user named as text, with one-line errors for what goes wrong (missing, a directory, too big). */
export async function readInputFile(flag: string, path: string, maxBytes = MAX_REPORT_BYTES): Promise<string> {
  await checkInputFile(flag, path, maxBytes);
  return readFile(path, "utf8");
}

/**
 * Reads a scanner report as bytes: the parsers cut large reports up in their UTF-8 bytes, so the whole
 * report never exists as a string as well.
 */
export async function readInputBytes(flag: string, path: string, maxBytes = MAX_REPORT_BYTES): Promise<Uint8Array> {
  await checkInputFile(flag, path, maxBytes);
  return readFile(path);
}

/** The one line printed for an error: our own messages as they are, anything else with its name. */
export function errorLine(error: unknown): string {
  if (error instanceof InputError || error instanceof PortcullisError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** `--now` or the clock; a malformed date is a usage error. */
export function parseNow(now: string | undefined): Date {
  if (now === undefined) return new Date();
  const at = new Date(now);
  if (Number.isNaN(at.getTime())) throw new InputError(`--now ${now}: not an ISO date (e.g. 2026-11-28 or 2026-11-28T17:00:00Z)`);
  return at;
}

interface GateArgs {
  bandit?: string;
  trivy?: string;
  policy?: string;
  trivyDbMetadata?: string;
  sarif?: string;
  markdown?: string;
  json?: string;
  junit?: string;
  outDir?: string;
  imageLocation?: string;
  now?: string;
  quiet: boolean;
}

async function scannerRun(
  tool: "bandit" | "trivy",
  flag: string,
  path: string,
  parse: (text: JsonInput, opts: { filePath: string }) => ToolRun,
): Promise<{ run: ToolRun; problem?: string }> {
  try {
    return { run: parse(await readInputBytes(flag, path), { filePath: path }) };
  } catch (error) {
    // Unusable scanner output is an "error" verdict, still written to every report.
    const problem = errorLine(error).startsWith(flag) ? errorLine(error) : `${flag} ${errorLine(error)}`;
    return { run: toolFailure(tool, problem), problem };
  }
}

/** Writes a report chunk by chunk, so a huge report never exists as one string. Returns the bytes written. */
export async function writeReportFile(path: string, chunks: Iterable<string>): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, "w");
  let bytes = 0;
  // One write in flight while the next chunk is rendered: the disk and the renderer overlap.
  let pending: Promise<{ bytesWritten: number }> | undefined;
  try {
    for (const chunk of chunks) {
      if (pending) bytes += (await pending).bytesWritten;
      pending = file.write(chunk);
    }
    if (pending) bytes += (await pending).bytesWritten;
  } finally {
    await pending?.catch(() => undefined);
    await file.close();
  }
  return bytes;
}

/** Renders and writes one report at a time. */
async function writeReports(files: Partial<Record<ReportFile, string>>, chunksOf: (name: ReportFile) => Iterable<string>): Promise<void> {
  for (const [name, path] of Object.entries(files) as Array<[ReportFile, string | undefined]>) {
    if (!path) continue;
    try {
      await writeReportFile(path, chunksOf(name));
    } catch (error) {
      throw new InputError(`cannot write ${name} report to ${path}: ${(error as Error).message}`);
    }
  }
}

export async function runGate(args: GateArgs): Promise<number> {
  if (!args.bandit && !args.trivy) {
    throw new InputError("nothing to judge: give --bandit FILE, --trivy FILE, or both (see portcullis gate --help)");
  }
  const now = parseNow(args.now);
  const policyPath = args.policy ?? "(built-in default policy)";
  const policyText = args.policy ? await readInputFile("--policy", args.policy) : DEFAULT_POLICY_YAML;
  const policy = parsePolicy(policyText, { filePath: policyPath, now });

  const problems: string[] = [];
  const loadRuns = async (): Promise<ToolRun[]> => {
    const runs: ToolRun[] = [];
    for (const [tool, flag, path, parse] of [
      ["bandit", "--bandit", args.bandit, parseBandit],
      ["trivy", "--trivy", args.trivy, parseTrivy],
    ] as const) {
      if (!path) continue;
      const { run, problem } = await scannerRun(tool, flag, path, parse);
      runs.push(run);
      if (problem) problems.push(problem);
    }
    return runs;
  };

  let db: DbMetadata | undefined;
  const extraErrors: string[] = [];
  if (args.trivyDbMetadata) {
    try {
      db = parseDbMetadata(await readInputFile("--trivy-db-metadata", args.trivyDbMetadata), {
        filePath: args.trivyDbMetadata,
      });
    } catch (error) {
      extraErrors.push(`--trivy-db-metadata ${errorLine(error)}`);
      problems.push(`--trivy-db-metadata ${errorLine(error)}`);
    }
  }

  // The runs are only referenced from here, so their findings can be freed once judged.
  const verdict = evaluate({ runs: await loadRuns(), policy, now, ...(db ? { db } : {}), extraErrors });
  const renderOptions = args.imageLocation ? { imageLocation: args.imageLocation } : {};
  const fromDir = (name: ReportFile) => (args.outDir ? join(args.outDir, name) : undefined);
  await writeReports(
    {
      "portcullis.sarif": args.sarif ?? fromDir("portcullis.sarif"),
      "summary.md": args.markdown ?? fromDir("summary.md"),
      "verdict.json": args.json ?? fromDir("verdict.json"),
      "junit.xml": args.junit ?? fromDir("junit.xml"),
    },
    (name) => reportChunks(name, verdict, renderOptions),
  );

  if (!args.quiet) process.stdout.write(renderReport("summary.md", verdict));
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`portcullis gate: ${problem}\n`);
  } else if (verdict.outcome !== "pass") {
    process.stderr.write(`portcullis gate: ${summarizeVerdict(verdict)}\n`);
  }
  return EXIT[verdict.outcome];
}

export const gateCommand: CommandModule<object, GateArgs> = {
  command: "gate",
  describe: "Judge Bandit and Trivy reports against a policy and write SARIF, Markdown, JSON and JUnit reports",
  builder: (yargs: Argv) =>
    yargs
      .usage(
        "$0 gate [--bandit FILE] [--trivy FILE] [--policy FILE] [report options]\n\n" +
          "Reads real scanner output (bandit -f json, trivy image --format json), applies the policy and waivers,\n" +
          "prints the Markdown summary and writes the reports you ask for, whatever the outcome.",
      )
      .option("bandit", { type: "string", describe: "Bandit JSON report (bandit -r . -f json)", requiresArg: true })
      .option("trivy", { type: "string", describe: "Trivy JSON report (trivy image --format json)", requiresArg: true })
      .option("policy", {
        type: "string",
        describe: "Policy YAML (default: the built-in policies/default.yaml)",
        requiresArg: true,
      })
      .option("trivy-db-metadata", {
        type: "string",
        describe: "Trivy's db/metadata.json: its UpdatedAt goes into the reports; older than image.maxDbAgeDays = error (default: age unknown)",
        requiresArg: true,
      })
      .option("sarif", { type: "string", describe: "Write the SARIF 2.1.0 log here", requiresArg: true })
      .option("markdown", { type: "string", describe: "Write the Markdown summary here", requiresArg: true })
      .option("json", { type: "string", describe: "Write the JSON verdict here", requiresArg: true })
      .option("junit", { type: "string", describe: "Write the JUnit XML here", requiresArg: true })
      .option("out-dir", {
        type: "string",
        describe: "Write all four reports here (portcullis.sarif, summary.md, verdict.json, junit.xml)",
        requiresArg: true,
      })
      .option("image-location", {
        type: "string",
        describe: "File that SARIF image findings point at (default: Dockerfile)",
        requiresArg: true,
      })
      .option("now", { type: "string", describe: "Judge as of this ISO date/time (default: now); waivers and DB age use it", requiresArg: true })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Do not print the Markdown summary" })
      .example("$0 gate --bandit bandit.json --trivy trivy.json --policy policies/default.yaml --out-dir reports", "")
      .epilogue("Exit codes: 0 pass · 1 fail (a blocking finding) · 2 error (bad input, unscanned files, stale DB).") as Argv<GateArgs>,
  handler: async (argv: ArgumentsCamelCase<GateArgs>) => {
    try {
      process.exitCode = await runGate(argv);
    } catch (error) {
      process.stderr.write(`portcullis gate: ${errorLine(error)}\n`);
      process.exitCode = EXIT.error;
    }
  },
};
