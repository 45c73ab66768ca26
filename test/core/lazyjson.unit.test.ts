import { describe, expect, it } from "vitest";
import { parseBandit, parseTrivy } from "../../dagger/src/core/index.js";
import { lazyDocument, type JsonDocument } from "../../dagger/src/core/lazyjson.js";
import { fixture } from "./fixtures.js";

/** The document with every lazy array read back in, to compare with JSON.parse. */
function materialise(doc: JsonDocument, paths: string[][]): unknown {
  const fill = (value: unknown, path: string[]): unknown => {
    if (Array.isArray(value)) {
      if (paths.some((p) => p.length === path.length && p.every((k, i) => k === "*" || k === path[i]))) {
        const items = doc.items(value);
        return Array.from({ length: items.length }, (_, i) => items.take(i));
      }
      return value.map((v) => fill(v, [...path, "*"]));
    }
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, [...path, k])]));
    }
    return value;
  };
  return fill(doc.root, []);
}

/** The error a parser throws, or "no error". */
function errorOf(parse: () => unknown): string {
  try {
    parse();
    return "no error";
  } catch (error) {
    return (error as Error).message;
  }
}

const BANDIT = [["results"]];
const TRIVY = [["Results", "*", "Vulnerabilities"]];

describe("lazyDocument", () => {
  it("reads back every real fixture exactly as JSON.parse does", () => {
    for (const name of ["bandit/bandit-b104.json", "bandit/bandit-clean.json", "bandit/bandit-1.7.4-b104.json", "bandit/bandit-syntax-error.json"]) {
      const text = fixture(name);
      expect(materialise(lazyDocument(text, BANDIT)!, BANDIT), name).toEqual(JSON.parse(text));
    }
    for (const name of ["trivy/trivy-python-vuln.json", "trivy/trivy-debian.json", "trivy/trivy-empty.json"]) {
      const text = fixture(name);
      expect(materialise(lazyDocument(text, TRIVY)!, TRIVY), name).toEqual(JSON.parse(text));
    }
  });

  it("cuts the lazy arrays out, item by item", () => {
    const doc = lazyDocument(' { "a\\u0062" : 1, "results" : [ {"x":"]\\"}"} , 2,[3], "s" ] , "z": [] } ', BANDIT)!;
    const root = doc.root as { ab: number; results: unknown[]; z: unknown[] };
    expect(root.ab).toBe(1);
    expect(root.z).toEqual([]);
    const items = doc.items(root.results);
    expect(Array.from({ length: items.length }, (_, i) => items.take(i))).toEqual([{ x: ']"}' }, 2, [3], "s"]);
  });

  it("reads UTF-8 bytes as it reads the decoded text, multi-byte characters included", () => {
    const text = JSON.stringify({ "clé ✓": "é", results: [{ x: "naïve — “quoted” 🔒 \\ \"" }, "∑", 3, { "ключ": ["日本"] }], z: "ü" });
    const bytes = new TextEncoder().encode(text);
    expect(bytes.length).toBeGreaterThan(text.length); // really multi-byte
    expect(materialise(lazyDocument(bytes, BANDIT)!, BANDIT)).toEqual(JSON.parse(text));
    expect(materialise(lazyDocument(text, BANDIT)!, BANDIT)).toEqual(JSON.parse(text));
  });

  it("reads every item of an array longer than one parse batch, in order", () => {
    const results = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? { i, s: `]${i}"` } : i % 3 === 1 ? [i] : `item ${i}`));
    const text = JSON.stringify({ results }, null, 1);
    expect(materialise(lazyDocument(new TextEncoder().encode(text), BANDIT)!, BANDIT)).toEqual({ results });
  });

  it("keeps JSON.parse's meaning of a repeated key (the last one wins)", () => {
    const doc = lazyDocument('{"results":[1,2],"results":[3]}', BANDIT)!;
    const items = doc.items((doc.root as { results: unknown[] }).results);
    expect([items.length, items.take(0)]).toEqual([1, 3]);
  });

  it("gives up on text that is not JSON, so the whole-text parse can say what is wrong", () => {
    for (const text of ['{"results":[1,2', '{"results":[1 2]}', '{"results":[1,,2]}', '{"results":[1]', '{"results":[1]} x', '{"results" [1]}', '"abc']) {
      expect(lazyDocument(text, BANDIT), text).toBeUndefined();
    }
  });
});

describe("parsers on the lazy path", () => {
  const b104 = fixture("bandit/bandit-b104.json");
  const trivy = fixture("trivy/trivy-python-vuln.json");

  it("give the whole-text parse's error for a bad value inside an item", () => {
    const broken = b104.replace('"line_number": ', '"line_number": tru');
    expect(broken).not.toBe(b104);
    expect(errorOf(() => parseBandit(broken, { filePath: "b.json" }))).toBe(
      `b.json: not JSON (truncated or corrupt Bandit JSON report?): ${errorOf(() => JSON.parse(broken))}`,
    );
    const brokenTrivy = trivy.replace('"Severity": "', '"Severity": x"');
    expect(errorOf(() => parseTrivy(brokenTrivy, { filePath: "t.json" }))).toBe(
      `t.json: not JSON (truncated or corrupt Trivy JSON report?): ${errorOf(() => JSON.parse(brokenTrivy))}`,
    );
  });

  it("give the whole-text parse's error for a bad item in a later parse batch, from bytes too", () => {
    const report = JSON.parse(b104) as { results: unknown[] };
    const many = JSON.stringify({ ...report, results: Array.from({ length: 600 }, () => report.results[0]) });
    const broken = many.replace(/"line_number": ?(\d+)/g, (all, n, offset) => (offset > many.length * 0.8 ? `"line_number": ${n}x` : all));
    expect(broken).not.toBe(many);
    const expected = `b.json: not JSON (truncated or corrupt Bandit JSON report?): ${errorOf(() => JSON.parse(broken))}`;
    expect(errorOf(() => parseBandit(new TextEncoder().encode(broken), { filePath: "b.json" }))).toBe(expected);
    expect(errorOf(() => parseBandit(broken, { filePath: "b.json" }))).toBe(expected);
    expect(parseBandit(new TextEncoder().encode(many), { filePath: "b.json" }).findings).toHaveLength(600);
  });

  it("report a JSON error before a schema error earlier in the file, as a whole-text parse does", () => {
    const report = JSON.parse(b104) as { results: Array<Record<string, unknown>> };
    report.results[0]!.line_number = "one";
    const text = JSON.stringify(report).replace(/\}\]/, "},]"); // a trailing comma after the last result
    expect(errorOf(() => parseBandit(text, { filePath: "b.json" }))).toMatch(/^b\.json: not JSON/);
  });

  it("name the item and field of a schema error", () => {
    const report = JSON.parse(trivy) as { Results: Array<{ Vulnerabilities: Array<Record<string, unknown>> }> };
    report.Results[0]!.Vulnerabilities[1]!.Severity = "SEVERE";
    expect(errorOf(() => parseTrivy(JSON.stringify(report), { filePath: "t.json" }))).toMatch(
      /^t\.json: not a valid Trivy JSON report: .*at Results\[0\]\.Vulnerabilities\[1\]\.Severity$/,
    );
  });
});
