import { describe, expect, it } from "vitest";
import { parseBandit, parseTrivy } from "../../dagger/src/core/index.js";
import { lazyDocument, skipCheckedValue, type ItemPick, type JsonDocument } from "../../dagger/src/core/lazyjson.js";
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

/** Every item of the array at `results`, read through the document. */
function itemsOf(doc: JsonDocument): unknown[] {
  const items = doc.items((doc.root as { results: unknown[] }).results);
  return Array.from({ length: items.length }, (_, i) => items.take(i));
}

/** What a pick should give for one item: JSON.parse's object with only the picked keys (and `unless` keys when their other key is absent or ""). */
function picked(item: unknown, pick: ItemPick): unknown {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
  const record = item as Record<string, unknown>;
  const kept = Object.entries(record).filter(
    ([key]) => pick.keys.includes(key) || (pick.unless?.[key] !== undefined && [undefined, ""].includes(record[pick.unless[key]!] as string)),
  );
  return Object.fromEntries(kept);
}

describe("lazyDocument with an item pick", () => {
  const pick: ItemPick = { keys: ["id", "name", "tags"], unless: { description: "title" } };

  it("keeps exactly the picked keys of each object item, whatever the layout, and leaves other items whole", () => {
    const results = [
      { id: 1, cvss: { nvd: { score: 9.8, vector: "AV:N/AC:L" } }, name: "a", layer: { digest: "sha256:x" }, tags: ["x", "y"] },
      { cvss: [1, 2, { deep: [[]] }], id: 2, fingerprint: "f", title: "T", description: "dropped: there is a title" },
      { id: 3, description: "kept: no title" },
      { id: 4, title: "", description: "kept: the title is empty" },
      { description: "dropped: the title comes after", id: 5, title: "T" },
      {},
      "not an object",
      [1, { id: 2 }],
      42,
      null,
      { nested: { id: "not at the top" }, "n\u0061me": "an escaped key is kept" },
    ];
    for (const text of [JSON.stringify({ results }), JSON.stringify({ results }, null, 2), JSON.stringify({ results }, null, "\t")]) {
      const expected = (JSON.parse(text) as { results: unknown[] }).results.map((item) => picked(item, pick));
      expect(itemsOf(lazyDocument(text, BANDIT, pick)!)).toEqual(expected);
      expect(itemsOf(lazyDocument(new TextEncoder().encode(text), BANDIT, pick)!)).toEqual(expected);
    }
    // The escaped key is written with a backslash in the text, so it is kept and JSON.parse decodes it.
    const escaped = '{"results":[{"n\\u0061me":"x","other":1}]}';
    expect(itemsOf(lazyDocument(escaped, BANDIT, pick)!)).toEqual([{ name: "x" }]);
  });

  it("keeps JSON.parse's meaning of a repeated picked key (the last one wins)", () => {
    expect(itemsOf(lazyDocument('{"results":[{"id":1,"x":0,"id":2}]}', BANDIT, pick)!)).toEqual([{ id: 2 }]);
  });

  it("reads every item of an array longer than one parse batch, multi-byte characters included", () => {
    const results = Array.from({ length: 700 }, (_, i) => ({ id: i, name: `naïve “${i}” 🔒`, cvss: { v: i / 10 }, title: i % 2 ? "T" : undefined, description: `d${i}` }));
    const text = JSON.stringify({ results }, null, 1);
    const expected = (JSON.parse(text) as { results: unknown[] }).results.map((item) => picked(item, pick));
    expect(itemsOf(lazyDocument(new TextEncoder().encode(text), BANDIT, pick)!)).toEqual(expected);
  });

  it("still refuses a report with garbage in a value it leaves out", () => {
    const broken = [
      '{"results":[{"id":1,"cvss":{"nvd":{"score":9.8 x}}}]}',
      '{"results":[{"id":1,"layer":tru}]}',
      '{"results":[{"id":1,"layer":{"digest":"a",}}]}',
      '{"results":[{"id":1,"layer":[1,]}]}',
      '{"results":[{"id":1,"layer":{"digest" "a"}}]}',
      '{"results":[{"id":1,"layer":{"digest":"a"]}]}',
      '{"results":[{"id":1,"score":01}]}',
      '{"results":[{"id":1,"score":1.}]}',
      '{"results":[{"id":1,"score":-}]}',
      '{"results":[{"id":1,"score":1e}]}',
      '{"results":[{"id":1,"layer":{"digest":"a"}',
      '{"results":[{"id":1,"title":"T","description":{"a":nul}}]}',
      '{"results":[{"id":1,"description":[1 2],"title":"T"}]}',
    ];
    for (const text of broken) {
      expect(() => JSON.parse(text), text).toThrow();
      expect(lazyDocument(text, BANDIT, pick), text).toBeUndefined();
    }
  });

  it("checks a value it leaves out against JSON's grammar, as JSON.parse would", () => {
    const ok = ['"s"', "0", "-1.5e+3", "2E-2", "true", "false", "null", "[]", "{}", ' [ 1 , { "a" : [ null ] } ] ', '{"a":{"b":{"c":[[["deep"]]]}}}'];
    for (const text of ok) {
      const bytes = Buffer.from(text.trimEnd());
      const start = text.length - text.trimStart().length;
      expect(skipCheckedValue(bytes, start), text).toBe(bytes.length);
    }
    const deep = `${"[".repeat(1000)}${"]".repeat(1000)}`;
    expect(skipCheckedValue(Buffer.from(deep), 0)).toBe(deep.length);
    // Not one JSON value: refused, or ended before the end of the text (its container then refuses the rest).
    for (const text of ["01", "1.", "+1", "tru", "nulL", "[1,]", '{"a":1,}', '{"a"}', "[1}", '{"a":1]', "-", "1e+", "1 2"]) {
      const bytes = Buffer.from(text);
      expect(() => {
        if (skipCheckedValue(bytes, 0) !== bytes.length) throw new Error("ended early");
      }, text).toThrow();
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

  it("give the whole-text parse's error for garbage in a Trivy field portcullis does not read", () => {
    const broken = trivy.replace(/"V3Score": ([\d.]+)/, '"V3Score": $1 oops');
    expect(broken).not.toBe(trivy);
    expect(errorOf(() => parseTrivy(broken, { filePath: "t.json" }))).toBe(
      `t.json: not JSON (truncated or corrupt Trivy JSON report?): ${errorOf(() => JSON.parse(broken))}`,
    );
  });

  it("read the same findings from a Trivy report however it is laid out", () => {
    const compact = JSON.stringify(JSON.parse(trivy));
    const findings = parseTrivy(trivy, { filePath: "t.json" }).findings;
    expect(findings.length).toBeGreaterThan(0);
    expect(parseTrivy(compact, { filePath: "t.json" }).findings).toEqual(findings);
    expect(parseTrivy(new TextEncoder().encode(compact), { filePath: "t.json" }).findings).toEqual(findings);
  });

  it("take a vulnerability's title from its Description only when it has no Title", () => {
    const report = JSON.parse(trivy) as { Results: Array<{ Vulnerabilities: Array<Record<string, unknown>> }> };
    const vulns = report.Results.flatMap((r) => r.Vulnerabilities ?? []);
    const [withTitle, noTitle, emptyTitle] = vulns.filter((v, i, all) => all.findIndex((w) => w.VulnerabilityID === v.VulnerabilityID) === i);
    delete noTitle!.Title;
    noTitle!.Description = "First line of the description\nsecond line";
    emptyTitle!.Title = "";
    emptyTitle!.Description = "Empty title, so this line";
    const titles = new Map(parseTrivy(JSON.stringify(report), { filePath: "t.json" }).findings.map((f) => [f.ruleId, f.title]));
    expect(titles.get(withTitle!.VulnerabilityID as string)).toBe(withTitle!.Title);
    expect(titles.get(noTitle!.VulnerabilityID as string)).toBe("First line of the description");
    expect(titles.get(emptyTitle!.VulnerabilityID as string)).toBe("Empty title, so this line");
  });

  it("name the item and field of a schema error", () => {
    const report = JSON.parse(trivy) as { Results: Array<{ Vulnerabilities: Array<Record<string, unknown>> }> };
    report.Results[0]!.Vulnerabilities[1]!.Severity = "SEVERE";
    expect(errorOf(() => parseTrivy(JSON.stringify(report), { filePath: "t.json" }))).toMatch(
      /^t\.json: not a valid Trivy JSON report: .*at Results\[0\]\.Vulnerabilities\[1\]\.Severity$/,
    );
  });
});
