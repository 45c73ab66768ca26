import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkActionAgainstModule, checkCallLine, parseAction, splitCallWords } from "./action-calls.js";
import { REPO_ROOT, scanModuleApi, type ModuleApi } from "./module-signature.js";

const ACTION_PATH = resolve(REPO_ROOT, ".github/actions/portcullis/action.yml");
const PIPELINE_RUN_PATH = resolve(REPO_ROOT, "dagger/src/pipeline.ts");
const INDEX_PATH = resolve(REPO_ROOT, "dagger/src/index.ts");

describe("the GitHub action's inputs and dagger calls match the module's functions", () => {
  let api: ModuleApi;
  const actionText = readFileSync(ACTION_PATH, "utf8");

  beforeAll(() => {
    api = scanModuleApi();
  }, 60_000);

  it("reads the module's API from its source", () => {
    const pipeline = api.get("Portcullis")?.get("pipeline");
    expect(pipeline?.returns).toBe("PipelineRun");
    expect(pipeline?.args.map((a) => a.name)).toEqual(expect.arrayContaining(["source", "policy"]));
    expect(api.get("PipelineRun")?.get("publish")?.args.find((a) => a.name === "password")?.type).toBe("Secret");
    expect(api.get("Directory")?.get("export")?.args[0]).toMatchObject({ name: "path", optional: false });
  });

  it("has no drift: every call names real functions and arguments, and every input reaches one", () => {
    const check = checkActionAgainstModule(parseAction(actionText), api);
    expect(check.problems).toEqual([]);
    expect(Object.fromEntries(check.inputTargets)).toEqual({
      source: ["Portcullis.pipeline --source", "Portcullis.pipeline --source"],
      policy: ["Portcullis.pipeline --policy", "Portcullis.pipeline --policy"],
      "publish-address": ["PipelineRun.publish --address"],
      "registry-username": ["PipelineRun.publish --username"],
      "registry-password": ["PipelineRun.publish --password"],
      "db-repository": ["Portcullis.pipeline --db-repository", "Portcullis.pipeline --db-repository"],
      "db-username": ["Portcullis.pipeline --db-username", "Portcullis.pipeline --db-username"],
      "db-password": ["Portcullis.pipeline --db-password", "Portcullis.pipeline --db-password"],
      "dagger-version": ["pipeline: Dagger CLI version", "publish: Dagger CLI version"],
    });
    expect(check.calls.map((c) => c.chain.map((l) => `${l.type}.${l.fn.name}`).join(" > "))).toEqual([
      "Portcullis.pipeline > PipelineRun.reports > Directory.export",
      "Portcullis.pipeline > PipelineRun.publish",
    ]);
  });

  it("fails when the module renames an argument the action passes", () => {
    const source = readFileSync(PIPELINE_RUN_PATH, "utf8");
    const renamed = source.replace(/async publish\(address: string/, "async publish(reference: string");
    expect(renamed).not.toBe(source); // the rename must have happened for this test to mean anything
    const drifted = scanModuleApi(undefined, new Map([[PIPELINE_RUN_PATH, renamed]]));
    const problems = checkActionAgainstModule(parseAction(actionText), drifted).problems;
    expect(problems).toContain("publish: PipelineRun.publish has no argument --address (it takes --reference, --username, --password)");
    expect(problems).toContain("publish: PipelineRun.publish needs --reference, which the call does not always give");
  });

  it("fails when the module renames a function the action calls", () => {
    const source = readFileSync(INDEX_PATH, "utf8");
    const renamed = source.replace(/\n  pipeline\(/, "\n  runPipeline(");
    expect(renamed).not.toBe(source);
    const drifted = scanModuleApi(undefined, new Map([[INDEX_PATH, renamed]]));
    const problems = checkActionAgainstModule(parseAction(actionText), drifted).problems;
    expect(problems).toContain('pipeline: Portcullis has no function "pipeline"');
  });

  it("fails when the action renames a flag or drops an input's wiring", () => {
    const flagRenamed = actionText.replace('--policy "$PORTCULLIS_POLICY"', '--policies "$PORTCULLIS_POLICY"');
    expect(flagRenamed).not.toBe(actionText);
    expect(checkActionAgainstModule(parseAction(flagRenamed), api).problems).toContainEqual(
      expect.stringContaining("Portcullis.pipeline has no argument --policies"),
    );
    const unwired = actionText.replace(/\n {10}\$\{PORTCULLIS_REGISTRY_USERNAME:\+--username "\$PORTCULLIS_REGISTRY_USERNAME"\}/, "");
    expect(unwired).not.toBe(actionText);
    expect(checkActionAgainstModule(parseAction(unwired), api).problems).toContain(
      'input "registry-username" reaches no module argument in any dagger call',
    );
  });

  it("refuses a secret passed as plain text on the command line", () => {
    const line = 'pipeline --source "$S" publish --address "$A" --password "$PASSWORD"';
    expect(checkCallLine("publish", line, api).problems).toEqual([
      'publish: --password is a Secret and must be passed as env:VAR, not "$PASSWORD"',
    ]);
  });

  it("splits call lines the way bash expands them", () => {
    expect(splitCallWords('pipeline --source "$S" ${P:+--policy "$P"} reports')).toEqual([
      { text: "pipeline" },
      { text: "--source" },
      { text: "$S" },
      { text: "--policy", condition: "P" },
      { text: "$P", condition: "P" },
      { text: "reports" },
    ]);
  });
});
