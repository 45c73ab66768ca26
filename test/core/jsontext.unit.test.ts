import { describe, expect, it } from "vitest";
import { flatObjectJson, num, quote } from "../../dagger/src/core/report/jsontext.js";

const STRINGS = [
  "", "plain", "CVE-2023-45853 in zlib1g 1:1.2.13", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "\u0000\u001f",
  "\u007f del", "/slash/", "ü é ✖", "emoji 🙂", "\ud800 lone", "lone \udc00", "~}|{", " ", "'single'",
];

describe("hand-written JSON text", () => {
  it("quote() is JSON.stringify for plain, escaped, control, non-ASCII and lone-surrogate strings", () => {
    for (const s of STRINGS) expect(quote(s), JSON.stringify(s)).toBe(JSON.stringify(s));
    for (let c = 0; c < 0x300; c++) {
      const s = `a${String.fromCharCode(c)}b`;
      expect(quote(s)).toBe(JSON.stringify(s));
    }
  });

  it("num() is JSON.stringify for numbers", () => {
    for (const n of [0, -0, 1, -7, 1.5, 1e21, 1e-7, 2 ** 53, Number.NaN, Infinity, -Infinity]) expect(num(n)).toBe(JSON.stringify(n));
  });

  it("flatObjectJson() is JSON.stringify for flat objects, and falls back for anything else", () => {
    const objects: object[] = [
      { path: "app/x.py", line: 3, endLine: undefined, column: 5 },
      { name: 'we"ird', installedVersion: "1.0", target: "t (debian 12)", fixedVersion: undefined },
      { 2: "two", 1: "one", b: "b", a: -0, n: 1.5e300 },
      { nested: { a: 1 } },
      { n: Number.NaN, s: "x" },
      { b: true, z: null },
      {},
      { only: undefined },
      Object.assign(Object.create({ inherited: "x" }), { own: "y" }),
    ];
    for (const o of objects) expect(flatObjectJson(o)).toBe(JSON.stringify(o));
  });
});
