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
 * With an `ItemPick`, only the keys a parser reads are copied out of each item before it is parsed:
 * Trivy's CVSS tables, data sources, layers and descriptions are over half of a report's bytes and most
 * of its objects. The values left out are still checked against JSON's grammar (`skipCheckedValue`),
 * so a report with garbage in a field nobody reads is still refused; only the inside of their strings
 * (a raw control character, a bad escape) goes unchecked, as it is never decoded.
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

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= DIGIT_0 && c <= DIGIT_9;
}

/** Index just past `word` (true, false, null) at `i`. */
function skipWord(bytes: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word.charCodeAt(k)) throw new NotScannable();
  return i + word.length;
}

/** Index just past the number at `i`, in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
function skipNumber(bytes: Buffer, i: number): number {
  let j = i;
  if (bytes[j] === MINUS) j++;
  if (bytes[j] === DIGIT_0) j++;
  else if (isDigit(bytes[j])) while (isDigit(bytes[j])) j++;
  else throw new NotScannable();
  if (bytes[j] === DOT) {
    j++;
    if (!isDigit(bytes[j])) throw new NotScannable();
    while (isDigit(bytes[j])) j++;
  }
  if (bytes[j] === 0x65 || bytes[j] === 0x45) {
    j++;
    if (bytes[j] === PLUS || bytes[j] === MINUS) j++;
    if (!isDigit(bytes[j])) throw new NotScannable();
    while (isDigit(bytes[j])) j++;
  }
  return j;
}

/** Index just past a key and its colon at `i` (a quote), the key checked. */
function skipCheckedKey(bytes: Buffer, i: number): number {
  if (bytes[i] !== QUOTE) throw new NotScannable();
  const j = skipSpace(bytes, skipString(bytes, i));
  if (bytes[j] !== COLON) throw new NotScannable();
  return j + 1;
}

/**
 * Index just past the value at `i`, checked against JSON's grammar: for the values a pick leaves out,
 * which JSON.parse never sees. Brackets, braces, colons, commas, numbers and true/false/null are
 * checked; the inside of a string is not (it is found by its closing quote, as everywhere in this file).
 * Iterative, so deep nesting cannot overflow the stack.
 */
export function skipCheckedValue(bytes: Buffer, i: number): number {
  let depth = 0; // open[0..depth) are the brackets and braces not yet closed
  let j = i;
  for (;;) {
    // A value starts at j.
    j = skipSpace(bytes, j);
    const c = bytes[j];
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
      j = skipSpace(bytes, j + 1);
      if (bytes[j] !== close) {
        if (depth === openStack.length) openStack = growStack(openStack);
        openStack[depth++] = close;
        if (c === OPEN_BRACE) j = skipCheckedKey(bytes, j);
        continue;
      }
      j++;
    } else if (c === QUOTE) {
      j = skipString(bytes, j);
    } else if (c === 0x74) {
      j = skipWord(bytes, j, "true");
    } else if (c === 0x66) {
      j = skipWord(bytes, j, "false");
    } else if (c === 0x6e) {
      j = skipWord(bytes, j, "null");
    } else {
      j = skipNumber(bytes, j);
    }
    // A value ended at j: close what it ends, or go on to the next one.
    for (;;) {
      if (depth === 0) return j;
      j = skipSpace(bytes, j);
      const close = openStack[depth - 1];
      const s = bytes[j];
      if (s === COMMA) {
        j = skipSpace(bytes, j + 1);
        if (close === CLOSE_BRACE) j = skipCheckedKey(bytes, j);
        break;
      }
      if (s !== close) throw new NotScannable();
      depth--;
      j++;
    }
  }
}

/** skipCheckedValue's stack of unclosed brackets, shared between calls (it is empty after each). */
let openStack: Uint8Array = new Uint8Array(64);

function growStack(stack: Uint8Array): Uint8Array {
  const grown = new Uint8Array(stack.length * 2);
  grown.set(stack);
  return grown;
}

/**
 * The keys a parser reads from each item of a lazy array; the rest are checked and left out before
 * the item is parsed. `unless` names keys read only when another key is absent or "" (Trivy's
 * Description is read only for a vulnerability without a Title).
 */
export interface ItemPick {
  keys: readonly string[];
  unless?: Readonly<Record<string, string>>;
}

const DROP = 0;
const KEEP = 1;
const KEEP_UNLESS = 2;

interface PickedKey {
  key: Buffer;
  kind: number;
  /** The bit this key sets in an item's `seen` when some `unless` names it. */
  mark: number;
  /** KEEP_UNLESS: the bit whose key, when seen in the same item, leaves this one out. */
  unless: number;
}

/** Per key length: the keys a pick knows of that length, as bytes. */
type CompiledPick = Array<PickedKey[] | undefined>;

function compilePick(pick: ItemPick): CompiledPick {
  const byLength: CompiledPick = [];
  const unless = pick.unless ?? {};
  const named = [...new Set(Object.values(unless))];
  const markOf = (name: string) => (named.includes(name) ? 1 << named.indexOf(name) : 0);
  const add = (name: string, kind: number, unlessBit = 0) => {
    const key = Buffer.from(name, "utf8");
    (byLength[key.length] ??= []).push({ key, kind, mark: markOf(name), unless: unlessBit });
  };
  for (const key of pick.keys) add(key, KEEP);
  for (const [key, other] of Object.entries(unless)) {
    if (pick.keys.includes(key)) throw new Error(`ItemPick: "${key}" is in both keys and unless`);
    add(key, KEEP_UNLESS, markOf(other));
  }
  // A key named by `unless` but not read itself is still recognised, to mark it seen.
  for (const key of named) if (!pick.keys.includes(key) && !(key in unless)) add(key, DROP);
  return byLength;
}

const KEPT_ESCAPED: PickedKey = { key: Buffer.alloc(0), kind: KEEP, mark: 0, unless: 0 };
const DROPPED: PickedKey = { key: Buffer.alloc(0), kind: DROP, mark: 0, unless: 0 };

/** What a pick does with the key whose raw bytes are `s..e` (between its quotes). */
function keyKind(pick: CompiledPick, bytes: Buffer, s: number, e: number): PickedKey {
  const candidates = pick[e - s];
  if (candidates) {
    for (const candidate of candidates) {
      const key = candidate.key;
      let k = 0;
      while (k < key.length && key[k] === bytes[s + k]) k++;
      if (k === key.length) return candidate;
    }
  }
  // A key written with escapes may spell a picked key: keep it, and let JSON.parse decode it.
  for (let k = s; k < e; k++) if (bytes[k] === BACKSLASH) return KEPT_ESCAPED;
  return DROPPED;
}

/**
 * Walks the object item at `i` (a brace), appending the byte ranges of its picked key/value pairs to
 * `runs` (adjacent picked pairs as one range) and checking every pair left out. Returns the index just past it.
 */
function pickItem(pick: CompiledPick, bytes: Buffer, i: number, runs: number[]): number {
  let j = skipSpace(bytes, i + 1);
  if (bytes[j] === CLOSE_BRACE) return j + 1;
  let extending = false; // the previous pair was kept: a kept pair now extends its range
  let seen = 0;
  // A KEEP_UNLESS pair met before the key that would leave it out (at most one is held; any other is kept).
  let heldStart = -1;
  let heldValue = -1;
  let heldEnd = -1;
  let heldUnless = 0;
  for (;;) {
    if (bytes[j] !== QUOTE) throw new NotScannable();
    const keyStart = j;
    const keyEnd = skipString(bytes, j);
    const picked = keyKind(pick, bytes, keyStart + 1, keyEnd - 1);
    j = skipSpace(bytes, keyEnd);
    if (bytes[j] !== COLON) throw new NotScannable();
    j = skipSpace(bytes, j + 1);
    // A key counts as present unless its value is the empty string (a Title of "" is no title).
    if (picked.mark !== 0 && !(bytes[j] === QUOTE && bytes[j + 1] === QUOTE)) seen |= picked.mark;
    let kind = picked.kind;
    if (kind === KEEP_UNLESS) {
      if ((seen & picked.unless) !== 0) {
        kind = DROP; // its `unless` key came first: left out now
      } else if (heldStart < 0) {
        heldStart = keyStart;
        heldValue = j;
        heldEnd = j = skipValue(bytes, j);
        heldUnless = picked.unless;
        extending = false;
      } else {
        kind = KEEP; // a second one to hold: keeping it is always safe
      }
    }
    if (kind === KEEP) {
      j = skipValue(bytes, j);
      if (extending) runs[runs.length - 1] = j;
      else runs.push(keyStart, j);
      extending = true;
    } else if (kind === DROP) {
      j = skipCheckedValue(bytes, j);
      extending = false;
    }
    j = skipSpace(bytes, j);
    const sep = bytes[j];
    if (sep === CLOSE_BRACE) break;
    if (sep !== COMMA) throw new NotScannable();
    j = skipSpace(bytes, j + 1);
  }
  if (heldStart >= 0) {
    if ((seen & heldUnless) === 0) runs.push(heldStart, heldEnd);
    // Left out after all: check it as every value left out is checked (a string already was, by skipValue).
    else if (bytes[heldValue] !== QUOTE && skipCheckedValue(bytes, heldValue) !== heldEnd) throw new NotScannable();
  }
  return j + 1;
}

interface Scan {
  bytes: Buffer;
  lazyPaths: readonly ArrayPath[];
  /** The text with each lazy array replaced by `[k]`, k its index in `arrays`. */
  pieces: string[];
  copiedUpTo: number;
  /** Per lazy array: where its items are. */
  arrays: LazyArray[];
  pick?: CompiledPick;
}

interface LazyArray {
  /** Start and end offsets of each item, flattened. */
  ranges: number[];
  /** With a pick: the picked ranges of every object item, flattened ... */
  runs?: number[];
  /** ... and, per item, where its ranges start in `runs` (one more entry than items). */
  itemRuns?: number[];
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
    const { pick } = scan;
    const runs: number[] = [];
    const itemRuns: number[] = [];
    let j = skipSpace(bytes, i + 1);
    if (bytes[j] !== CLOSE_BRACKET) {
      for (;;) {
        const start = j;
        if (pick) itemRuns.push(runs.length);
        j = pick && bytes[j] === OPEN_BRACE ? pickItem(pick, bytes, j, runs) : skipValue(bytes, j);
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
    if (pick) itemRuns.push(runs.length);
    scan.arrays.push(pick ? { ranges, runs, itemRuns } : { ranges });
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

/** Reused between batches: the picked bytes of one batch are copied here before they are decoded. */
let scratch = Buffer.alloc(0);

/** Items `first..last` of a lazy array as the text of one JSON array (with a pick, only the picked pairs of each object). */
function batchText(bytes: Buffer, lazy: LazyArray, first: number, last: number): string {
  const { ranges, runs, itemRuns } = lazy;
  // Without a pick, the bytes from the first item's start to the last one's end are the items and the commas between them.
  if (!runs || !itemRuns) return `[${bytes.toString("utf8", ranges[2 * first], ranges[2 * last + 1])}]`;
  let size = 2;
  for (let k = first; k <= last; k++) {
    if (bytes[ranges[2 * k]!] !== OPEN_BRACE) size += ranges[2 * k + 1]! - ranges[2 * k]! + 1;
    else for (let r = itemRuns[k]!; r < itemRuns[k + 1]!; r += 2) size += runs[r + 1]! - runs[r]! + 1;
    size += 3;
  }
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  const out = scratch;
  let n = 0;
  out[n++] = OPEN_BRACKET;
  for (let k = first; k <= last; k++) {
    if (k > first) out[n++] = COMMA;
    const start = ranges[2 * k]!;
    if (bytes[start] !== OPEN_BRACE) {
      n += bytes.copy(out, n, start, ranges[2 * k + 1]!);
      continue;
    }
    out[n++] = OPEN_BRACE;
    for (let r = itemRuns[k]!; r < itemRuns[k + 1]!; r += 2) {
      if (r > itemRuns[k]!) out[n++] = COMMA;
      n += bytes.copy(out, n, runs[r]!, runs[r + 1]!);
    }
    out[n++] = CLOSE_BRACE;
  }
  out[n++] = CLOSE_BRACKET;
  return out.toString("utf8", 0, n);
}

/**
 * The document with the arrays at `lazyPaths` left as bytes, or undefined when the input cannot be cut
 * up (not JSON, truncated, …): the caller then parses it whole, which reports the real problem.
 */
export function lazyDocument(input: JsonInput, lazyPaths: readonly ArrayPath[], pick?: ItemPick): JsonDocument | undefined {
  const bytes = bytesOf(input);
  const scan: Scan = { bytes, lazyPaths, pieces: [], copiedUpTo: 0, arrays: [], ...(pick ? { pick: compilePick(pick) } : {}) };
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
  const placeholders = new Map<unknown[], LazyArray>();
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
      const lazy = placeholders.get(array);
      if (!lazy) return eagerDocument(root).items(array);
      const length = lazy.ranges.length / 2;
      // The batch holding the item last asked for: items i..i+n-1 of the array, as one JSON array.
      let batchStart = -1;
      let batch: unknown[] = [];
      return {
        length,
        take(index) {
          if (index < batchStart || index >= batchStart + batch.length) {
            const last = Math.min(length, index + ITEMS_PER_BATCH) - 1;
            try {
              batch = JSON.parse(batchText(bytes, lazy, index, last)) as unknown[];
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
