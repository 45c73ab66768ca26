// `portcullis run`'s work: a Dagger session driving the module (loaded only when `run` runs; see run.ts).
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { RunArgs } from "./run.js";
import { connection, dag, type Secret } from "@dagger.io/dagger";
import { Portcullis, SOURCE_IGNORE } from "../../dagger/src/index.js";
import { assessmentReports, type Assessment, type PipelineStage, type StageEvent } from "../../dagger/src/pipeline.js";
import { parsePolicy, summarizeVerdict, PortcullisError } from "../../dagger/src/core/index.js";
import { describeEngineError, parseBuildArgs, parseNow } from "../../dagger/src/support.js";

/** A problem with the command line or local files: reported in one line before any engine work. */
class UsageError extends Error {}

const EXIT = { pass: 0, fail: 1, error: 2 } as const;

/** Runs the pipeline and returns the exit code; never throws. */
export async function runPipeline(args: RunArgs): Promise<number> {
  let inputs: ReturnType<typeof checkInputs>;
  try {
    inputs = checkInputs(args);
  } catch (err) {
    printError(err);
    return EXIT.error;
  }
  let code: number = EXIT.error;
  try {
    await connection(
      async () => {
        code = await drive(args, inputs);
      },
      { LogOutput: process.stderr },
    );
  } catch (err) {
    const hint = process.env.DAGGER_SESSION_PORT
      ? ""
      : " (no DAGGER_SESSION_PORT: run inside `dagger run …`, or `npx portcullis lab exec -- …` on the lab)";
    printError(err, hint);
    return EXIT.error;
  }
  return code;
}

/** Local checks before any engine work: paths exist, the policy parses, named secrets are set. */
function checkInputs(args: RunArgs) {
  const source = path.resolve(args.source);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new UsageError(`--source ${args.source}: not a directory`);
  const dockerfile = path.join(source, args.dockerfile);
  if (!existsSync(dockerfile)) throw new UsageError(`--dockerfile ${args.dockerfile}: no such file in ${args.source}`);
  const now = parseNow(args.now);
  if (args.policy !== undefined) {
    const policyPath = path.resolve(args.policy);
    if (!existsSync(policyPath)) throw new UsageError(`--policy ${args.policy}: no such file`);
    parsePolicy(readFileSync(policyPath, "utf8"), { filePath: args.policy, now });
  }
  for (const [flag, file] of [["--bandit-config", args.banditConfig], ["--ca-bundle", args.caBundle]] as const) {
    if (file !== undefined && !existsSync(path.resolve(file))) throw new UsageError(`${flag} ${file}: no such file`);
  }
  parseBuildArgs(args.buildArg);
  const secretFromEnv = (flag: string, name: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    const value = process.env[name];
    if (value === undefined || value === "") throw new UsageError(`${flag} ${name}: that environment variable is not set`);
    return value;
  };
  const dbPassword = secretFromEnv("--db-password-env", args.dbPasswordEnv);
  const password = secretFromEnv("--password-env", args.passwordEnv);
  if (dbPassword !== undefined && !args.dbUsername) throw new UsageError("--db-password-env needs --db-username");
  if (args.publish === undefined && (args.username || password !== undefined)) {
    throw new UsageError("--username/--password-env only make sense with --publish ADDRESS");
  }
  if (args.publish !== undefined && Boolean(args.username) !== (password !== undefined)) {
    throw new UsageError("--publish needs both --username and --password-env, or neither");
  }
  return { source, dbPassword, password };
}

/** The pipeline inside an open session: the same module class `dagger call` runs. */
async function drive(args: RunArgs, inputs: ReturnType<typeof checkInputs>): Promise<number> {
  const host = dag.host();
  const secret = (name: string, value: string | undefined): Secret | undefined =>
    value === undefined ? undefined : dag.setSecret(name, value);
  const run = new Portcullis().pipeline(
    host.directory(inputs.source, { exclude: SOURCE_IGNORE }),
    args.policy !== undefined ? host.file(path.resolve(args.policy)) : undefined,
    args.dockerfile,
    args.target,
    args.buildArg,
    args.banditConfig !== undefined ? host.file(path.resolve(args.banditConfig)) : undefined,
    args.dbRepository,
    args.dbUsername,
    secret("portcullis-db-password", inputs.dbPassword),
    undefined,
    undefined,
    args.caBundle !== undefined ? host.file(path.resolve(args.caBundle)) : undefined,
    args.now,
  );

  const started = Date.now();
  let assessment: Assessment = await run.assess(printStage);
  const verdict = assessment.verdict;
  if (assessment.sastBuildOverlapMs > 0 || (assessment.spans.sast && assessment.spans.build)) {
    process.stderr.write(`  sast ∥ build overlap: ${seconds(assessment.sastBuildOverlapMs)}\n`);
  }
  await writeReports(args.out, assessment);

  let published: string | undefined;
  if (verdict.outcome === "pass" && args.publish !== undefined) {
    const t0 = Date.now();
    printStage({ stage: "publish", state: "started", at: t0 });
    try {
      published = await run.publish(args.publish, args.username, secret("portcullis-registry-password", inputs.password));
      printStage({ stage: "publish", state: "finished", at: Date.now(), detail: published, ok: true }, t0);
    } catch (err) {
      const { message } = describeEngineError(err);
      printStage({ stage: "publish", state: "finished", at: Date.now(), detail: `failed: ${message}`, ok: false }, t0);
      assessment = await run.reassess([`publishing to ${args.publish} failed, nothing was published: ${message}`]);
      await writeReports(args.out, assessment);
    }
  } else if (args.publish !== undefined) {
    printStage({ stage: "publish", state: "skipped", at: Date.now(), detail: `not published: the gate's outcome is ${verdict.outcome}`, ok: false });
  }

  const final = assessment.verdict;
  if (!args.quiet) process.stdout.write(assessment.reports["summary.md"]);
  if (published) process.stdout.write(`\nPublished: ${published}\n`);
  process.stderr.write(`portcullis run: ${summarizeVerdict(final)} Reports in ${args.out.replace(/\/+$/, "")}/ (${seconds(Date.now() - started)} in all).\n`);
  return EXIT[final.outcome];
}

/** Exports the reports to --out, dropping a stale build.log from an earlier run first. */
async function writeReports(out: string, assessment: Assessment): Promise<void> {
  const target = path.resolve(out);
  rmSync(path.join(target, "build.log"), { force: true });
  await assessmentReports(assessment).export(target);
}

const stageStarts = new Map<string, number>();

/** One progress line per stage event, on stderr, with the stage's wall time when it finishes. */
function printStage(event: StageEvent | (Omit<StageEvent, "stage"> & { stage: PipelineStage | "publish" }), startedAt?: number): void {
  const name = event.stage.padEnd(7);
  if (event.state === "started") {
    stageStarts.set(event.stage, event.at);
    process.stderr.write(`▸ ${name} started\n`);
    return;
  }
  if (event.state === "skipped") {
    process.stderr.write(`- ${name} skipped  ${event.detail ?? ""}\n`);
    return;
  }
  const t0 = startedAt ?? stageStarts.get(event.stage) ?? event.at;
  process.stderr.write(`${event.ok ? "✓" : "✗"} ${name} ${seconds(event.at - t0).padStart(7)}  ${event.detail ?? ""}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** One clear line on stderr; never a stack trace. */
function printError(err: unknown, hint = ""): void {
  const message =
    err instanceof UsageError || err instanceof PortcullisError ? err.message : describeEngineError(err).message;
  process.stderr.write(`portcullis run: error: ${message.split("\n", 1)[0]}${hint}\n`);
}
