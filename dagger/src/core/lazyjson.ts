/**
 * Item-by-item JSON for large scanner reports. `JSON.parse` of a 60 MB report builds the whole tree at
 * once (several times the text in memory, and most of the GC time); here the big arrays (Bandit
 * `results`, Trivy `Vulnerabilities`) are cut out of the report's bytes, the rest is parsed as usual,
 * and the items are parsed a batch at a time when they are read, so only one batch's tree exists at once.
 *
 * The scanner works on the UTF-8 bytes, not on a decoded string: a 60 MB report read as a string costs
 * the bytes and the string at once. Every byte of a multi-byte UTF-8 character is >= 0x80, so the
 * ASCII structure (quotes, brackets, commas) is found in the bytes exactly as in the text, and each
 * piece is decoded on its own.
 *
 * This is a fast path only: whenever the cut-up text does not parse, callers redo the work with plain
 * `JSON.parse`, which gives the exact error a whole-text parse gives.
 */
import { Buffer } from "node:buffer";

/** Scanner output as it is read: a decoded string, or its UTF-8 bytes (a file as read from disk). */
export type JsonInput = string | Uint8Array;

/** A Buffer over the input's bytes (no copy for bytes; strings are encoded once). */
export function bytesOf(input: JsonInput): Buffer {
  return typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/** The input as a string (bytes decoded as UTF-8, as `readFile(path, "utf8")` does). */
export function textOf(input: JsonInput): string {
  return typeof input === "string" ? input : bytesOf(input).toString("utf8");
}

/** A path to an array in the document: object keys, and "*" for any array index. */
export type ArrayPath = readonly string[];

/** The items of one large array, read one at a time (each read may be made only once). */
export interface ItemSource {
  readonly length: number;
  take(index: number): unknown;
}

/** A parsed document whose arrays at the lazy paths are read through `items`. */
export interface JsonDocument {
  readonly root: unknown;
  /** The items of an array found in `root` (at a lazy path or not). */
  items(array: unknown[]): ItemSource;
}

/** A whole-text parse: items are handed out and dropped, so a large report can be freed as it is read. */
export function eagerDocument(root: unknown): JsonDocument {
  return {
    root,
    items: (array) => ({
      length: array.length,
      take(index) {
        const value = array[index];
        array[index] = undefined;
        return value;
      },
    }),
  };
}

/** Thrown while reading a lazy document whose pieces are not JSON: the caller redoes the parse eagerly. */
export class LazyJsonUnusable extends Error {}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

// Thrown inside the scanner when the text is not shaped as expected; never escapes lazyDocument.
class NotScannable extends Error {}

/** Index of the first byte at or after `i` that is not JSON whitespace (bytes.length when none is left). */
export function skipSpace(bytes: Buffer, i: number): number {
  for (;;) {
    const c = bytes[i];
    if (c === SPACE || c === LF || c === CR || c === TAB) i++;
    else return i;
  }
}

/** Index just past the string starting at `i` (a quote). */
function skipString(bytes: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = bytes.indexOf(QUOTE, j);
    if (q < 0) throw new NotScannable();
    let backslashes = 0;
    for (let k = q - 1; bytes[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just past the value starting at `i`; only brackets and strings are followed (JSON.parse checks the rest). */
function skipValue(bytes: Buffer, i: number): number {
  const end = bytes.length;
  let depth = 0;
  while (i < end) {
    const c = bytes[i];
    if (c === QUOTE) {
      i = skipString(bytes, i);
      if (depth === 0) return i;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return i; // a scalar ended by its container
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (c === COMMA || c === SPACE || c === LF || c === CR || c === TAB)) {
      return i; // end of a scalar
    }
    i++;
  }
  if (depth !== 0) throw new NotScannable();
  return i;
}

interface Scan {
  bytes: Buffer;
  lazyPaths: readonly ArrayPath[];
  /** The text with each lazy array replaced by `[k]`, k its index in `arrays`. */
  pieces: string[];
  copiedUpTo: number;
  /** Per lazy array: start and end offsets of each item, flattened. */
  arrays: number[][];
}

function matches(path: readonly string[], pattern: ArrayPath): boolean {
  if (path.length !== pattern.length) return false;
  for (let i = 0; i < path.length; i++) if (pattern[i] !== "*" && pattern[i] !== path[i]) return false;
  return true;
}

function isPrefix(path: readonly string[], pattern: ArrayPath): boolean {
  if (path.length >= pattern.length) return false;
  for (let i = 0; i < path.length; i++) if (pattern[i] !== "*" && pattern[i] !== path[i]) return false;
  return true;
}

/** Walks the value at `i` whose path is `path`; returns the index just past it. */
function walk(scan: Scan, i: number, path: string[]): number {
  const { bytes } = scan;
  const c = bytes[i];
  const lazy = c === OPEN_BRACKET && scan.lazyPaths.some((p) => matches(path, p));
  const descend = !lazy && scan.lazyPaths.some((p) => isPrefix(path, p));
  if (lazy) {
    const ranges: number[] = [];
    let j = skipSpace(bytes, i + 1);
    if (bytes[j] !== CLOSE_BRACKET) {
      for (;;) {
        const start = j;
        j = skipValue(bytes, j);
        if (j === start) throw new NotScannable();
        ranges.push(start, j);
        j = skipSpace(bytes, j);
        const sep = bytes[j];
        if (sep === CLOSE_BRACKET) break;
        if (sep !== COMMA) throw new NotScannable();
        j = skipSpace(bytes, j + 1);
      }
    }
    scan.pieces.push(bytes.toString("utf8", scan.copiedUpTo, i), `[${scan.arrays.length}]`);
    scan.arrays.push(ranges);
    scan.copiedUpTo = j + 1;
    return j + 1;
  }
  if (!descend) return skipValue(bytes, i);
  if (c === OPEN_BRACE) {
    let j = skipSpace(bytes, i + 1);
    if (bytes[j] === CLOSE_BRACE) return j + 1;
    for (;;) {
      if (bytes[j] !== QUOTE) throw new NotScannable();
      const keyEnd = skipString(bytes, j);
      const rawKey = bytes.toString("utf8", j + 1, keyEnd - 1);
      const key = rawKey.includes("\\") ? (JSON.parse(bytes.toString("utf8", j, keyEnd)) as string) : rawKey;
      j = skipSpace(bytes, keyEnd);
      if (bytes[j] !== COLON) throw new NotScannable();
      j = walk(scan, skipSpace(bytes, j + 1), [...path, key]);
      j = skipSpace(bytes, j);
      const sep = bytes[j];
      if (sep === CLOSE_BRACE) return j + 1;
      if (sep !== COMMA) throw new NotScannable();
      j = skipSpace(bytes, j + 1);
    }
  }
  if (c === OPEN_BRACKET) {
    let j = skipSpace(bytes, i + 1);
    if (bytes[j] === CLOSE_BRACKET) return j + 1;
    for (;;) {
      j = walk(scan, j, [...path, "*"]);
      j = skipSpace(bytes, j);
      const sep = bytes[j];
      if (sep === CLOSE_BRACKET) return j + 1;
      if (sep !== COMMA) throw new NotScannable();
      j = skipSpace(bytes, j + 1);
    }
  }
  return skipValue(bytes, i);
}

/** Items parsed per `JSON.parse` call: fewer calls than one per item, and a batch's tree stays small. */
const ITEMS_PER_BATCH = 256;

/**
 * The document with the arrays at `lazyPaths` left as bytes, or undefined when the input cannot be cut
 * up (not JSON, truncated, …): the caller then parses it whole, which reports the real problem.
 */
export function lazyDocument(input: JsonInput, lazyPaths: readonly ArrayPath[]): JsonDocument | undefined {
  const bytes = bytesOf(input);
  const scan: Scan = { bytes, lazyPaths, pieces: [], copiedUpTo: 0, arrays: [] };
  let root: unknown;
  try {
    const end = skipSpace(bytes, walk(scan, skipSpace(bytes, 0), []));
    if (end !== bytes.length) return undefined;
    scan.pieces.push(bytes.toString("utf8", scan.copiedUpTo));
    root = JSON.parse(scan.pieces.join(""));
  } catch {
    return undefined; // NotScannable, a deeply nested text (RangeError), or an envelope that is not JSON
  }
  const { arrays } = scan;
  // Each placeholder `[k]` parses to its own array object; the map finds its items again.
  const placeholders = new Map<unknown[], number[]>();
  const visit = (value: unknown, path: string[]) => {
    if (Array.isArray(value)) {
      if (lazyPaths.some((p) => matches(path, p)) && value.length === 1 && typeof value[0] === "number" && arrays[value[0]]) {
        placeholders.set(value, arrays[value[0]]!);
        return;
      }
      if (lazyPaths.some((p) => isPrefix(path, p))) value.forEach((v) => visit(v, [...path, "*"]));
    } else if (value !== null && typeof value === "object" && lazyPaths.some((p) => isPrefix(path, p))) {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    }
  };
  visit(root, []);
  return {
    root,
    items(array) {
      const ranges = placeholders.get(array);
      if (!ranges) return eagerDocument(root).items(array);
      const length = ranges.length / 2;
      // The batch holding the item last asked for: items i..i+n-1 of the array, as one JSON array.
      let batchStart = -1;
      let batch: unknown[] = [];
      return {
        length,
        take(index) {
          if (index < batchStart || index >= batchStart + batch.length) {
            const last = Math.min(length, index + ITEMS_PER_BATCH) - 1;
            // The bytes from the first item's start to the last one's end are items and the commas between them.
            try {
              batch = JSON.parse(`[${bytes.toString("utf8", ranges[2 * index], ranges[2 * last + 1])}]`) as unknown[];
            } catch {
              throw new LazyJsonUnusable();
            }
            if (batch.length !== last - index + 1) throw new LazyJsonUnusable();
            batchStart = index;
          }
          const value = batch[index - batchStart];
          batch[index - batchStart] = undefined;
          return value;
        },
      };
    },
  };
}
