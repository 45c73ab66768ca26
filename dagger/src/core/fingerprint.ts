import { hash } from "node:crypto";
import type { PackageLocation, SourceLocation, ToolName } from "./findings.js";

/**
 * A finding's identity across runs: the tool, the rule and where it is (file:line:column, or the
 * package in its target). Hex sha256, so it is safe in SARIF partialFingerprints and file names.
 */
export function fingerprintOf(
  tool: ToolName,
  ruleId: string,
  where: { location?: SourceLocation; package?: PackageLocation },
): string {
  // The same text as [tool, ruleId, ...place].join("\u0000"), built without the arrays.
  const l = where.location;
  const p = where.package;
  const place = l
    ? `src\u0000${l.path ?? ""}\u0000${l.line ?? ""}\u0000${l.column ?? ""}`
    : p
      ? `pkg\u0000${p.target ?? ""}\u0000${p.name ?? ""}\u0000${p.installedVersion ?? ""}\u0000${p.path ?? ""}`
      : "none";
  // One-shot hash: several times cheaper than createHash() per finding on large reports.
  return hash("sha256", `${tool}\u0000${ruleId}\u0000${place}`, "hex");
}
