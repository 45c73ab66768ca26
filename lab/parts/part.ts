import { createHash } from "node:crypto";
import { join } from "node:path";
import type { LabLayout } from "../paths.js";

/** What `lab up` did for a part. */
export type PartAction = "reused" | "installed" | "started" | "built" | "rebuilt" | "unavailable";

export interface PartOutcome {
  action: PartAction;
  /** One line: versions, ids, addresses. Never a secret. */
  detail: string;
}

export interface PartState {
  state: "up" | "down" | "unavailable";
  detail: string;
}

export interface LabOptions {
  /** An extra CA bundle (PEM) trusted in the images besides the host's. */
  caBundle?: string;
}

export interface LabContext {
  layout: LabLayout;
  options: LabOptions;
  /** The log file of a part: `<labDir>/logs/<part>.log`. */
  logOf(part: string): string;
  /** Progress inside a long part (one line to stderr). */
  progress(part: string, message: string): void;
}

export interface LabPart {
  name: string;
  up(ctx: LabContext): Promise<PartOutcome>;
  status(ctx: LabContext): Promise<PartState>;
  /** Stops what this part started (and with purge, removes what it built). */
  down?(ctx: LabContext, purge: boolean): Promise<string>;
}

export function makeContext(layout: LabLayout, options: LabOptions, progress?: (part: string, message: string) => void): LabContext {
  return {
    layout,
    options,
    logOf: (part) => join(layout.logsDir, `${part}.log`),
    progress: progress ?? (() => undefined),
  };
}

/** sha256 over the given pieces, shortened: the cache key recorded on what a part built. */
export function recipeHash(...pieces: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of pieces) {
    h.update(p);
    h.update("\0");
  }
  return h.digest("hex").slice(0, 32);
}

/** Image label that holds the recipe hash of a lab-built image. */
export const RECIPE_LABEL = "dev.portcullis.lab.recipe";
