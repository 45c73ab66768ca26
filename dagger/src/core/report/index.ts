import type { Verdict } from "../gate.js";
import { jsonChunks, renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { renderSarif, sarifChunks, type SarifOptions } from "./sarif.js";

export const REPORT_FILES = ["portcullis.sarif", "summary.md", "verdict.json", "junit.xml"] as const;
export type ReportFile = (typeof REPORT_FILES)[number];

export type RenderOptions = SarifOptions;

/**
 * One report as text chunks, to write piece by piece: large SARIF and JSON reports then never exist
 * as one string. Joined, the chunks are exactly `renderReport`.
 */
export function reportChunks(name: ReportFile, verdict: Verdict, opts: RenderOptions = {}): Iterable<string> {
  switch (name) {
    case "portcullis.sarif":
      return sarifChunks(verdict, opts);
    case "summary.md":
      return [renderMarkdown(verdict)];
    case "verdict.json":
      return jsonChunks(verdict);
    case "junit.xml":
      return [renderJunit(verdict)];
  }
}

/** One report as a string. */
export function renderReport(name: ReportFile, verdict: Verdict, opts: RenderOptions = {}): string {
  return [...reportChunks(name, verdict, opts)].join("");
}

/** Every report from one verdict; the same verdict always renders to the same bytes. */
export function renderReports(verdict: Verdict, opts: RenderOptions = {}): Record<ReportFile, string> {
  return Object.fromEntries(REPORT_FILES.map((name) => [name, renderReport(name, verdict, opts)])) as Record<ReportFile, string>;
}

export { renderJson, renderJunit, renderMarkdown, renderSarif };
export type { SarifOptions };
