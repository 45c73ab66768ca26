import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { evaluate, parseBandit, parsePolicy, parseTrivy, type Verdict } from "../../dagger/src/core/index.js";

/** Absolute path of a committed fixture (test/fixtures/...). */
export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));
}

/** Text of a committed fixture: real tool output, see the regen.sh next to it. */
export function fixture(relative: string): string {
  return readFileSync(fixturePath(relative), "utf8");
}

/**
 * A verdict over every real fixture kind at once: Bandit 1.9 and 1.7 reports, Trivy's Python and
 * Debian images, and waivers that waive (one with a quote and a pipe in its reason), have expired, or
 * match an image finding.
 */
export function mixedVerdict(now: Date): Verdict {
  const policy = parsePolicy(
    `version: 1
waivers:
  - { id: B104, path: "app/*.py", reason: "bound to \\"all\\" | on purpose", owner: a@b.c, expires: 2026-12-31 }
  - { id: B608, reason: old, owner: a@b.c, expires: 2026-01-01 }
  - { id: CVE-2020-14343, reason: "not reachable", owner: a@b.c, expires: 2026-12-31 }
`,
    { filePath: "p.yaml", now },
  );
  const runs = [
    parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "b.json" }),
    parseBandit(fixture("bandit/bandit-1.7.4-b104.json"), { filePath: "b2.json" }),
    parseTrivy(fixture("trivy/trivy-python-vuln.json"), { filePath: "t.json" }),
    parseTrivy(fixture("trivy/trivy-debian.json"), { filePath: "t2.json" }),
  ];
  return evaluate({ runs, policy, now });
}
