import { z } from "zod";
import { SEVERITIES, type Finding, type PackageLocation } from "./findings.js";
import { fingerprintOf } from "./fingerprint.js";
import type { ToolRun } from "./toolrun.js";
import { parseJsonText, validate } from "./validate.js";

// Trivy writes every field below with `omitempty`, so almost nothing is guaranteed present (v0.5x–v0.74).
const TrivyVulnerability = z.object({
  VulnerabilityID: z.string().min(1),
  PkgName: z.string().min(1),
  PkgID: z.string().optional(),
  PkgPath: z.string().optional(),
  PkgIdentifier: z.object({ PURL: z.string().optional(), UID: z.string().optional() }).optional(),
  InstalledVersion: z.string().optional(),
  FixedVersion: z.string().optional(),
  Status: z.string().optional(),
  Severity: z.enum(SEVERITIES).optional(),
  SeveritySource: z.string().optional(),
  PrimaryURL: z.string().optional(),
  Title: z.string().optional(),
  Description: z.string().optional(),
  CweIDs: z.array(z.string()).optional(),
  References: z.array(z.string()).optional(),
  DataSource: z.object({ ID: z.string().optional(), Name: z.string().optional(), URL: z.string().optional() }).optional(),
});

// Only the fields portcullis reads; Trivy's full package records stay unparsed.
const TrivyPackage = z.object({
  ID: z.string().optional(),
  Name: z.string().optional(),
  Version: z.string().optional(),
  SrcName: z.string().optional(),
});

const TrivyResult = z.object({
  Target: z.string(),
  Class: z.string().optional(),
  Type: z.string().optional(),
  Packages: z.array(TrivyPackage).optional(),
  Vulnerabilities: z.array(TrivyVulnerability).optional(),
  Secrets: z.array(z.unknown()).optional(),
  Misconfigurations: z.array(z.unknown()).optional(),
});

/** Trivy's JSON report, SchemaVersion 2. `Results` is absent when Trivy detected nothing. */
export const TrivyReportSchema = z.object({
  SchemaVersion: z.literal(2, { error: "expected 2 (a Trivy JSON report, SchemaVersion 2)" }),
  Trivy: z.object({ Version: z.string().optional() }).optional(),
  CreatedAt: z.string().optional(),
  ArtifactName: z.string().optional(),
  ArtifactType: z.string().optional(),
  Metadata: z.object({ OS: z.object({ Family: z.string().optional(), Name: z.string().optional() }).optional() }).optional(),
  Results: z.array(TrivyResult).optional(),
});
export type TrivyReport = z.infer<typeof TrivyReportSchema>;

function titleOf(vuln: z.infer<typeof TrivyVulnerability>): string {
  if (vuln.Title) return vuln.Title;
  const firstLine = vuln.Description?.split("\n")[0]?.trim();
  return firstLine ? firstLine.slice(0, 160) : vuln.VulnerabilityID;
}

/** Trivy JSON -> findings. No `Results` is a clean scan; the note says so. */
export function parseTrivy(text: string, opts: { filePath: string }): ToolRun {
  const report = validate(TrivyReportSchema, parseJsonText(text, { filePath: opts.filePath, what: "Trivy JSON report" }), {
    filePath: opts.filePath,
    what: "Trivy JSON report",
  });
  const findings: Finding[] = [];
  const notes: string[] = [];
  const ignored = { secrets: 0, misconfigurations: 0 };
  for (const result of report.Results ?? []) {
    // Source package names live in the package list (OS packages: zlib1g -> zlib).
    const sourceOf = new Map<string, string>();
    for (const pkg of result.Packages ?? []) {
      if (pkg.SrcName && pkg.Name && pkg.SrcName !== pkg.Name) {
        sourceOf.set(pkg.ID ?? `${pkg.Name}@${pkg.Version ?? ""}`, pkg.SrcName);
      }
    }
    ignored.secrets += result.Secrets?.length ?? 0;
    ignored.misconfigurations += result.Misconfigurations?.length ?? 0;
    for (const vuln of result.Vulnerabilities ?? []) {
      const installedVersion = vuln.InstalledVersion ?? "";
      const sourceName = sourceOf.get(vuln.PkgID ?? `${vuln.PkgName}@${installedVersion}`);
      const pkg: PackageLocation = {
        name: vuln.PkgName,
        ...(sourceName ? { sourceName } : {}),
        installedVersion,
        ...(vuln.PkgPath ? { path: vuln.PkgPath } : {}),
        ...(vuln.FixedVersion ? { fixedVersion: vuln.FixedVersion } : {}),
        ...(vuln.Status ? { status: vuln.Status } : {}),
        target: result.Target,
        ...(result.Type ? { targetType: result.Type } : {}),
      };
      const links = [vuln.PrimaryURL, ...(vuln.References ?? [])].filter((l): l is string => !!l);
      findings.push({
        tool: "trivy",
        stage: "image",
        ruleId: vuln.VulnerabilityID,
        title: titleOf(vuln),
        message: `${vuln.VulnerabilityID} in ${vuln.PkgName} ${installedVersion}${
          vuln.FixedVersion ? ` (fixed in ${vuln.FixedVersion})` : " (no fixed version)"
        }`,
        severity: vuln.Severity ?? "UNKNOWN",
        package: pkg,
        cwe: [...new Set(vuln.CweIDs ?? [])].sort(),
        links: [...new Set(links)],
        fingerprint: fingerprintOf("trivy", vuln.VulnerabilityID, { package: pkg }),
      });
    }
  }
  if (!report.Results || report.Results.length === 0) {
    notes.push("Trivy detected nothing (no Results)");
  } else if (findings.length === 0) {
    notes.push("Trivy found no vulnerabilities");
  }
  if (ignored.secrets + ignored.misconfigurations > 0) {
    notes.push(
      `Trivy also reported ${ignored.secrets} secret(s) and ${ignored.misconfigurations} misconfiguration(s); portcullis gates vulnerabilities only`,
    );
  }
  return {
    tool: "trivy",
    stage: "image",
    ...(report.Trivy?.Version ? { version: report.Trivy.Version } : {}),
    ...(report.ArtifactName ? { artifact: report.ArtifactName } : {}),
    findings,
    errors: [],
    notes,
  };
}
