#!/usr/bin/env node
// Entry shim: registers tsx (with the repo's tsconfig, so decorators compile from any working directory),
// then hands over to main.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)) });
await import("../main.ts");
