import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkConsumer } from "./consumer-calls.js";
import { REPO_ROOT, scanModuleApi, type ModuleApi } from "./module-signature.js";

const CONSUMER = resolve(REPO_ROOT, "examples/consumer");
const CONSUMER_SOURCE = resolve(CONSUMER, "src/index.ts");
const PIPELINE_RUN_PATH = resolve(REPO_ROOT, "dagger/src/pipeline.ts");

describe("the example consumer module (examples/consumer) reuses portcullis as its bindings would type it", () => {
  let api: ModuleApi;
  const text = readFileSync(CONSUMER_SOURCE, "utf8");

  beforeAll(() => {
    api = scanModuleApi();
  }, 60_000);

  it("depends on the portcullis module by relative path, on the same engine version", () => {
    const consumer = JSON.parse(readFileSync(resolve(CONSUMER, "dagger.json"), "utf8"));
    const portcullis = JSON.parse(readFileSync(resolve(REPO_ROOT, "dagger.json"), "utf8"));
    expect(consumer.dependencies).toEqual([{ name: portcullis.name, source: "../.." }]);
    expect(resolve(CONSUMER, "../..")).toBe(REPO_ROOT);
    expect(consumer.engineVersion).toBe(portcullis.engineVersion);
    expect(consumer.sdk).toEqual({ source: "typescript" });
  });

  it("gets only Dagger types, module objects or scalars back from every function, so results compose", () => {
    const moduleObjects = ["Portcullis", "PipelineRun", "SastRun", "ImageScan"];
    const allowed = new Set([...moduleObjects, "Directory", "File", "Container", "string", "number", "boolean", "void"]);
    const returned = moduleObjects.flatMap((type) => [...(api.get(type)?.values() ?? [])].map((fn) => [`${type}.${fn.name}`, fn.returns] as const));
    expect(returned.length).toBeGreaterThan(20);
    expect(returned.filter(([, type]) => !allowed.has(type))).toEqual([]);
  });

  it("calls only functions and arguments the module has, and uses what they return", () => {
    const { calls, problems } = checkConsumer("src/index.ts", text, api);
    expect(problems).toEqual([]);
    expect(calls.map((c) => c.chain)).toEqual([
      "Portcullis.pipeline > PipelineRun.reports",
      "Portcullis.pipeline",
      "PipelineRun.outcome",
      "PipelineRun.summary",
      "PipelineRun.publish",
      "Portcullis.pipeline > PipelineRun.scan > ImageScan.sbom",
      "Portcullis.pipeline > PipelineRun.image",
    ]);
  });

  it("fails when the module renames what the consumer calls", () => {
    const source = readFileSync(PIPELINE_RUN_PATH, "utf8");
    const renamed = source.replace(/async publish\(address: string, username\?: string/, "async publish(address: string, user?: string");
    expect(renamed).not.toBe(source);
    const drifted = scanModuleApi(undefined, new Map([[PIPELINE_RUN_PATH, renamed]]));
    expect(checkConsumer("src/index.ts", text, drifted).problems).toEqual([
      expect.stringMatching(/^src\/index\.ts:\d+: PipelineRun\.publish\(\) has no option "username" \(it takes user, password\)$/),
    ]);
  });

  it("fails on a wrong option, a missing positional argument or an unknown function", () => {
    const broken = text
      .replace("pipeline({ source, policy })", "pipeline({ sources: source, policy })")
      .replace("run.publish(address, { username, password })", "run.publish({ username, password })")
      .replace(".scan().sbom()", ".scan().cyclonedx()");
    const problems = checkConsumer("src/index.ts", broken, api).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/Portcullis\.pipeline\(\) has no option "sources"/);
    expect(problems[1]).toMatch(/PipelineRun\.publish\(\) takes 1 positional argument\(s\) \(address\) and options \{username, password\}, got 0/);
    expect(problems[2]).toMatch(/ImageScan has no function cyclonedx\(\)/);
  });
});
