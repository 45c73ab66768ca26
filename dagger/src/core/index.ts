/** The pure security core: parsers, policy, gate and reports. No fs, no process, no engine. */
export * from "./findings.js";
export * from "./errors.js";
export { validate, parseJsonText, MAX_REPORT_BYTES } from "./validate.js";
export { type JsonInput } from "./lazyjson.js";
export { fingerprintOf } from "./fingerprint.js";
export { type ToolRun, toolFailure, STAGE_OF_TOOL } from "./toolrun.js";
export { parseBandit, normaliseSourcePath, BanditReportSchema, BanditResultSchema } from "./bandit.js";
export { parseTrivy, TrivyReportSchema, TrivyVulnerabilitySchema } from "./trivy.js";
export { parseDbMetadata, type DbMetadata } from "./dbmeta.js";
export {
  parsePolicy,
  PolicySchema,
  waiverExpired,
  daysUntilExpiry,
  waiverTermProblems,
  type Policy,
  type Waiver,
} from "./policy.js";
export { DEFAULT_POLICY_YAML } from "./default-policy.js";
export {
  evaluate,
  isBlocking,
  compareFindings,
  summarizeVerdict,
  type Verdict,
  type GateInput,
  type Disposition,
  type JudgedFinding,
  type WaivedFinding,
  type WaiverRef,
  type ExpiredWaiver,
  type ToolSummary,
  type DbStatus,
  type SeverityCounts,
} from "./gate.js";
export { reportChunks, renderReport, renderReports, REPORT_FILES, type ReportFile, type RenderOptions } from "./report/index.js";
export { renderSarif, SECURITY_SEVERITY, levelOf, cweTag } from "./report/sarif.js";
export { renderMarkdown } from "./report/markdown.js";
export { renderJson } from "./report/json.js";
export { renderJunit } from "./report/junit.js";
