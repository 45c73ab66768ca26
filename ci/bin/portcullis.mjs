#!/usr/bin/env node
// Entry shim: registers tsx so the CLI runs from its TypeScript source, then hands over to main.
import { register } from "tsx/esm/api";

register();
await import("../main.ts");
