import { dag, Container, Directory, Secret } from "@dagger.io/dagger";
import {
  DEFAULT_POLICY_YAML,
  GateFailedError,
  REPORT_FILES,
  evaluate,
  parsePolicy,
  renderReports,
  summarizeVerdict,
  type DbMetadata,
  type Policy,
  type ReportFile,
  type ToolRun,
  type Verdict,
} from "./core/index.js";
import { registryHost } from "./support.js";


/** Everything the gate judges: the scanners' runs, the DB's age, and errors from outside the scanners (a failed build). */
export interface GateInput {
  runs: ToolRun[];
  db?: DbMetadata;
  extraErrors: string[];
}

/** A judged gate: the verdict and its rendered reports. */
export interface Judgement {
  verdict: Verdict;
  reports: Record<ReportFile, string>;
}

/** Parses the policy text, or the default policy when none is given; a bad policy throws a PolicyError. */
export function loadPolicy(text: string | undefined, filePath: string, now: Date): Policy {
  return parsePolicy(text ?? DEFAULT_POLICY_YAML, { filePath: text === undefined ? "default policy" : filePath, now });
}

/** The core's verdict and reports for one gate input. */
export function judge(input: GateInput, policy: Policy, now: Date): Judgement {
  const verdict = evaluate({ runs: input.runs, policy, now, db: input.db, extraErrors: input.extraErrors });
  return { verdict, reports: renderReports(verdict) };
}

/** The reports as a Directory, plus any extra logs (e.g. the failed build's output). */
export function reportsDirectory(judgement: Judgement, extraFiles: Record<string, string> = {}): Directory {
  let dir = dag.directory();
  for (const name of REPORT_FILES) dir = dir.withNewFile(name, judgement.reports[name]);
  for (const [name, contents] of Object.entries(extraFiles)) dir = dir.withNewFile(name, contents);
  return dir;
}

/** Throws the gate's error on fail or error; the message lists what blocked, in one paragraph. */
export function assertPassed(verdict: Verdict): void {
  if (verdict.outcome === "pass") return;
  throw new GateFailedError(`portcullis gate: ${verdict.outcome}: ${summarizeVerdict(verdict)}`, verdict.outcome);
}

/** Publishes `image` to `address`, with registry auth when credentials are given; returns `address@sha256:…`. */
export async function publishImage(image: Container, address: string, username?: string, password?: Secret): Promise<string> {
  if ((username === undefined) !== (password === undefined)) {
    throw new Error("publish needs both username and password, or neither");
  }
  const authed = username && password ? image.withRegistryAuth(registryHost(address), username, password) : image;
  return authed.publish(address);
}
