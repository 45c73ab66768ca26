// Story 2: an image with the lab database's CRITICAL fails, its HIGH findings listed as warnings;
// the fixed service (app/) passes, is published to the lab registry with authentication, and is
// pulled back by the digest the pipeline returned.
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  APPS, ROOT, dbArgs, labRun, nonce, outDir, parseReference, policyFrom, publishArgs, publishedReference,
  pullBlob, pullManifest, readReports, registryTags, runEnv,
} from "./helpers.js";

describe("story 2: a CRITICAL vulnerability blocks; the fixed image is published by digest", () => {
  it("vulnerable-deps: PyYAML CVE-2020-14343 (CRITICAL) blocks, requests CVE-2018-18074 (HIGH) is a warning", async () => {
    const out = outDir("vulnerable-deps");
    const repository = "portcullis-e2e/vulnerable-deps";
    const tag = nonce();
    const result = await labRun(
      [
        "--source", path.join(APPS, "vulnerable-deps"), "--policy", policyFrom("app-waiver.yaml", 30), "--out", out,
        ...(await dbArgs()), ...(await publishArgs(`127.0.0.1:5000/${repository}:${tag}`)),
      ],
      { env: await runEnv() },
    );
    expect(result.code, result.stderr).toBe(1);
    const { verdict, summary } = readReports(out);
    expect(verdict.outcome).toBe("fail");
    expect(verdict.blocking.map((f) => `${f.ruleId} ${f.severity} ${f.package?.name}`)).toEqual(["CVE-2020-14343 CRITICAL PyYAML"]);
    const warnings = verdict.findings.filter((f) => f.disposition === "warning");
    expect(warnings).toContainEqual(expect.objectContaining({ ruleId: "CVE-2018-18074", severity: "HIGH", package: expect.objectContaining({ name: "requests" }) }));
    expect(summary).toContain("CVE-2020-14343");
    expect(await registryTags(repository)).not.toContain(tag);
  });

  it("app/: passes, is published with registry auth and pulled back by the returned digest", async () => {
    const out = outDir("app-publish");
    const repository = "portcullis-e2e/app";
    const tag = nonce();
    const address = `127.0.0.1:5000/${repository}:${tag}`;
    const result = await labRun(
      ["--source", path.join(ROOT, "app"), "--policy", policyFrom("app-waiver.yaml", 30), "--out", out, ...(await dbArgs()), ...(await publishArgs(address))],
      { env: await runEnv() },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(readReports(out).verdict.outcome).toBe("pass");

    const ref = publishedReference(result.stdout);
    expect(ref, result.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:5000/${repository}:${tag}@sha256:[0-9a-f]{64}$`));
    const { digest } = parseReference(ref!);
    expect(await registryTags(repository)).toContain(tag);

    // Pull back by digest: the manifest hashes to the digest, its config is the app's runtime image.
    const manifest = await pullManifest(repository, digest);
    const config = JSON.parse((await pullBlob(repository, manifest.config.digest)).toString("utf8")) as {
      config: { User?: string; Env?: string[]; Cmd?: string[] };
    };
    expect(config.config.User).toBe("10001:10001");
    expect(config.config.Cmd).toEqual(["python", "-m", "advisory_api"]);
    expect(config.config.Env).toContain("APP_HOST=0.0.0.0");
    expect(manifest.layers.length).toBeGreaterThan(0);
  });
});
