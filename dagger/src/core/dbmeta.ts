import { z } from "zod";
import { parseJsonText, validate } from "./validate.js";

/** Trivy's `db/metadata.json`, the only record of how old the vulnerability database is. */
export interface DbMetadata {
  version: number;
  updatedAt: string;
  nextUpdate: string;
  downloadedAt?: string;
}

const Timestamp = z.iso.datetime({ offset: true, local: false });

const DbMetadataSchema = z.object({
  Version: z.number().int(),
  NextUpdate: Timestamp,
  UpdatedAt: Timestamp,
  DownloadedAt: Timestamp.optional(),
});

/** Parses Trivy's DB metadata; Trivy writes Go's RFC 3339 times with nanoseconds, which zod accepts. */
export function parseDbMetadata(text: string, opts: { filePath: string }): DbMetadata {
  const raw = validate(DbMetadataSchema, parseJsonText(text, { filePath: opts.filePath, what: "Trivy DB metadata.json" }), {
    filePath: opts.filePath,
    what: "Trivy DB metadata.json",
  });
  return {
    version: raw.Version,
    updatedAt: raw.UpdatedAt,
    nextUpdate: raw.NextUpdate,
    ...(raw.DownloadedAt ? { downloadedAt: raw.DownloadedAt } : {}),
  };
}
