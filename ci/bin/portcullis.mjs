#!/usr/bin/env node
// Entry shim: runs the CLI from a bundle of the TypeScript sources (ci/bin/bundle.mjs builds it on
// the first run after a source changes, in about 100 ms, and reuses it after that).
import { bundledEntry } from "./bundle.mjs";

process.setSourceMapsEnabled(true);
await import(await bundledEntry("ci/main.ts"));
