import { describe, expect, it } from "vitest";
import {
  evaluate,
  parseBandit,
  parseDbMetadata,
  parsePolicy,
  parseTrivy,
  renderMarkdown,
  renderReports,
  renderSarif,
} from "../../dagger/src/core/index.js";
import { fixture } from "./fixtures.js";
import { expectValidSarif } from "./sarif-schema.js";

const NOW = new Date("2026-11-28T18:00:00Z");
const image = () => parseTrivy(fixture("trivy/trivy-python-vuln.json"), { filePath: "trivy.json" });
const policy = (extra = "") => parsePolicy(`version: 1\n${extra}`, { filePath: "p.yaml" });
const waiver = (fields: string) => `waivers:\n  - reason: not reachable\n    owner: sec\n    expires: 2027-01-31\n${fields.replace(/^/gm, "    ")}\n`;
const ids = (findings: Array<{ ruleId: string; package?: { name: string } }>) => findings.map((f) => `${f.ruleId} ${f.package?.name}`);

describe("evaluate: image thresholds on real Trivy output", () => {
  it("default: CRITICAL blocks with or without a fix; HIGH warns; MEDIUM is info", () => {
    const verdict = evaluate({ runs: [image()], policy: policy(), now: NOW });
    expect(verdict.outcome).toBe("fail");
    expect(ids(verdict.blocking)).toEqual(["CVE-2020-14343 PyYAML", "CVE-2023-45853 zlib1g"]);
    expect(verdict.warnings).toHaveLength(7);
    expect(verdict.counts).toMatchObject({ total: 10, blocking: 2, warnings: 7, info: 1 });
    expect(verdict.counts.byStage.image).toEqual({ UNKNOWN: 0, LOW: 0, MEDIUM: 1, HIGH: 7, CRITICAL: 2 });
  });

  it("ignoreUnfixed: an unfixed CRITICAL no longer blocks, a fixed one still does", () => {
    const verdict = evaluate({ runs: [image()], policy: policy("image: { ignoreUnfixed: true }"), now: NOW });
    expect(ids(verdict.blocking)).toEqual(["CVE-2020-14343 PyYAML"]);
    expect(ids(verdict.warnings)).toContain("CVE-2023-45853 zlib1g");
  });

  it("failOn HIGH blocks the HIGH ones too", () => {
    const verdict = evaluate({ runs: [image()], policy: policy("image: { failOn: HIGH }"), now: NOW });
    expect(verdict.blocking).toHaveLength(9);
  });
});

describe("evaluate: image waivers", () => {
  it("matches a package by its name", () => {
    const verdict = evaluate({ runs: [image()], policy: policy(waiver("id: CVE-2023-45853\npackage: zlib1g")), now: NOW });
    expect(ids(verdict.waived.map((w) => w.finding))).toEqual(["CVE-2023-45853 zlib1g"]);
    expect(ids(verdict.blocking)).toEqual(["CVE-2020-14343 PyYAML"]);
  });

  it("matches a package by its source package", () => {
    const verdict = evaluate({ runs: [image()], policy: policy(waiver("id: CVE-2025-6020\npackage: pam")), now: NOW });
    expect(verdict.waived).toHaveLength(4);
  });

  it("does not match another package, and is then unused", () => {
    const verdict = evaluate({ runs: [image()], policy: policy(waiver("id: CVE-2023-45853\npackage: openssl")), now: NOW });
    expect(verdict.waived).toEqual([]);
    expect(verdict.unusedWaivers.map((w) => w.package)).toEqual(["openssl"]);
  });

  it("a path (SAST only) never matches an image finding", () => {
    const verdict = evaluate({ runs: [image()], policy: policy(waiver("id: CVE-2023-45853\npath: '**'")), now: NOW });
    expect(verdict.waived).toEqual([]);
    expect(ids(verdict.blocking)).toContain("CVE-2023-45853 zlib1g");
  });

  it("waiving both CRITICALs passes the gate", () => {
    const yaml = `waivers:
  - { id: CVE-2023-45853, package: zlib1g, reason: minizip not built, owner: sec, expires: 2027-01-31 }
  - { id: CVE-2020-14343, reason: only safe_load is used, owner: sec, expires: 2026-12-15 }
`;
    const verdict = evaluate({ runs: [image()], policy: policy(yaml), now: NOW });
    expect(verdict.outcome).toBe("pass");
    expect(verdict.waived.map((w) => w.waiver.id)).toEqual(["CVE-2020-14343", "CVE-2023-45853"]);
  });
});

describe("reports with image findings", () => {
  const both = () => {
    const bandit = parseBandit(fixture("bandit/bandit-b104.json"), { filePath: "bandit.json" });
    const db = parseDbMetadata(fixture("trivy/trivy-db-metadata.json"), { filePath: "metadata.json" });
    return evaluate({ runs: [bandit, image()], policy: policy(waiver("id: CVE-2023-45853\npackage: zlib1g")), now: NOW, db });
  };

  it("SARIF: valid, one run per tool, one rule per CVE with CWE tag and security-severity", () => {
    const verdict = both();
    const log = expectValidSarif(renderSarif(verdict));
    expect(log.runs.map((r) => r.tool.driver.name)).toEqual(["Bandit", "Trivy"]);
    expect(log.properties).toEqual({ "portcullis/outcome": "fail", "portcullis/trivyDbUpdatedAt": verdict.db.updatedAt });
    const trivy = log.runs[1]!;
    expect(trivy.tool.driver.version).toBe("v0.74.0");
    const rules = trivy.tool.driver.rules!;
    expect(rules.map((r) => r.id)).toEqual([
      "CVE-2018-18074",
      "CVE-2019-10906",
      "CVE-2019-11324",
      "CVE-2020-14343",
      "CVE-2020-28493",
      "CVE-2023-45853",
      "CVE-2025-6020",
    ]);
    const zlibRule = rules.find((r) => r.id === "CVE-2023-45853")!;
    expect(zlibRule.helpUri).toBe("https://avd.aquasec.com/nvd/cve-2023-45853");
    expect(zlibRule.properties).toEqual({ tags: ["security", "external/cwe/cwe-190"], "security-severity": "9.5" });
    expect(trivy.results).toHaveLength(10);
  });

  it("SARIF: image findings sit at line 1 of the Dockerfile (or the given file), with the package as logical location", () => {
    const verdict = both();
    const zlib = (text: string) => JSON.parse(text).runs[1].results.find((r: { ruleId: string }) => r.ruleId === "CVE-2023-45853");
    const byDefault = zlib(renderSarif(verdict));
    expect(byDefault.locations[0]).toEqual({
      physicalLocation: { artifactLocation: { uri: "Dockerfile", uriBaseId: "%SRCROOT%" }, region: { startLine: 1 } },
      logicalLocations: [{ name: "zlib1g", fullyQualifiedName: "trivy-python-vuln.tar (debian 12.15)/zlib1g@1:1.2.13.dfsg-1", kind: "package" }],
    });
    expect(byDefault.level).toBe("error");
    expect(byDefault.suppressions[0].justification).toBe("not reachable (owner sec, expires 2027-01-31, p.yaml:3)");
    expect(zlib(renderSarif(verdict, { imageLocation: "app/Dockerfile" })).locations[0].physicalLocation.artifactLocation.uri).toBe(
      "app/Dockerfile",
    );
  });

  it("Markdown: blocking table first, with package, fix and both stages counted", () => {
    const md = renderMarkdown(both());
    expect(md).toContain(
      "| CRITICAL | CVE-2020-14343 | image | PyYAML 5.3.1 (Python) | 5.4 |  | PyYAML: incomplete fix for CVE-2020-1747 |",
    );
    expect(md.indexOf("## Blocking findings (2)")).toBeLessThan(md.indexOf("## Findings by stage and severity"));
    expect(md).toContain("| Image (Trivy) | 2 | 7 | 1 | 0 | 0 | 10 |");
    expect(md).toContain("| CRITICAL | CVE-2023-45853 | zlib1g 1:1.2.13.dfsg-1 (trivy-python-vuln.tar (debian 12.15)) | not reachable | sec | 2027-01-31 |");
    expect(md).toContain("- trivy v0.74.0 on `trivy-python-vuln.tar`: 10 finding(s)");
    expect(md).toMatch(/- Trivy DB: updated 2026-11-28T17:\d\d:\d\d\.\d+Z, 0 day\(s\) old \(policy allows 7\)/);
  });

  it("Markdown: a clean image says Trivy detected nothing", () => {
    const empty = parseTrivy(fixture("trivy/trivy-empty.json"), { filePath: "trivy-empty.json" });
    const md = renderMarkdown(evaluate({ runs: [empty], policy: policy(), now: NOW }));
    expect(md).toContain("# portcullis gate: ✅ PASS");
    expect(md).toContain("## Notes\n\n- Trivy detected nothing (no Results)\n- Trivy DB age unknown (no DB metadata given)");
  });

  it("JUnit: one failing case per blocking rule, per stage", () => {
    const db = parseDbMetadata(fixture("trivy/trivy-db-metadata.json"), { filePath: "metadata.json" });
    const xml = renderReports(evaluate({ runs: [image()], policy: policy("image: { failOn: HIGH }"), now: NOW, db }))["junit.xml"];
    expect(xml).toContain(`<property name="portcullis.trivyDbUpdatedAt" value="${db.updatedAt}"/>`);
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    expect(xml).toContain('<failure message="4 blocking finding(s) of CVE-2025-6020 (HIGH)" type="HIGH">');
  });
});
