import type { Verdict } from "../gate.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { renderSarif, type SarifOptions } from "./sarif.js";

export const REPORT_FILES = ["portcullis.sarif", "summary.md", "verdict.json", "junit.xml"] as const;
export type ReportFile = (typeof REPORT_FILES)[number];

export type RenderOptions = SarifOptions;

/** Every report from one verdict; the same verdict always renders to the same bytes. */
export function renderReports(verdict: Verdict, opts: RenderOptions = {}): Record<ReportFile, string> {
  return {
    "portcullis.sarif": renderSarif(verdict, opts),
    "summary.md": renderMarkdown(verdict),
    "verdict.json": renderJson(verdict),
    "junit.xml": renderJunit(verdict),
  };
}

export { renderJson, renderJunit, renderMarkdown, renderSarif };
export type { SarifOptions };
