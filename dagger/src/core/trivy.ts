import { z } from "zod";
import { SEVERITIES, type Finding, type PackageLocation } from "./findings.js";
import { fingerprintOf } from "./fingerprint.js";
import { stringInterner } from "./intern.js";
import type { ToolRun } from "./toolrun.js";
import { isTrivyVulnerabilityShape } from "./guards.js";
import { eagerDocument, lazyDocument, type JsonDocument, type JsonInput } from "./lazyjson.js";
import { checkJsonText, parseJsonText, rawArray, validate } from "./validate.js";

// Trivy writes every field below with `omitempty`, so almost nothing is guaranteed present (v0.5x–v0.74).
const TrivyVulnerability = z.object({
  VulnerabilityID: z.string().min(1),
  PkgName: z.string().min(1),
  PkgID: z.string().optional(),
  PkgPath: z.string().optional(),
  InstalledVersion: z.string().optional(),
  FixedVersion: z.string().optional(),
  Status: z.string().optional(),
  Severity: z.enum(SEVERITIES).optional(),
  PrimaryURL: z.string().optional(),
  Title: z.string().optional(),
  Description: z.string().optional(),
  CweIDs: z.array(z.string()).optional(),
  References: z.array(z.string()).optional(),
  // Not read, so left out before parsing (lazyjson's ItemPick): CVSS, VendorSeverity, DataSource, Layer,
  // PkgIdentifier, Fingerprint, dates… over half of a report's bytes.
});

/** The keys parseTrivy reads from each vulnerability; Description only when there is no Title (titleOf). */
const VULNERABILITY_PICK = {
  keys: Object.keys(TrivyVulnerability.shape).filter((key) => key !== "Description"),
  unless: { Description: "Title" },
};

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
  // Validated one vulnerability at a time (TrivyVulnerability) in parseTrivy.
  Vulnerabilities: rawArray.optional(),
  Secrets: rawArray.optional(),
  Misconfigurations: rawArray.optional(),
});

/** Trivy's JSON report, SchemaVersion 2 (each vulnerability is `TrivyVulnerabilitySchema`). `Results` is absent when Trivy detected nothing. */
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
export const TrivyVulnerabilitySchema = TrivyVulnerability;

function titleOf(vuln: z.infer<typeof TrivyVulnerability>): string {
  if (vuln.Title) return vuln.Title;
  const firstLine = vuln.Description?.split("\n")[0]?.trim();
  return firstLine ? firstLine.slice(0, 160) : vuln.VulnerabilityID;
}

interface VulnerabilityDetails {
  title: string;
  cwe: string[];
  links: string[];
}

/** Trivy JSON -> findings. No `Results` is a clean scan; the note says so. */
export function parseTrivy(text: JsonInput, opts: { filePath: string }): ToolRun {
  const what = "Trivy JSON report";
  checkJsonText(text, { filePath: opts.filePath, what });
  const lazy = lazyDocument(text, [["Results", "*", "Vulnerabilities"]], VULNERABILITY_PICK);
  if (lazy) {
    try {
      return trivyRun(lazy, opts);
    } catch {
      // Something in the text is wrong: the whole-text parse below finds it and says it as it always has.
    }
  }
  return trivyRun(eagerDocument(parseJsonText(text, { filePath: opts.filePath, what })), opts);
}

function trivyRun(document: JsonDocument, opts: { filePath: string }): ToolRun {
  const what = "Trivy JSON report";
  const report = validate(TrivyReportSchema, document.root, { filePath: opts.filePath, what });
  const findings: Finding[] = [];
  const notes: string[] = [];
  const intern = stringInterner();
  // Title, CWE and links come from Trivy's DB per vulnerability id: shared by every package it hits.
  const details = new Map<string, VulnerabilityDetails>();
  const ignored = { secrets: 0, misconfigurations: 0 };
  (report.Results ?? []).forEach((result, resultIndex) => {
    // Source package names live in the package list (OS packages: zlib1g -> zlib).
    const sourceOf = new Map<string, string>();
    for (const pkg of result.Packages ?? []) {
      if (pkg.SrcName && pkg.Name && pkg.SrcName !== pkg.Name) {
        sourceOf.set(pkg.ID ?? `${pkg.Name}@${pkg.Version ?? ""}`, pkg.SrcName);
      }
    }
    ignored.secrets += result.Secrets?.length ?? 0;
    ignored.misconfigurations += result.Misconfigurations?.length ?? 0;
    const target = intern(result.Target);
    const targetType = result.Type ? intern(result.Type) : undefined;
    const vulnerabilities = document.items(result.Vulnerabilities ?? []);
    for (let i = 0; i < vulnerabilities.length; i++) {
      const raw = vulnerabilities.take(i);
      const vuln = isTrivyVulnerabilityShape(raw)
        ? (raw as z.infer<typeof TrivyVulnerability>)
        : validate(TrivyVulnerability, raw, { filePath: opts.filePath, what, at: ["Results", resultIndex, "Vulnerabilities", i] });
      const ruleId = intern(vuln.VulnerabilityID);
      let detail = details.get(ruleId);
      if (!detail) {
        detail = {
          title: titleOf(vuln),
          cwe: [...new Set(vuln.CweIDs ?? [])].sort(),
          links: [...new Set([vuln.PrimaryURL, ...(vuln.References ?? [])].filter((l): l is string => !!l))],
        };
        details.set(ruleId, detail);
      }
      const installedVersion = intern(vuln.InstalledVersion ?? "");
      const sourceName = sourceOf.get(vuln.PkgID ?? `${vuln.PkgName}@${installedVersion}`);
      const pkg: PackageLocation = {
        name: intern(vuln.PkgName),
        ...(sourceName ? { sourceName: intern(sourceName) } : {}),
        installedVersion,
        ...(vuln.PkgPath ? { path: vuln.PkgPath } : {}),
        ...(vuln.FixedVersion ? { fixedVersion: intern(vuln.FixedVersion) } : {}),
        ...(vuln.Status ? { status: intern(vuln.Status) } : {}),
        target,
        ...(targetType ? { targetType } : {}),
      };
      findings.push({
        tool: "trivy",
        stage: "image",
        ruleId,
        title: detail.title,
        message: `${ruleId} in ${pkg.name} ${installedVersion}${
          pkg.fixedVersion ? ` (fixed in ${pkg.fixedVersion})` : " (no fixed version)"
        }`,
        severity: vuln.Severity ?? "UNKNOWN",
        package: pkg,
        cwe: detail.cwe,
        links: detail.links,
        fingerprint: fingerprintOf("trivy", ruleId, { package: pkg }),
      });
    }
  });
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
