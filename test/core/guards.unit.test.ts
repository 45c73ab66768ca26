import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { BanditResultSchema } from "../../dagger/src/core/bandit.js";
import { isBanditResultShape, isTrivyVulnerabilityShape } from "../../dagger/src/core/guards.js";
import { TrivyVulnerabilitySchema } from "../../dagger/src/core/trivy.js";
import { fixture } from "./fixtures.js";

// Values that break one field or another: wrong types, empty, negative, fractional, unsafe, null.
const ODD_VALUES: unknown[] = [
  undefined, null, true, 0, -1, 1.5, 2 ** 60, -0, "", "x", "B1040", "B104", "HIGH", "UNDEFINED", "CRITICAL", "low",
  [], [1], [1.5], ["a"], [null], {}, { id: 1 }, { id: 1, link: "l" }, { id: "1", link: "l" }, { PURL: 1 }, { ID: "x" },
];

function realItems(): { bandit: unknown[]; trivy: unknown[] } {
  const bandit = ["bandit/bandit-b104.json", "bandit/bandit-1.7.4-b104.json"].flatMap((f) => JSON.parse(fixture(f)).results);
  const trivy = ["trivy/trivy-python-vuln.json", "trivy/trivy-debian.json"].flatMap((f) =>
    (JSON.parse(fixture(f)).Results ?? []).flatMap((r: { Vulnerabilities?: unknown[] }) => r.Vulnerabilities ?? []),
  );
  return { bandit, trivy };
}

/** Every item with each of its fields (and each schema field) set to each odd value in turn. */
function* mutations(items: unknown[], schema: z.ZodObject): Generator<unknown> {
  for (const item of items) {
    const keys = new Set([...Object.keys(item as object), ...Object.keys(schema.shape)]);
    for (const key of keys) {
      for (const value of ODD_VALUES) {
        const copy = { ...(item as object) } as Record<string, unknown>;
        if (value === undefined) delete copy[key];
        else copy[key] = value;
        yield copy;
      }
    }
  }
  yield* [null, [], "x", 1];
}

describe("fast shape checks", () => {
  const { bandit, trivy } = realItems();

  it("accept every real Bandit result and Trivy vulnerability, so the fast path is the one taken", () => {
    expect(bandit.length).toBeGreaterThan(0);
    expect(trivy.length).toBeGreaterThan(0);
    expect(bandit.filter((r) => !isBanditResultShape(r))).toEqual([]);
    expect(trivy.filter((v) => !isTrivyVulnerabilityShape(v))).toEqual([]);
  });

  it("never accept what the zod schema rejects (and agree with it on these cases)", () => {
    const cases: Array<[string, (v: unknown) => boolean, z.ZodObject, unknown[]]> = [
      ["bandit", isBanditResultShape, BanditResultSchema, bandit],
      ["trivy", isTrivyVulnerabilityShape, TrivyVulnerabilitySchema, trivy],
    ];
    for (const [name, guard, schema, items] of cases) {
      let rejected = 0;
      for (const candidate of mutations(items, schema)) {
        const zodAccepts = schema.safeParse(candidate).success;
        if (!zodAccepts) rejected++;
        expect(guard(candidate), `${name}: ${JSON.stringify(candidate)}`).toBe(zodAccepts);
      }
      expect(rejected, `${name}: the mutations must include bad items`).toBeGreaterThan(100);
    }
  });
});
