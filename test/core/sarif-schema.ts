import AjvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import type { Log } from "sarif";
import { expect } from "vitest";
import { fixture } from "./fixtures.js";

// The SARIF 2.1.0 schema as Microsoft ships it (test/fixtures/sarif/regen.sh); it is JSON Schema draft-04.
// unicodeRegExp off: the schema's `language` pattern has a stray "]" that only non-unicode regexps accept.
// Both are CommonJS: under NodeNext the default import is module.exports, whose `.default` is the export.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
ajvFormats.default(ajv);
export const validateSarif = ajv.compile(JSON.parse(fixture("sarif/sarif-2.1.0-rtm.5.json")));

/** Parses a SARIF log and asserts it is valid SARIF 2.1.0, showing ajv's errors when not. */
export function expectValidSarif(text: string): Log {
  const log = JSON.parse(text) as Log;
  const ok = validateSarif(log);
  expect(ok ? [] : validateSarif.errors).toEqual([]);
  return log;
}
