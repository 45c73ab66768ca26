import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionAsWorkflow } from "./action-workflow.js";
import { REPO_ROOT } from "./module-signature.js";

const SCRIPT = resolve(REPO_ROOT, "ci/actionlint.sh");
const ACTION_DIR = resolve(REPO_ROOT, ".github/actions/portcullis");

function actionlint(args: string[], cwd = REPO_ROOT): { status: number | null; output: string } {
  const run = spawnSync(SCRIPT, args, { cwd, encoding: "utf8", timeout: 600_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A throw-away repository (actionlint finds a project by its .git) holding a copy of the action. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-actionlint-"));
  mkdirSync(join(dir, ".git"));
  mkdirSync(join(dir, ".github/workflows"), { recursive: true });
  cpSync(ACTION_DIR, join(dir, ".github/actions/portcullis"), { recursive: true });
  return dir;
}

describe("actionlint (with shellcheck) over .github/", () => {
  const scratch: string[] = [];
  let shellcheck = "";

  beforeAll(() => {
    // First run on a fresh machine builds actionlint from the Go module proxy (about 40 s cold).
    const install = actionlint(["--install-only"]);
    expect(install.status, install.output).toBe(0);
    shellcheck = /^shellcheck=(.+)$/m.exec(install.output)?.[1] ?? "";
  }, 600_000);

  it("shellcheck finds nothing wrong in the plain-shell CI example and the installer", () => {
    const run = spawnSync(shellcheck, [resolve(REPO_ROOT, "docs/ci/portcullis.sh"), SCRIPT], { encoding: "utf8" });
    expect(`${run.stdout}${run.stderr}`).toBe("");
    expect(run.status).toBe(0);
  });

  afterAll(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it("finds nothing wrong in the project's workflows (and the local action's metadata they use)", () => {
    const run = actionlint([]);
    expect(run.output).toBe("");
    expect(run.status).toBe(0);
  });

  it("finds nothing wrong in the composite action's steps", () => {
    const dir = scratchProject();
    scratch.push(dir);
    const file = join(dir, ".github/workflows/action-steps.yml");
    writeFileSync(file, actionAsWorkflow(readFileSync(join(ACTION_DIR, "action.yml"), "utf8")));
    const run = actionlint([file], dir);
    expect(run.output).toBe("");
    expect(run.status).toBe(0);
  });

  it("flags a broken workflow: undefined step output, unquoted variable, unknown action input", () => {
    const dir = scratchProject();
    scratch.push(dir);
    const file = join(dir, ".github/workflows/broken.yml");
    writeFileSync(
      file,
      [
        "on: push",
        "jobs:",
        "  gate:",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        "      - uses: ./.github/actions/portcullis",
        "        with:",
        "          sources: app",
        "      - run: echo ${{ steps.nope.outputs.verdict }}",
        "      - run: cat $GITHUB_STEP_SUMMARY",
        "",
      ].join("\n"),
    );
    const run = actionlint([file], dir);
    expect(run.status).toBe(1);
    expect(run.output).toContain('input "sources" is not defined in action "portcullis"');
    expect(run.output).toContain('property "nope" is not defined in object type');
    expect(run.output).toContain("SC2086");
  });

  it("flags a broken step inside the action itself", () => {
    const dir = scratchProject();
    scratch.push(dir);
    const broken = readFileSync(join(ACTION_DIR, "action.yml"), "utf8").replace(
      "steps.verdict.outputs.exit-code || '2'",
      "steps.verdit.outputs.exit-code || '2'",
    );
    const file = join(dir, ".github/workflows/action-steps.yml");
    writeFileSync(file, actionAsWorkflow(broken));
    const run = actionlint([file], dir);
    expect(run.status).toBe(1);
    expect(run.output).toContain('property "verdit" is not defined');
  });
});
