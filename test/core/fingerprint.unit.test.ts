import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprintOf } from "../../dagger/src/core/fingerprint.js";

const sha = (parts: unknown[]) => createHash("sha256").update(parts.join("\u0000")).digest("hex");

describe("fingerprintOf", () => {
  it("is sha256 over tool, rule and place joined by NUL, as in every report written so far", () => {
    expect(fingerprintOf("bandit", "B104", { location: { path: "app/server.py", line: 12, column: 5 } })).toBe(
      sha(["bandit", "B104", "src", "app/server.py", 12, 5]),
    );
    expect(fingerprintOf("bandit", "B104", { location: { path: "app/server.py", line: 12 } })).toBe(
      sha(["bandit", "B104", "src", "app/server.py", 12, ""]),
    );
    const pkg = { name: "zlib1g", installedVersion: "1:1.2.13", target: "img (debian 12.5)" };
    expect(fingerprintOf("trivy", "CVE-2023-45853", { package: pkg })).toBe(sha(["trivy", "CVE-2023-45853", "pkg", pkg.target, "zlib1g", "1:1.2.13", ""]));
    expect(fingerprintOf("trivy", "CVE-1", { package: { ...pkg, path: "usr/lib/x" } })).toBe(
      sha(["trivy", "CVE-1", "pkg", pkg.target, "zlib1g", "1:1.2.13", "usr/lib/x"]),
    );
    expect(fingerprintOf("trivy", "CVE-1", {})).toBe(sha(["trivy", "CVE-1", "none"]));
  });

  it("tells different places apart", () => {
    const at = (line: number) => fingerprintOf("bandit", "B104", { location: { path: "a.py", line } });
    expect(at(1)).not.toBe(at(2));
  });
});
