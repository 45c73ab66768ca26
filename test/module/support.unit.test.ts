import { describe, expect, it } from "vitest";
import {
  describeEngineError,
  overlapMs,
  parseBuildArgs,
  parseNow,
  registryHost,
  tail,
  trivyDbCacheKey,
} from "../../dagger/src/support.js";
import { trivyArgs } from "../../dagger/src/scan.js";

describe("parseBuildArgs", () => {
  it("splits at the first = and keeps the rest of the value", () => {
    expect(parseBuildArgs(["A=1", "URL=http://x/?a=b", "EMPTY="])).toEqual([
      { name: "A", value: "1" },
      { name: "URL", value: "http://x/?a=b" },
      { name: "EMPTY", value: "" },
    ]);
  });
  it.each(["NOVALUE", "=1", "1A=2", "A B=3"])("rejects %j with a message naming it", (arg) => {
    expect(() => parseBuildArgs([arg])).toThrow(`build argument "${arg}" is not NAME=value`);
  });
});

describe("registryHost", () => {
  it.each([
    ["127.0.0.1:5000/portcullis/app:latest", "127.0.0.1:5000"],
    ["ghcr.io/acme/app@sha256:abc", "ghcr.io"],
    ["localhost/app", "localhost"],
    ["acme/app:1", "docker.io"],
    ["app", "docker.io"],
  ])("%s → %s", (address, host) => {
    expect(registryHost(address)).toBe(host);
  });
});

describe("trivyDbCacheKey", () => {
  it("keeps the conventional name for Trivy's own DB and one volume per mirror", () => {
    expect(trivyDbCacheKey()).toBe("trivy-db");
    expect(trivyDbCacheKey("127.0.0.1:5000/trivy-db")).toBe("trivy-db-127.0.0.1-5000-trivy-db");
    expect(trivyDbCacheKey("Registry.Example/Trivy")).not.toBe(trivyDbCacheKey("registry.example/other"));
  });
});

describe("trivyArgs", () => {
  it("scans vulnerabilities only, from the tarball, and goes offline with a mirror", () => {
    expect(trivyArgs("json")).toEqual(["image", "--input", "image.tar", "--scanners", "vuln", "--format", "json"]);
    const mirrored = trivyArgs("cyclonedx", "127.0.0.1:5000/trivy-db");
    expect(mirrored).toContain("--offline-scan");
    expect(mirrored).toContain("--skip-java-db-update");
    expect(mirrored.slice(mirrored.indexOf("--db-repository"), mirrored.indexOf("--db-repository") + 2)).toEqual([
      "--db-repository",
      "127.0.0.1:5000/trivy-db",
    ]);
    expect(mirrored.slice(6, 7)).toEqual(["cyclonedx"]);
  });
});

describe("tail / describeEngineError", () => {
  it("keeps the last non-empty lines", () => {
    expect(tail("a\n\nb\nc\n\n", 2)).toBe("b\nc");
  });
  it("prefers an exec error's own output over its message", () => {
    const err = Object.assign(new Error("process \"pytest\" did not complete successfully: exit code: 1\nmore"), {
      stdout: "FAILED tests/test_x.py::test_y",
      stderr: "",
    });
    expect(describeEngineError(err)).toEqual({
      message: 'process "pytest" did not complete successfully: exit code: 1',
      output: "FAILED tests/test_x.py::test_y",
    });
    expect(describeEngineError("boom")).toEqual({ message: "boom", output: "boom" });
  });
});

describe("overlapMs / parseNow", () => {
  it("measures how long two spans ran together", () => {
    expect(overlapMs({ startedAt: 0, endedAt: 10 }, { startedAt: 5, endedAt: 20 })).toBe(5);
    expect(overlapMs({ startedAt: 0, endedAt: 10 }, { startedAt: 10, endedAt: 20 })).toBe(0);
  });
  it("parses ISO dates and rejects others", () => {
    expect(parseNow("2026-11-28T00:00:00Z").toISOString()).toBe("2026-11-28T00:00:00.000Z");
    expect(() => parseNow("yesterday")).toThrow('now "yesterday" is not an ISO-8601 date');
  });
});
