import type { Verdict } from "../gate.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { renderSarif, type SarifOptions } from "./sarif.js";

export const REPORT_FILES = ["portcullis.sarif", "summary.md", "verdict.json", "junit.xml"] as const;
export type ReportFile = (typeof REPORT_FILES)[number];

export type RenderOptions = SarifOptions;

/** One report; callers writing large reports render and write them one at a time to bound memory. */
export function renderReport(name: ReportFile, verdict: Verdict, opts: RenderOptions = {}): string {
  switch (name) {
    case "portcullis.sarif":
      return renderSarif(verdict, opts);
    case "summary.md":
      return renderMarkdown(verdict);
    case "verdict.json":
      return renderJson(verdict);
    case "junit.xml":
      return renderJunit(verdict);
  }
}

/** Every report from one verdict; the same verdict always renders to the same bytes. */
export function renderReports(verdict: Verdict, opts: RenderOptions = {}): Record<ReportFile, string> {
  return Object.fromEntries(REPORT_FILES.map((name) => [name, renderReport(name, verdict, opts)])) as Record<ReportFile, string>;
}

export { renderJson, renderJunit, renderMarkdown, renderSarif };
export type { SarifOptions };
