/**
 * JSON text for the large-report writers, byte-identical to JSON.stringify. JSON.stringify of one
 * short string costs about 1 µs in Node 20; most strings in a report are plain ASCII that needs no
 * escaping, and quoting those by hand is several times cheaper (test/core/jsontext.unit.test.ts).
 */

// Printable ASCII except `"` and `\`: JSON.stringify leaves these characters as they are.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Exactly JSON.stringify(text). */
export function quote(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** Exactly JSON.stringify(value) for an object; written by hand when it holds only strings, finite numbers and undefined. */
export function flatObjectJson(value: object): string {
  let out = "";
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return JSON.stringify(value);
    const v = (value as Record<string, unknown>)[key];
    let text: string;
    if (typeof v === "string") text = quote(v);
    else if (typeof v === "number" && Number.isFinite(v)) text = JSON.stringify(v);
    else if (v === undefined) continue;
    else return JSON.stringify(value);
    out += `${out === "" ? "{" : ","}${quote(key)}:${text}`;
  }
  return out === "" ? JSON.stringify(value) : `${out}}`;
}

/** Exactly JSON.stringify(n) for a number. */
export function num(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}
