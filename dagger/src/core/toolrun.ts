import type { Finding, Stage, ToolName } from "./findings.js";

/** What one scanner run contributed to the gate: its findings, and why it may not be trusted. */
export interface ToolRun {
  tool: ToolName;
  stage: Stage;
  /** The scanner's version when its output tells it. */
  version?: string;
  /** What was scanned, when the report says (Trivy's ArtifactName). */
  artifact?: string;
  findings: Finding[];
  /** Non-empty makes the verdict "error": files Bandit could not scan, a crash, output that did not parse. */
  errors: string[];
  /** Facts worth reporting that change nothing, e.g. "Trivy detected nothing (no Results)". */
  notes: string[];
}

export const STAGE_OF_TOOL: Record<ToolName, Stage> = { bandit: "sast", trivy: "image" };

/** A run that produced nothing usable (a crash, exit code 2, garbage output): it can never pass. */
export function toolFailure(tool: ToolName, message: string): ToolRun {
  return { tool, stage: STAGE_OF_TOOL[tool], findings: [], errors: [message], notes: [] };
}
