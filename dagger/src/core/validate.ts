import { z } from "zod";
import { SchemaValidationError } from "./errors.js";
import { bytesOf, skipSpace, textOf, type JsonInput } from "./lazyjson.js";

/** Reports larger than this are refused before parsing: no real Bandit or Trivy report comes near it. */
export const MAX_REPORT_BYTES = 100 * 1024 * 1024;

/** Flattens zod's multi-line pretty error into one line ("✖ msg → at a.b; ✖ …"). */
export function oneLine(error: z.ZodError): string {
  return z
    .prettifyError(error)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(" ")
    .replace(/ ✖ /g, "; ✖ ");
}

/** Validates data against a schema; the error names the file and the exact field that is wrong. */
export function validate<S extends z.ZodType>(
  schema: S,
  data: unknown,
  opts: { filePath: string; what?: string; /** Where `data` sits in the file, for items validated one by one. */ at?: PropertyKey[] },
): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    const error = opts.at
      ? new z.ZodError(result.error.issues.map((issue) => ({ ...issue, path: [...opts.at!, ...issue.path] })))
      : result.error;
    const what = opts.what ? `not a valid ${opts.what}: ` : "";
    throw new SchemaValidationError(`${opts.filePath}: ${what}${oneLine(error)}`, opts.filePath, { cause: error });
  }
  return result.data;
}

/** An array left unparsed by the envelope schema, so large reports are validated (and freed) item by item. */
export const rawArray = z.custom<unknown[]>((value) => Array.isArray(value), { error: "expected array" });

/** Parses JSON text (or its UTF-8 bytes) with a one-line error for empty, oversized or truncated input. */
export function parseJsonText(input: JsonInput, opts: { filePath: string; what: string }): unknown {
  checkJsonText(input, opts);
  try {
    return JSON.parse(textOf(input));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SchemaValidationError(
      `${opts.filePath}: not JSON (truncated or corrupt ${opts.what}?): ${reason}`,
      opts.filePath,
      { cause },
    );
  }
}

/** The checks made before parsing: a one-line error for empty or oversized input. */
export function checkJsonText(input: JsonInput, opts: { filePath: string; what: string }): void {
  const size = typeof input === "string" ? input.length : input.byteLength;
  if (size > MAX_REPORT_BYTES) {
    const mb = (size / 1024 / 1024).toFixed(1);
    throw new SchemaValidationError(
      `${opts.filePath}: ${opts.what} is ${mb} MB, over the ${MAX_REPORT_BYTES / 1024 / 1024} MB limit`,
      opts.filePath,
    );
  }
  const blank = typeof input === "string" ? input.trim().length === 0 : skipSpace(bytesOf(input), 0) === input.byteLength;
  if (blank) {
    throw new SchemaValidationError(`${opts.filePath}: empty file, expected a ${opts.what}`, opts.filePath);
  }
}

