import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of a committed fixture (test/fixtures/...). */
export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));
}

/** Text of a committed fixture: real tool output, see the regen.sh next to it. */
export function fixture(relative: string): string {
  return readFileSync(fixturePath(relative), "utf8");
}
