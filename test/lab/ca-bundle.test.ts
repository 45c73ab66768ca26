import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LabPartError } from "../../lab/exec.js";
import { labLayout } from "../../lab/paths.js";
import { baseRecipes } from "../../lab/parts/base-images.js";
import { caBundleText, HOST_CA_BUNDLE } from "../../lab/parts/images.js";
import { makeContext } from "../../lab/parts/part.js";
import { tempDir } from "./helpers.js";

const dir = tempDir("ca");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A real certificate from the host bundle stands in for a proxy's CA: the code only concatenates PEM text.
const hostPem = readFileSync(HOST_CA_BUNDLE, "utf8");
const oneCert = hostPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)![0];

describe("--ca-bundle: an extra CA trusted by the lab images", () => {
  it("is appended to the host bundle, and changes the recipes so the images are rebuilt with it", () => {
    const extra = join(dir, "proxy-ca.pem");
    writeFileSync(extra, oneCert);
    const plain = makeContext(labLayout(dir), {});
    const withCa = makeContext(labLayout(dir), { caBundle: extra });
    expect(caBundleText(withCa, "base-images")).toBe(caBundleText(plain, "base-images") + oneCert);
    const a = baseRecipes(plain);
    const b = baseRecipes(withCa);
    expect(b.rootfs).toBe(a.rootfs);
    expect(b.debian).not.toBe(a.debian);
    expect(b.python).not.toBe(a.python);
  });

  it("refuses a file holding no PEM certificate, naming the file", () => {
    const bogus = join(dir, "not-a-ca.txt");
    writeFileSync(bogus, "hello\n");
    const ctx = makeContext(labLayout(dir), { caBundle: bogus });
    expect(() => caBundleText(ctx, "base-images")).toThrowError(LabPartError);
    expect(() => caBundleText(ctx, "base-images")).toThrow(`part "base-images" failed: \`read ${bogus}\` found no PEM certificate in it`);
  });
});
