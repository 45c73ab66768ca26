/**
 * The CI wrappers' own logic — the exit-code mapping, publishing only after a pass, the password
 * reaching Dagger only as `env:VAR` — run with bash against a stand-in `dagger` CLI that records its
 * arguments and exports a verdict.json rendered by the real core from real Bandit output.
 * (No Dagger engine can run here; what the engine does is covered by the e2e suite on the lab.)
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY_YAML, evaluate, parseBandit, parsePolicy, renderReports } from "../../dagger/src/core/index.js";
import { checkCallLine, parseAction } from "./action-calls.js";
import { REPO_ROOT, scanModuleApi, type ModuleApi } from "./module-signature.js";

const SHELL_EXAMPLE = resolve(REPO_ROOT, "docs/ci/portcullis.sh");
const GITLAB_EXAMPLE = resolve(REPO_ROOT, "docs/ci/gitlab-ci.yml");
const ACTION = resolve(REPO_ROOT, ".github/actions/portcullis/action.yml");
const PASSWORD = "hunter2-not-for-logs";
const DIGEST = `sha256:${"ab".repeat(32)}`;

type Outcome = "pass" | "fail" | "error";
const FIXTURE_OF: Record<Outcome, string> = { pass: "bandit-clean.json", fail: "bandit-b104.json", error: "bandit-syntax-error.json" };

/** verdict.json exactly as the module writes it, from a real Bandit report. */
function verdictJson(outcome: Outcome): string {
  const file = resolve(REPO_ROOT, "test/fixtures/bandit", FIXTURE_OF[outcome]);
  const verdict = evaluate({
    runs: [parseBandit(readFileSync(file, "utf8"), { filePath: file })],
    policy: parsePolicy(DEFAULT_POLICY_YAML, { filePath: "default.yaml" }),
    now: new Date("2026-11-28T00:00:00Z"),
  });
  expect(verdict.outcome).toBe(outcome);
  return renderReports(verdict)["verdict.json"];
}

// The stand-in CLI: logs argv (one JSON line per call), exports reports, answers publish with a digest.
const FAKE_DAGGER = `#!/usr/bin/env bash
node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\\n")' -- "$@" >> "$FAKE_LOG"
args=" $* "
if [[ "$args" == *" reports export --path "* ]]; then
  [[ "\${FAKE_ENGINE_DOWN:-}" == 1 ]] && { echo "Error: failed to connect to the engine" >&2; exit 1; }
  for ((i = 1; i <= $#; i++)); do [[ "\${!i}" == --path ]] && { j=$((i + 1)); out="\${!j}"; }; done
  mkdir -p "$out" && cp "$FAKE_VERDICT" "$out/verdict.json" && echo "# summary" > "$out/summary.md"
  echo "$out"
elif [[ "$args" == *" publish --address "* ]]; then
  [[ "\${FAKE_PUBLISH_FAILS:-}" == 1 ]] && { echo "Error: push refused" >&2; exit 1; }
  echo "registry.example/app:1@${DIGEST}"
fi
`;

interface Run {
  status: number | null;
  output: string;
  calls: string[][];
  dir: string;
}

describe("the CI wrappers around dagger call", () => {
  let api: ModuleApi;
  let root: string;
  const verdicts = {} as Record<Outcome, string>;

  beforeAll(() => {
    api = scanModuleApi();
    root = mkdtempSync(join(tmpdir(), "portcullis-ci-"));
    mkdirSync(join(root, "bin"));
    writeFileSync(join(root, "bin/dagger"), FAKE_DAGGER);
    chmodSync(join(root, "bin/dagger"), 0o755);
    for (const outcome of ["pass", "fail", "error"] as const) {
      verdicts[outcome] = join(root, `verdict-${outcome}.json`);
      writeFileSync(verdicts[outcome], verdictJson(outcome));
    }
  }, 60_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  let runCount = 0;
  function runBash(script: string[], env: Record<string, string>, input?: string): Run {
    const dir = join(root, `run-${++runCount}`);
    mkdirSync(dir);
    const log = join(dir, "calls.log");
    const run = spawnSync("bash", script, {
      cwd: dir,
      input,
      encoding: "utf8",
      env: { PATH: `${join(root, "bin")}:${process.env.PATH}`, HOME: dir, FAKE_LOG: log, ...env },
    });
    const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]) : [];
    return { status: run.status, output: `${run.stdout}${run.stderr}`, calls, dir };
  }

  /** The `dagger call` lines of a script, continuation lines joined, from the function name on. */
  function callLines(text: string): string[] {
    const joined = text.replace(/\\\n\s*/g, " ");
    return [...joined.matchAll(/dagger call -m "[^"]*" ([^\n;)]*)/g)].map((m) => m[1]!.trim());
  }

  describe("docs/ci/portcullis.sh", () => {
    const script = readFileSync(SHELL_EXAMPLE, "utf8");
    const shell = (outcome: Outcome, extra: Record<string, string> = {}) =>
      runBash([SHELL_EXAMPLE], { FAKE_VERDICT: verdicts[outcome], PORTCULLIS_MODULE: "/m", ...extra });

    it("calls real module functions with real arguments", () => {
      const lines = callLines(script);
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(checkCallLine("portcullis.sh", line, api).problems).toEqual([]);
    });

    it.each([
      ["pass", 0],
      ["fail", 1],
      ["error", 2],
    ] as const)("maps outcome %s to exit %i, with the reports exported", (outcome, code) => {
      const run = shell(outcome);
      expect(run.status, run.output).toBe(code);
      expect(run.output).toContain(`portcullis.sh: outcome ${outcome} (reports in reports/)`);
      expect(run.calls).toEqual([["call", "-m", "/m", "pipeline", "--source", "app", "reports", "export", "--path", "reports"]]);
      expect(readFileSync(join(run.dir, "reports/verdict.json"), "utf8")).toContain(`"outcome": "${outcome}"`);
    });

    it.each([
      ["app-fail", 1],
      ["app-pass", 0],
    ] as const)("reads the verdict.json of a real lab run (%s) as exit %i", (fixture, code) => {
      const run = runBash([SHELL_EXAMPLE], { FAKE_VERDICT: resolve(REPO_ROOT, "test/reach/fixtures", fixture, "verdict.json"), PORTCULLIS_MODULE: "/m" });
      expect(run.status, run.output).toBe(code);
    });

    it("exits 2 when dagger call fails or no verdict comes back", () => {
      expect(shell("pass", { FAKE_ENGINE_DOWN: "1" }).status).toBe(2);
      const empty = join(root, "empty.json");
      writeFileSync(empty, "{}\n");
      const run = runBash([SHELL_EXAMPLE], { FAKE_VERDICT: empty, PORTCULLIS_MODULE: "/m" });
      expect(run.status).toBe(2);
      expect(run.output).toContain("outcome error");
    });

    it("publishes only after a pass, the password only as env:", () => {
      const env = { PORTCULLIS_PUBLISH_ADDRESS: "registry.example/app:1", PORTCULLIS_REGISTRY_USERNAME: "ci", PORTCULLIS_REGISTRY_PASSWORD: PASSWORD, PORTCULLIS_POLICY: "policies/strict.yaml" };
      const passed = shell("pass", env);
      expect(passed.status, passed.output).toBe(0);
      expect(passed.calls[1]).toEqual(["call", "-m", "/m", "pipeline", "--source", "app", "--policy", "policies/strict.yaml", "publish", "--address", "registry.example/app:1", "--username", "ci", "--password", "env:PORTCULLIS_REGISTRY_PASSWORD"]);
      expect(passed.output).toContain(`published registry.example/app:1@${DIGEST}`);
      expect(passed.output + JSON.stringify(passed.calls)).not.toContain(PASSWORD);
      expect(shell("fail", env).calls).toHaveLength(1);
      expect(shell("error", env).calls).toHaveLength(1);
      const refused = shell("pass", { ...env, FAKE_PUBLISH_FAILS: "1" });
      expect(refused.status).toBe(2);
      expect(refused.output).toContain("the gate passed but publishing to registry.example/app:1 failed");
    });

    it("points Trivy at a DB mirror, its password only as env:", () => {
      const run = shell("pass", { PORTCULLIS_DB_REPOSITORY: "mirror.corp/trivy-db", PORTCULLIS_DB_USERNAME: "reader", PORTCULLIS_DB_PASSWORD: PASSWORD });
      expect(run.status, run.output).toBe(0);
      expect(run.calls[0]).toEqual(["call", "-m", "/m", "pipeline", "--source", "app", "--db-repository", "mirror.corp/trivy-db", "--db-username", "reader", "--db-password", "env:PORTCULLIS_DB_PASSWORD", "reports", "export", "--path", "reports"]);
      expect(run.output + JSON.stringify(run.calls)).not.toContain(PASSWORD);
    });

    it("explains itself and refuses stray arguments", () => {
      expect(runBash([SHELL_EXAMPLE, "--help"], {}).output).toContain("PORTCULLIS_REGISTRY_PASSWORD");
      const stray = runBash([SHELL_EXAMPLE, "app"], {});
      expect(stray.status).toBe(2);
      expect(stray.output).toContain('takes no arguments (got "app")');
    });
  });

  describe("docs/ci/gitlab-ci.yml", () => {
    const pipeline = parse(readFileSync(GITLAB_EXAMPLE, "utf8")) as {
      variables: Record<string, string>;
      portcullis: { script: string[]; retry: { exit_codes: number[] }; artifacts: { when: string; reports: { junit: string } } };
    };
    // The job's script is `bash <<'SCRIPT' … SCRIPT`; run its body as GitLab's shell would hand it to bash.
    const body = /<<'SCRIPT'\n([\s\S]*?)\nSCRIPT/.exec(pipeline.portcullis.script.join("\n"))?.[1] ?? "";
    const gitlab = (outcome: Outcome, extra: Record<string, string> = {}) =>
      runBash(["-uo", "pipefail"], { ...pipeline.variables, PORTCULLIS_MODULE: "/m", FAKE_VERDICT: verdicts[outcome], ...extra }, body);

    it("calls real module functions with real arguments, keeps reports and JUnit, retries only errors", () => {
      expect(body).not.toBe("");
      const lines = callLines(body);
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(checkCallLine("gitlab-ci.yml", line, api).problems).toEqual([]);
      expect(pipeline.portcullis.artifacts.when).toBe("always");
      expect(pipeline.portcullis.artifacts.reports.junit).toBe("reports/junit.xml");
      expect(pipeline.portcullis.retry.exit_codes).toEqual([2]);
    });

    it.each([
      ["pass", 0],
      ["fail", 1],
      ["error", 2],
    ] as const)("maps outcome %s to exit %i", (outcome, code) => {
      const run = gitlab(outcome);
      expect(run.status, run.output).toBe(code);
      expect(run.calls).toHaveLength(1);
    });

    it("publishes with the job's registry token only after a pass on the default branch", () => {
      const env = { PORTCULLIS_PUBLISH_ADDRESS: "registry.example/app:1", CI_REGISTRY_USER: "gitlab-ci-token", CI_REGISTRY_PASSWORD: PASSWORD };
      const passed = gitlab("pass", env);
      expect(passed.status, passed.output).toBe(0);
      expect(passed.calls[1]?.slice(-6)).toEqual(["--address", "registry.example/app:1", "--username", "gitlab-ci-token", "--password", "env:CI_REGISTRY_PASSWORD"]);
      expect(passed.output + JSON.stringify(passed.calls)).not.toContain(PASSWORD);
      expect(gitlab("fail", env).calls).toHaveLength(1);
      expect(gitlab("pass", { ...env, FAKE_PUBLISH_FAILS: "1" }).status).toBe(2);
      expect(gitlab("pass").calls).toHaveLength(1); // no address (not the default branch): nothing published
    });
  });

  describe("the composite action's own steps", () => {
    const steps = parseAction(readFileSync(ACTION, "utf8")).steps as Array<{ id?: string; run?: string }>;
    const stepRun = (id: string) => steps.find((s) => s.id === id)?.run ?? "";

    function actionStep(id: string, env: Record<string, string>) {
      const run = runBash(["-e", "-c", stepRun(id)], { ...env, GITHUB_OUTPUT: join(root, `out-${runCount + 1}`), GITHUB_STEP_SUMMARY: join(root, `summary-${runCount + 1}`) });
      const n = runCount;
      const read = (f: string) => (existsSync(join(root, `${f}-${n}`)) ? readFileSync(join(root, `${f}-${n}`), "utf8") : "");
      return { ...run, outputs: read("out"), summary: read("summary") };
    }

    it.each([
      ["pass", "0"],
      ["fail", "1"],
      ["error", "2"],
    ] as const)("verdict step: %s -> exit-code %s, summary.md into the step summary", (outcome, code) => {
      const reports = join(root, `reports-${outcome}`);
      mkdirSync(reports, { recursive: true });
      writeFileSync(join(reports, "verdict.json"), readFileSync(verdicts[outcome]));
      writeFileSync(join(reports, "summary.md"), `# portcullis: ${outcome}\n`);
      const run = actionStep("verdict", { PIPELINE_STEP: "success", REPORTS: reports });
      expect(run.status, run.output).toBe(0);
      expect(run.outputs).toBe(`outcome=${outcome}\nexit-code=${code}\n`);
      expect(run.summary).toBe(`# portcullis: ${outcome}\n`);
    });

    it("verdict step: a summary over GitHub's 1 MiB limit is cut, with a warning", () => {
      const reports = join(root, "reports-huge");
      mkdirSync(reports, { recursive: true });
      writeFileSync(join(reports, "verdict.json"), readFileSync(verdicts.fail));
      writeFileSync(join(reports, "summary.md"), "x".repeat(1_100_000));
      const run = actionStep("verdict", { PIPELINE_STEP: "success", REPORTS: reports });
      expect(run.outputs).toBe("outcome=fail\nexit-code=1\n");
      expect(run.summary.startsWith("x".repeat(1_000_000) + "\n\n_Summary cut at 1000000 bytes")).toBe(true);
      expect(run.summary.length).toBeLessThan(1_048_576);
      expect(run.output).toContain("::warning title=portcullis summary::summary.md is over GitHub's 1 MiB step-summary limit");
    });

    it("verdict step: a failed dagger call is an error even if old reports lie around", () => {
      const reports = join(root, "reports-stale");
      mkdirSync(reports, { recursive: true });
      writeFileSync(join(reports, "verdict.json"), readFileSync(verdicts.pass));
      const run = actionStep("verdict", { PIPELINE_STEP: "failure", REPORTS: reports });
      expect(run.outputs).toBe("outcome=error\nexit-code=2\n");
      expect(run.output).toContain("::error::portcullis: dagger call did not export reports (step outcome: failure)");
      expect(run.summary).toContain("The pipeline produced no summary");
    });

    it("exit step: exits with the pipeline's code and records the published reference", () => {
      expect(actionStep("published", { CODE: "1", PUBLISH_WANTED: "true", PUBLISH_STEP: "", PUBLISH_STDOUT: "" }).status).toBe(1);
      expect(actionStep("published", { CODE: "2", PUBLISH_WANTED: "false", PUBLISH_STEP: "", PUBLISH_STDOUT: "" }).status).toBe(2);
      expect(actionStep("published", { CODE: "0", PUBLISH_WANTED: "false", PUBLISH_STEP: "", PUBLISH_STDOUT: "" }).status).toBe(0);
      expect(actionStep("published", { CODE: "", PUBLISH_WANTED: "false", PUBLISH_STEP: "", PUBLISH_STDOUT: "" }).status).toBe(2);
      expect(actionStep("published", { CODE: "7", PUBLISH_WANTED: "false", PUBLISH_STEP: "", PUBLISH_STDOUT: "" }).status).toBe(2);
      const published = actionStep("published", { CODE: "0", PUBLISH_WANTED: "true", PUBLISH_STEP: "success", PUBLISH_STDOUT: `registry.example/app:1@${DIGEST}\n` });
      expect(published.status).toBe(0);
      expect(published.outputs).toBe(`reference=registry.example/app:1@${DIGEST}\n`);
      const failed = actionStep("published", { CODE: "0", PUBLISH_WANTED: "true", PUBLISH_STEP: "failure", PUBLISH_STDOUT: "" });
      expect(failed.status).toBe(2);
      expect(failed.output).toContain("the gate passed but publishing failed");
    });
  });
});
