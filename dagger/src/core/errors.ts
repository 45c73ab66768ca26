/** The portcullis error hierarchy: every error the core throws is one of these, with a one-line message. */

export type PortcullisErrorCode = "SCHEMA_VALIDATION" | "POLICY" | "TOOL" | "GATE_FAILED";

export abstract class PortcullisError extends Error {
  abstract readonly code: PortcullisErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input (a scanner report, DB metadata) that is not what it claims to be: names the file and the field. */
export class SchemaValidationError extends PortcullisError {
  readonly code = "SCHEMA_VALIDATION" as const;

  constructor(
    message: string,
    readonly filePath: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A policy file that cannot be used: names the file, the line where known, and the field. */
export class PolicyError extends PortcullisError {
  readonly code = "POLICY" as const;

  constructor(
    message: string,
    readonly filePath: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A scanner that crashed or produced no usable output. */
export class ToolError extends PortcullisError {
  readonly code = "TOOL" as const;

  constructor(
    message: string,
    readonly tool: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The gate did not pass; `outcome` tells a failing gate ("fail") from one that could not judge ("error"). */
export class GateFailedError extends PortcullisError {
  readonly code = "GATE_FAILED" as const;

  constructor(
    message: string,
    readonly outcome: "fail" | "error",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
