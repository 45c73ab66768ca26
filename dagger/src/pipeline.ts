import { Container, Directory, File, Secret, object, func } from "@dagger.io/dagger";
import { parseBuildArgs, describeEngineError, overlapMs, parseNow, tail, type Span } from "./support.js";
import { runBandit, SastRun } from "./sast.js";
import { scanWithTrivy, ImageScan } from "./scan.js";
import { assertPassed, judge, loadPolicy, publishImage, reportsDirectory, type GateInput, type Judgement } from "./gate.js";
import type { DbMetadata, Policy, ToolRun, Verdict } from "./core/index.js";

/** The pipeline's stages, in the order the gate reads them. */
export type PipelineStage = "sast" | "build" | "scan" | "gate";

/** A progress event for callers that show stages as they run (the CLI); the module runtime never sees it. */
export interface StageEvent {
  stage: PipelineStage;
  state: "started" | "finished" | "skipped";
  /** Epoch ms. */
  at: number;
  /** One line on what the stage found, when finished or skipped. */
  detail?: string;
  ok?: boolean;
}

/** Everything a pipeline run established: the gate's judgement, stage timings and the build log on failure. */
export interface Assessment extends Judgement {
  spans: Partial<Record<PipelineStage, Span>>;
  /** How long SAST and the build ran at the same time, in ms. */
  sastBuildOverlapMs: number;
  buildLog?: string;
  /** What was judged, under which policy and at what time: enough to judge again. */
  input: GateInput;
  policy: Policy;
  now: Date;
}

/** The reports of an assessment as a Directory (with `build.log` when the build failed). */
export function assessmentReports(assessment: Assessment): Directory {
  return reportsDirectory(assessment, assessment.buildLog !== undefined ? { "build.log": assessment.buildLog } : {});
}

/** Builds `source` with its Dockerfile; a pure function of its inputs, so the engine caches it. */
export function buildImage(source: Directory, dockerfile: string, target?: string, buildArgs: string[] = []): Container {
  return source.dockerBuild({
    dockerfile,
    ...(target ? { target } : {}),
    ...(buildArgs.length > 0 ? { buildArgs: parseBuildArgs(buildArgs) } : {}),
  });
}

// In-process memo so one client-mode run evaluates once however many results are asked for.
const assessments = new WeakMap<PipelineRun, Promise<Assessment>>();

/**
 * One run of the whole pipeline over a source directory: Bandit and the image
 * build side by side, Trivy over the built image, then the policy gate. Nothing
 * runs until a result is asked for; `reports` is available whatever the outcome,
 * and `publish` pushes the image only after the gate passed.
 */
@object()
export class PipelineRun {
  /** The source directory that was judged. */
  @func()
  source: Directory;

  /** The policy file, when one was given (otherwise the default policy applies). */
  @func()
  policy?: File;

  private readonly dockerfile: string;
  private readonly target?: string;
  private readonly buildArgs: string[];
  private readonly banditConfig?: File;
  private readonly banditImage?: Container;
  private readonly trivyImage?: Container;
  private readonly caBundle?: File;
  private readonly dbRepository?: string;
  private readonly dbUsername?: string;
  private readonly dbPassword?: Secret;
  private readonly now?: string;

  // Dagger-typed parameters only: the module runtime reads every constructor of an @object.
  constructor(
    source: Directory,
    policy?: File,
    dockerfile = "Dockerfile",
    target?: string,
    buildArgs: string[] = [],
    banditConfig?: File,
    banditImage?: Container,
    trivyImage?: Container,
    caBundle?: File,
    dbRepository?: string,
    dbUsername?: string,
    dbPassword?: Secret,
    now?: string,
  ) {
    this.source = source;
    this.policy = policy;
    this.dockerfile = dockerfile;
    this.target = target;
    this.buildArgs = buildArgs;
    this.banditConfig = banditConfig;
    this.banditImage = banditImage;
    this.trivyImage = trivyImage;
    this.caBundle = caBundle;
    this.dbRepository = dbRepository;
    this.dbUsername = dbUsername;
    this.dbPassword = dbPassword;
    this.now = now;
  }

  /** The Bandit run over the source (lazy). */
  @func()
  sast(): SastRun {
    return runBandit({ source: this.source, config: this.banditConfig, banditImage: this.banditImage, caBundle: this.caBundle });
  }

  /** The image built from the source's Dockerfile (lazy; not yet judged). */
  @func()
  image(): Container {
    return buildImage(this.source, this.dockerfile, this.target, this.buildArgs);
  }

  /** The Trivy scan of the built image (lazy). */
  @func()
  scan(): ImageScan {
    return scanWithTrivy(this.image(), {
      scanDate: parseNow(this.now).toISOString().slice(0, 10),
      dbRepository: this.dbRepository,
      dbUsername: this.dbUsername,
      dbPassword: this.dbPassword,
      trivyImage: this.trivyImage,
      caBundle: this.caBundle,
    });
  }

  /**
   * The reports — `portcullis.sarif`, `summary.md`, `verdict.json`, `junit.xml` (and `build.log`
   * when the build failed) — whatever the outcome: export them with `reports export --path out/`.
   */
  @func()
  async reports(): Promise<Directory> {
    return assessmentReports(await this.assess());
  }

  /** The gate's outcome: `pass`, `fail` or `error`. */
  @func()
  async outcome(): Promise<string> {
    return (await this.assess()).verdict.outcome;
  }

  /** The full verdict as JSON (outcome, counts, blocking, warnings, waived and expired waivers, tool and DB versions). */
  @func()
  async verdict(): Promise<string> {
    return (await this.assess()).reports["verdict.json"];
  }

  /** The Markdown summary of the verdict. */
  @func()
  async summary(): Promise<string> {
    return (await this.assess()).reports["summary.md"];
  }

  /** The gate itself: returns the Markdown summary on pass, throws with the blocking findings on fail or error. */
  @func()
  async gate(): Promise<string> {
    const assessment = await this.assess();
    assertPassed(assessment.verdict);
    return assessment.reports["summary.md"];
  }

  /**
   * Publishes the built image to `address` only after the gate passed, and returns the
   * digest-pinned reference `address@sha256:…`; throws (publishing nothing) on fail or error.
   *
   * @param address Image reference to push to, e.g. `registry.example.com/team/app:1.2.3`.
   * @param username Registry user name (optional: without it the engine's own credentials are used).
   * @param password Registry password or token, as a Secret (required with `username`).
   */
  @func()
  async publish(address: string, username?: string, password?: Secret): Promise<string> {
    const assessment = await this.assess();
    assertPassed(assessment.verdict);
    return publishImage(this.image(), address, username, password);
  }

  /**
   * Runs the pipeline once (memoised per instance): SAST and the build concurrently, then the
   * scan if the build succeeded, then the gate. Not a Dagger function: `observe` is for in-process callers.
   */
  assess(observe?: (event: StageEvent) => void): Promise<Assessment> {
    let pending = assessments.get(this);
    if (!pending) {
      pending = this.evaluate(observe ?? (() => undefined));
      assessments.set(this, pending);
    }
    return pending;
  }

  /** The same run judged again with errors that arose after it (e.g. a failed publish), so the reports say so. */
  async reassess(extraErrors: string[]): Promise<Assessment> {
    const first = await this.assess();
    const input: GateInput = { ...first.input, extraErrors: [...first.input.extraErrors, ...extraErrors] };
    return { ...first, input, ...judge(input, first.policy, first.now) };
  }

  private async policyName(): Promise<string> {
    return this.policy ? await this.policy.name() : "default policy";
  }

  private async evaluate(observe: (event: StageEvent) => void): Promise<Assessment> {
    const now = parseNow(this.now);
    // A policy error is the caller's input error: thrown before any container runs.
    const policy = loadPolicy(this.policy ? await this.policy.contents() : undefined, await this.policyName(), now);
    const spans: Partial<Record<PipelineStage, Span>> = {};
    const timed = async <T>(stage: PipelineStage, work: () => Promise<T>, detail: (value: T) => { text: string; ok: boolean }) => {
      const startedAt = Date.now();
      observe({ stage, state: "started", at: startedAt });
      const value = await work();
      const endedAt = Date.now();
      spans[stage] = { startedAt, endedAt };
      const d = detail(value);
      observe({ stage, state: "finished", at: endedAt, detail: d.text, ok: d.ok });
      return value;
    };

    const sast = this.sast();
    const image = this.image();
    const [sastRun, build] = await Promise.all([
      timed("sast", () => sast.toolRun(), (run) => describeRun(run)),
      timed(
        "build",
        async (): Promise<{ ok: true } | { ok: false; message: string; log: string }> => {
          try {
            await image.sync();
            return { ok: true };
          } catch (err) {
            const { message, output } = describeEngineError(err);
            const log = output || message;
            // The last line names the step that failed (e.g. the RUN that ran pytest); the rest goes to build.log.
            return { ok: false, message: tail(log, 1) || message, log };
          }
        },
        (b) => (b.ok ? { text: "image built", ok: true } : { text: `build failed: ${b.message}`, ok: false }),
      ),
    ]);

    const runs: ToolRun[] = [sastRun];
    const extraErrors: string[] = [];
    let db: DbMetadata | undefined;
    let buildLog: string | undefined;
    if (build.ok) {
      const scan = this.scan();
      const scanned = await timed(
        "scan",
        async () => {
          const run = await scan.toolRun();
          try {
            db = await scan.db();
          } catch (err) {
            extraErrors.push(`the vulnerability database's metadata could not be read: ${(err as Error).message}`);
          }
          return run;
        },
        (run) => describeRun(run),
      );
      runs.push(scanned);
    } else {
      buildLog = build.log;
      extraErrors.push(`the image build failed, so it was not scanned or published: ${build.message} (the build's output is in build.log)`);
      observe({ stage: "scan", state: "skipped", at: Date.now(), detail: "not run: the build failed", ok: false });
    }

    const input: GateInput = { runs, db, extraErrors };
    const judgement = await timed("gate", async () => judge(input, policy, now), (j) => ({
      text: j.verdict.outcome,
      ok: j.verdict.outcome === "pass",
    }));
    const sastBuildOverlapMs = spans.sast && spans.build ? overlapMs(spans.sast, spans.build) : 0;
    return { ...judgement, spans, sastBuildOverlapMs, input, policy, now, ...(buildLog !== undefined ? { buildLog } : {}) };
  }
}

/** One line on what a scanner run found, for progress output. */
function describeRun(run: ToolRun): { text: string; ok: boolean } {
  if (run.errors.length > 0) return { text: `error: ${run.errors[0]!.split("\n", 1)[0]}`, ok: false };
  const n = run.findings.length;
  return { text: `${run.tool}${run.version ? ` ${run.version}` : ""}: ${n} finding${n === 1 ? "" : "s"}`, ok: true };
}

export type { Verdict };
