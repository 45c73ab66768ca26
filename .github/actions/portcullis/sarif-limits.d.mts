// Types for sarif-limits.mjs, which runs on the GitHub runner as plain JavaScript.
import type { Log } from "sarif";

export declare const MAX_RUNS_PER_UPLOAD: number;
export declare const MAX_RESULTS_PER_UPLOAD: number;
export declare function toolKey(run: unknown): string;
export declare function normalisePrefix(source: string | undefined): string;
export declare function fitSarifToLimits(
  log: Log,
  options?: { sourcePrefix?: string; maxRuns?: number; maxResults?: number },
): { files: Record<string, Log>; warnings: string[] };
