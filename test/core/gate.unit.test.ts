import { describe, expect, it } from "vitest";
import {
  evaluate,
  parseBandit,
  parsePolicy,
  renderReports,
  summarizeVerdict,
  toolFailure,
  type Policy,
  type ToolRun,
} from "../../dagger/src/core/index.js";
import { fixture } from "./fixtures.js";

const NOW = new Date("2026-11-28T12:00:00Z");
const b104 = (): ToolRun => parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "bandit-b104.json" });
const clean = (): ToolRun => parseBandit(fixture("bandit/bandit-clean.json"), { filePath: "bandit-clean.json" });
const policy = (extra = ""): Policy => parsePolicy(`version: 1\n${extra}`, { filePath: "p.yaml" });
const waiver = (fields: string) => `waivers:\n  - reason: accepted for the test\n    owner: team-a\n${fields.replace(/^/gm, "    ")}\n`;

describe("evaluate: SAST thresholds", () => {
  it("default: B104 (MEDIUM, MEDIUM confidence) blocks; B608 (LOW confidence) and LOW findings only warn", () => {
    const verdict = evaluate({ runs: [b104()], policy: policy(), now: NOW });
    expect(verdict.outcome).toBe("fail");
    expect(verdict.blocking.map((f) => f.ruleId)).toEqual(["B104"]);
    expect(verdict.warnings.map((f) => f.ruleId)).toEqual(["B608", "B101", "B311"]);
    expect(verdict.counts).toMatchObject({ total: 4, blocking: 1, warnings: 3, waived: 0, info: 0 });
    expect(verdict.counts.byStage.sast).toEqual({ UNKNOWN: 0, LOW: 2, MEDIUM: 2, HIGH: 0, CRITICAL: 0 });
  });

  it("minConfidence LOW lets B608 block too", () => {
    const verdict = evaluate({ runs: [b104()], policy: policy("sast: { minConfidence: LOW }"), now: NOW });
    expect(verdict.blocking.map((f) => f.ruleId)).toEqual(["B104", "B608"]);
  });

  it("failOn HIGH passes, and warnOn MEDIUM leaves LOW findings as info", () => {
    const verdict = evaluate({ runs: [b104()], policy: policy("sast: { failOn: HIGH, warnOn: MEDIUM }"), now: NOW });
    expect(verdict.outcome).toBe("pass");
    expect(verdict.warnings.map((f) => f.ruleId)).toEqual(["B104", "B608"]);
    expect(verdict.counts.info).toBe(2);
  });

  it("a clean run passes", () => {
    const verdict = evaluate({ runs: [clean()], policy: policy(), now: NOW });
    expect(verdict.outcome).toBe("pass");
    expect(verdict.notes).toEqual(["Bandit reported no issues"]);
  });
});

describe("evaluate: waivers", () => {
  it("an unexpired waiver stops B104 blocking and says which waiver did it", () => {
    const verdict = evaluate({ runs: [b104()], policy: policy(waiver("id: B104\nexpires: 2026-11-28")), now: NOW });
    expect(verdict.outcome).toBe("pass");
    expect(verdict.waived).toHaveLength(1);
    expect(verdict.waived[0]!.finding.ruleId).toBe("B104");
    expect(verdict.waived[0]!.waiver).toEqual({
      id: "B104",
      reason: "accepted for the test",
      owner: "team-a",
      expires: "2026-11-28",
      source: "p.yaml:3",
    });
    expect(verdict.unusedWaivers).toEqual([]);
    expect(verdict.expiredWaivers).toEqual([]);
  });

  it("an expired waiver no longer waives and is listed with what it would have waived", () => {
    const verdict = evaluate({ runs: [b104()], policy: policy(waiver("id: B104\nexpires: 2026-11-27")), now: NOW });
    expect(verdict.outcome).toBe("fail");
    expect(verdict.blocking.map((f) => f.ruleId)).toEqual(["B104"]);
    expect(verdict.blocking[0]!.expiredWaiver?.expires).toBe("2026-11-27");
    expect(verdict.expiredWaivers).toMatchObject([{ id: "B104", expires: "2026-11-27", matched: 1 }]);
    expect(verdict.unusedWaivers).toEqual([]);
  });

  it("a path glob narrows a SAST waiver", () => {
    const hit = evaluate({ runs: [b104()], policy: policy(waiver("id: B104\npath: app/**\nexpires: 2027-01-01")), now: NOW });
    expect(hit.outcome).toBe("pass");
    const miss = evaluate({ runs: [b104()], policy: policy(waiver("id: B104\npath: lib/*.py\nexpires: 2027-01-01")), now: NOW });
    expect(miss.outcome).toBe("fail");
    expect(miss.unusedWaivers.map((w) => w.path)).toEqual(["lib/*.py"]);
  });

  it("a waiver naming a package never matches a SAST finding", () => {
    const verdict = evaluate({ runs: [b104()], policy: policy(waiver("id: B104\npackage: zlib1g\nexpires: 2027-01-01")), now: NOW });
    expect(verdict.outcome).toBe("fail");
    expect(verdict.unusedWaivers.map((w) => w.id)).toEqual(["B104"]);
  });

  it("a waiver for a finding that is not there is unused", () => {
    const verdict = evaluate({ runs: [clean()], policy: policy(waiver("id: B602\nexpires: 2027-01-01")), now: NOW });
    expect(verdict.outcome).toBe("pass");
    expect(verdict.unusedWaivers.map((w) => w.id)).toEqual(["B602"]);
  });

  it("a waiver running past maxWaiverDays makes the verdict an error", () => {
    const verdict = evaluate({
      runs: [b104()],
      policy: policy(`maxWaiverDays: 30\n${waiver("id: B104\nexpires: 2027-06-01")}`),
      now: NOW,
    });
    expect(verdict.outcome).toBe("error");
    expect(verdict.errors).toEqual(["policy: p.yaml:4 waiver B104: expires 2027-06-01, 185 days out; maxWaiverDays is 30"]);
  });
});

describe("evaluate: errors fail closed", () => {
  it("files Bandit could not scan make the outcome error, naming them", () => {
    const run = parseBandit(fixture("bandit/bandit-syntax-error.json"), { filePath: "se.json" });
    const verdict = evaluate({ runs: [run], policy: policy(), now: NOW });
    expect(verdict.outcome).toBe("error");
    expect(verdict.errors).toEqual(["Bandit could not scan app/broken.py: syntax error while parsing AST from file"]);
    // The B104 that Bandit did find is still reported as blocking.
    expect(verdict.blocking.map((f) => f.ruleId)).toEqual(["B104"]);
  });

  it("a crashed tool is an error even when the other tool is clean", () => {
    const verdict = evaluate({ runs: [clean(), toolFailure("trivy", "trivy exited 2: no DB")], policy: policy(), now: NOW });
    expect(verdict.outcome).toBe("error");
    expect(verdict.errors).toEqual(["trivy exited 2: no DB"]);
  });

  it("nothing to judge is an error, never a pass", () => {
    const verdict = evaluate({ runs: [], policy: policy(), now: NOW });
    expect(verdict.outcome).toBe("error");
  });

  it("extra errors (e.g. unreadable DB metadata) make the outcome error", () => {
    const verdict = evaluate({ runs: [clean()], policy: policy(), now: NOW, extraErrors: ["db: bad"] });
    expect(verdict.outcome).toBe("error");
    expect(verdict.errors).toEqual(["db: bad"]);
  });
});

describe("evaluate: Trivy DB age", () => {
  const db = (updatedAt: string) => ({ version: 2, updatedAt, nextUpdate: updatedAt });

  it("a DB older than image.maxDbAgeDays is an error", () => {
    const verdict = evaluate({ runs: [clean()], policy: policy(), now: NOW, db: db("2026-11-20T11:59:59Z") });
    expect(verdict.outcome).toBe("error");
    expect(verdict.db).toMatchObject({ known: true, ageDays: 8, maxAgeDays: 7, stale: true });
    expect(verdict.errors).toEqual([
      "Trivy vulnerability DB is stale: updated 2026-11-20T11:59:59Z, 8 day(s) old; policy image.maxDbAgeDays is 7",
    ]);
  });

  it("a DB exactly maxDbAgeDays old is still fresh", () => {
    const verdict = evaluate({ runs: [clean()], policy: policy(), now: NOW, db: db("2026-11-21T12:00:00Z") });
    expect(verdict.outcome).toBe("pass");
    expect(verdict.db).toMatchObject({ known: true, ageDays: 7, stale: false });
  });

  it("without metadata the age is unknown", () => {
    const verdict = evaluate({ runs: [clean()], policy: policy(), now: NOW });
    expect(verdict.db).toEqual({ known: false, maxAgeDays: 7, stale: false });
  });
});

describe("evaluate: determinism", () => {
  it("the same findings in another order render byte-identical reports", () => {
    const a = b104();
    const b = b104();
    b.findings.reverse();
    const ra = renderReports(evaluate({ runs: [a], policy: policy(), now: NOW }));
    const rb = renderReports(evaluate({ runs: [b], policy: policy(), now: NOW }));
    expect(rb).toEqual(ra);
  });

  it("a finding reported twice is judged once", () => {
    const run = b104();
    run.findings.push({ ...run.findings[0]! });
    expect(evaluate({ runs: [run], policy: policy(), now: NOW }).counts.total).toBe(4);
  });
});

describe("summarizeVerdict", () => {
  it("says why, in one paragraph", () => {
    expect(summarizeVerdict(evaluate({ runs: [b104()], policy: policy(), now: NOW }))).toBe(
      "FAIL: 1 blocking finding(s): B104 (MEDIUM) at app/server.py:7. 3 warning(s), 0 waived, 4 finding(s) in all.",
    );
    expect(summarizeVerdict(evaluate({ runs: [clean()], policy: policy(), now: NOW }))).toBe(
      "PASS: no blocking findings. 0 warning(s), 0 waived, 0 finding(s) in all.",
    );
    expect(summarizeVerdict(evaluate({ runs: [toolFailure("bandit", "bandit crashed")], policy: policy(), now: NOW }))).toBe(
      "ERROR: the gate could not judge (1 problem(s)): bandit crashed. 0 warning(s), 0 waived, 0 finding(s) in all.",
    );
  });
});
