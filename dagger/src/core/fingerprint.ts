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
  const place = where.location
    ? ["src", where.location.path, where.location.line, where.location.column ?? ""]
    : where.package
      ? ["pkg", where.package.target, where.package.name, where.package.installedVersion, where.package.path ?? ""]
      : ["none"];
  // One-shot hash: several times cheaper than createHash() per finding on large reports.
  return hash("sha256", [tool, ruleId, ...place].join("\u0000"), "hex");
}
