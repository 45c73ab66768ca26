import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLabUp, registryCredentials, sh, tempDir } from "./helpers.js";

const work = tempDir("registry");
const REPO = `127.0.0.1:5000/lab-test/debian`;

/** A skopeo auth file (mode 0600), so no password appears on a command line. */
function authFile(name: string, user: string, password: string): string {
  const file = join(work, name);
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  writeFileSync(file, JSON.stringify({ auths: { "127.0.0.1:5000": { auth } } }), { mode: 0o600 });
  return file;
}

describe("the lab registry (distribution v2, htpasswd, 127.0.0.1:5000)", () => {
  beforeAll(() => {
    ensureLabUp();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("asks for credentials and accepts the generated ones", async () => {
    expect((await fetch("http://127.0.0.1:5000/v2/")).status).toBe(401);
    const { user, password } = registryCredentials();
    const authed = await fetch("http://127.0.0.1:5000/v2/", { headers: { authorization: "Basic " + Buffer.from(`${user}:${password}`).toString("base64") } });
    expect(authed.status).toBe(200);
  });

  it("takes a push with the right credentials and gives the image back by digest", () => {
    const { user, password } = registryCredentials();
    const auth = authFile("auth.json", user, password);
    const tag = `run-${process.pid}`;
    const push = sh("skopeo", ["copy", "--authfile", auth, "--dest-tls-verify=false", "--digestfile", join(work, "digest"), "docker-daemon:debian:bookworm-slim", `docker://${REPO}:${tag}`]);
    expect(push.code, push.stderr).toBe(0);
    const digest = readFileSync(join(work, "digest"), "utf8").trim();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const pull = sh("skopeo", ["copy", "--authfile", auth, "--src-tls-verify=false", `docker://${REPO}@${digest}`, `oci:${join(work, "pulled")}:pulled`]);
    expect(pull.code, pull.stderr).toBe(0);
    const inspect = sh("skopeo", ["inspect", "--authfile", auth, "--tls-verify=false", `docker://${REPO}@${digest}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).Digest).toBe(digest);
    // The pulled layers are the debian image's.
    const index = JSON.parse(readFileSync(join(work, "pulled", "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests).toHaveLength(1);
  });

  it("refuses a push with a wrong password", () => {
    const { user } = registryCredentials();
    const auth = authFile("wrong.json", user, "wrong-password");
    const push = sh("skopeo", ["copy", "--authfile", auth, "--dest-tls-verify=false", "docker-daemon:debian:bookworm-slim", `docker://${REPO}:refused`]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/unauthorized: authentication required/);
    const anonymousTags = sh("skopeo", ["list-tags", "--tls-verify=false", "--no-creds", `docker://${REPO}`]);
    expect(anonymousTags.code).not.toBe(0);
  });
});
