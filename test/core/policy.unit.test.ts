import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY_YAML,
  PolicyError,
  daysUntilExpiry,
  parsePolicy,
  waiverExpired,
} from "../../dagger/src/core/index.js";

const repoFile = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const NOW = new Date("2026-11-28T12:00:00Z");

function policyError(yaml: string, now?: Date): string {
  try {
    parsePolicy(yaml, { filePath: "p.yaml", ...(now ? { now } : {}) });
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message;
  }
  throw new Error("expected a PolicyError");
}

const WAIVER = `waivers:
  - id: CVE-2023-45853
    package: zlib1g
    reason: "minizip is not built into zlib1g; not reachable"
    owner: security@example.com
    expires: 2027-01-31
`;

describe("the shipped policies", () => {
  it("DEFAULT_POLICY_YAML is byte for byte policies/default.yaml", () => {
    expect(DEFAULT_POLICY_YAML).toBe(repoFile("policies/default.yaml"));
  });

  it("default.yaml mirrors the seed: MEDIUM Bandit at MEDIUM confidence blocks, CRITICAL images block, HIGH warn", () => {
    const policy = parsePolicy(repoFile("policies/default.yaml"), { filePath: "policies/default.yaml", now: NOW });
    expect(policy).toEqual({
      version: 1,
      source: "policies/default.yaml",
      sast: { failOn: "MEDIUM", minConfidence: "MEDIUM", warnOn: "LOW" },
      image: { failOn: "CRITICAL", warnOn: "HIGH", ignoreUnfixed: false, maxDbAgeDays: 7 },
      waivers: [],
      maxWaiverDays: 90,
    });
  });

  it("every policy shipped in policies/ is valid", () => {
    const files = readdirSync(new URL("../../policies/", import.meta.url)).filter((f) => f.endsWith(".yaml"));
    expect(files).toEqual(expect.arrayContaining(["default.yaml", "strict.yaml"]));
    for (const file of files) {
      expect(() => parsePolicy(repoFile(`policies/${file}`), { filePath: `policies/${file}`, now: NOW })).not.toThrow();
    }
  });

  it("strict.yaml is stricter on every threshold", () => {
    const policy = parsePolicy(repoFile("policies/strict.yaml"), { filePath: "policies/strict.yaml", now: NOW });
    expect(policy.sast.failOn).toBe("LOW");
    expect(policy.image.failOn).toBe("HIGH");
    expect(policy.image.maxDbAgeDays).toBe(2);
    expect(policy.maxWaiverDays).toBe(30);
  });
});

describe("parsePolicy", () => {
  it("fills defaults for a minimal policy", () => {
    const policy = parsePolicy("version: 1\n", { filePath: "min.yaml" });
    expect(policy.sast).toEqual({ failOn: "MEDIUM", minConfidence: "MEDIUM", warnOn: "LOW" });
    expect(policy.image).toEqual({ failOn: "CRITICAL", warnOn: "HIGH", ignoreUnfixed: false, maxDbAgeDays: 7 });
    expect(policy.waivers).toEqual([]);
  });

  it("reads waivers, keeps the YAML date as written and records where each waiver is", () => {
    const policy = parsePolicy(`version: 1\n${WAIVER}  - id: B104\n    path: ./app/**\n    reason: dev server only\n    owner: team-a\n    expires: 2026-12-31\n`, {
      filePath: "p.yaml",
    });
    expect(policy.waivers).toEqual([
      {
        id: "CVE-2023-45853",
        package: "zlib1g",
        reason: "minizip is not built into zlib1g; not reachable",
        owner: "security@example.com",
        expires: "2027-01-31",
        source: "p.yaml:3",
      },
      { id: "B104", path: "app/**", reason: "dev server only", owner: "team-a", expires: "2026-12-31", source: "p.yaml:8" },
    ]);
  });

  it("names file, line and field for an unknown key (a typo never weakens the gate)", () => {
    expect(policyError("version: 1\nimage:\n  failOn: HIGH\n  ignoreUnfxed: true\n")).toBe("p.yaml:4 image.ignoreUnfxed: unknown key");
    expect(policyError("version: 1\nwaviers: []\n")).toBe("p.yaml:2 waviers: unknown key");
  });

  it("names file, line and field for a bad severity", () => {
    expect(policyError("version: 1\nsast:\n  failOn: SEVERE\n")).toBe(
      'p.yaml:3 sast.failOn: Invalid option: expected one of "UNKNOWN"|"LOW"|"MEDIUM"|"HIGH"|"CRITICAL"',
    );
    expect(policyError("version: 1\nsast:\n  minConfidence: UNDEFINED\n")).toMatch(/^p\.yaml:3 sast\.minConfidence: Invalid option/);
  });

  it.each(["reason", "owner", "expires"])("refuses a waiver without %s, pointing at the waiver", (field) => {
    const lines = WAIVER.split("\n").filter((l) => !l.trim().startsWith(`${field}:`));
    expect(policyError(`version: 1\n${lines.join("\n")}`)).toBe(`p.yaml:3 waivers[0].${field}: is required`);
  });

  it("refuses an empty reason", () => {
    expect(policyError(`version: 1\n${WAIVER.replace(/reason: .*/, 'reason: "  "')}`)).toBe(
      "p.yaml:5 waivers[0].reason: must say why the finding is accepted",
    );
  });

  it.each(["2027-13-01", "2027-02-30", "31/01/2027", "tomorrow"])("refuses the malformed date %s", (date) => {
    expect(policyError(`version: 1\n${WAIVER.replace("2027-01-31", date)}`)).toBe(
      "p.yaml:7 waivers[0].expires: must be a calendar date written YYYY-MM-DD",
    );
  });

  it("refuses another version", () => {
    expect(policyError("version: 2\n")).toBe("p.yaml:1 version: must be 1");
    expect(policyError("sast:\n  failOn: LOW\n")).toBe("p.yaml:1 version: is required");
  });

  it("says how many more problems there are", () => {
    expect(policyError("version: 1\nsast:\n  failOn: X\n  warnOn: Y\n")).toMatch(/\(and 1 more problem\(s\)\)$/);
  });

  it("refuses YAML syntax errors, empty files, non-mappings and duplicate keys with a line", () => {
    expect(policyError("version: 1\nimage: {failOn: HIGH\n")).toMatch(/^p\.yaml:\d+: YAML syntax: /);
    expect(policyError("")).toBe("p.yaml: empty policy file (expected at least `version: 1`)");
    expect(policyError("- version: 1\n")).toBe("p.yaml:1: a policy is a YAML mapping with at least `version: 1`");
    expect(policyError("version: 1\nversion: 1\n")).toMatch(/^p\.yaml:2: YAML syntax: Map keys must be unique/);
  });

  it("with `now`, refuses a waiver further out than maxWaiverDays", () => {
    const yaml = `version: 1\nmaxWaiverDays: 30\n${WAIVER}`;
    expect(policyError(yaml, NOW)).toBe("p.yaml:8 waivers[0].expires: 2027-01-31 is 64 days out, over maxWaiverDays (30)");
    expect(() => parsePolicy(yaml.replace("30", "64"), { filePath: "p.yaml", now: NOW })).not.toThrow();
    // Without a clock the check is left to the gate, which always has one.
    expect(() => parsePolicy(yaml, { filePath: "p.yaml" })).not.toThrow();
  });
});

describe("waiver expiry", () => {
  const waiver = { expires: "2026-11-28" };
  it("still waives through the last second of its expiry day (UTC)", () => {
    expect(waiverExpired(waiver, new Date("2026-11-28T23:59:59.999Z"))).toBe(false);
    expect(waiverExpired(waiver, new Date("2026-11-29T00:00:00Z"))).toBe(true);
  });
  it("counts whole days to expiry", () => {
    expect(daysUntilExpiry({ expires: "2027-01-31" }, NOW)).toBe(64);
    expect(daysUntilExpiry({ expires: "2026-11-27" }, NOW)).toBe(-1);
  });
});
