#!/usr/bin/env node
// Entry shim: runs the CLI from a bundle of the TypeScript sources (ci/bin/bundle.mjs builds it on
// the first run after a source changes, in about 100 ms, and reuses it after that).
import { fileURLToPath } from "node:url";

process.setSourceMapsEnabled(true);
let entry;
try {
  const { bundledEntry } = await import("./bundle.mjs");
  entry = await bundledEntry("ci/main.ts");
} catch (error) {
  // A read-only checkout (no node_modules/.cache to write) or no esbuild: run the sources through tsx.
  process.stderr.write(`portcullis: cannot build the CLI bundle (${error?.message ?? error}); running the sources through tsx\n`);
}
if (entry) {
  await import(entry);
} else {
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)) });
  await import("../main.ts");
}
