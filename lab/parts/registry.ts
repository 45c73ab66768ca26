import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { LabPartError, logLine, pidAlive, pidCommand, readPid, run, sleep, startDaemon } from "../exec.js";
import type { LabLayout } from "../paths.js";
import type { LabPart } from "./part.js";

/** Loopback only: containers reach it through the host network namespace. */
export const REGISTRY_HOST = "127.0.0.1";
export const REGISTRY_PORT = 5000;
export const REGISTRY_ADDRESS = `${REGISTRY_HOST}:${REGISTRY_PORT}`;
export const REGISTRY_USER = "portcullis";

export interface RegistryCredentials {
  user: string;
  password: string;
}

/** Reads `<labDir>/registry/credentials.env` (KEY=value lines). */
export function readRegistryCredentials(layout: LabLayout): RegistryCredentials | undefined {
  if (!existsSync(layout.registryCredentials)) return undefined;
  const vars = Object.fromEntries(
    readFileSync(layout.registryCredentials, "utf8")
      .split("\n")
      .map((l) => l.match(/^([A-Z_]+)=(.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  const user = vars.PORTCULLIS_LAB_REGISTRY_USER;
  const password = vars.PORTCULLIS_LAB_REGISTRY_PASSWORD;
  return user && password ? { user, password } : undefined;
}

export function basicAuth(creds: RegistryCredentials): string {
  return "Basic " + Buffer.from(`${creds.user}:${creds.password}`).toString("base64");
}

/** GET /v2/ with and without credentials: 401 then 200 means our authenticated registry answers. */
async function registryAnswers(creds: RegistryCredentials | undefined): Promise<"ours" | "refuses-credentials" | "foreign" | "none"> {
  const url = `http://${REGISTRY_ADDRESS}/v2/`;
  try {
    const anonymous = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (anonymous.status !== 401) return "foreign";
    if (!creds) return "refuses-credentials";
    const authed = await fetch(url, { headers: { authorization: basicAuth(creds) }, signal: AbortSignal.timeout(2_000) });
    return authed.status === 200 ? "ours" : "refuses-credentials";
  } catch {
    return "none";
  }
}

function registryConfig(layout: LabLayout, secret: string): string {
  // distribution v2 configuration; YAML written by hand as it is fixed apart from paths.
  return [
    "version: 0.1",
    "log:",
    "  level: info",
    "  fields:",
    "    service: portcullis-lab-registry",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(layout.registryData)}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${REGISTRY_ADDRESS}`,
    `  secret: ${secret}`,
    "  headers:",
    "    X-Content-Type-Options: [nosniff]",
    "auth:",
    "  htpasswd:",
    "    realm: portcullis-lab",
    `    path: ${JSON.stringify(layout.registryHtpasswd)}`,
    "",
  ].join("\n");
}

/** Writes credentials (once: they persist with the registry data), htpasswd and the config file. */
async function prepare(layout: LabLayout, log: string): Promise<RegistryCredentials> {
  mkdirSync(layout.registryData, { recursive: true, mode: 0o700 });
  let creds = readRegistryCredentials(layout);
  if (!creds) {
    // New credentials need a new htpasswd (a registry still running with the old one is restarted by lab down/up).
    rmSync(layout.registryHtpasswd, { force: true });
    creds = { user: REGISTRY_USER, password: randomBytes(24).toString("base64url") };
    writeFileSync(
      layout.registryCredentials,
      `PORTCULLIS_LAB_REGISTRY=${REGISTRY_ADDRESS}\nPORTCULLIS_LAB_REGISTRY_USER=${creds.user}\nPORTCULLIS_LAB_REGISTRY_PASSWORD=${creds.password}\n`,
      { mode: 0o600 },
    );
    logLine(log, `generated credentials for user ${creds.user} in ${layout.registryCredentials}`);
  }
  chmodSync(layout.registryCredentials, 0o600);
  if (!existsSync(layout.registryHtpasswd)) {
    // -i reads the password from stdin, so it never shows in a process list or log.
    const line = await run("htpasswd", ["-niB", creds.user], { part: "registry", log, input: `${creds.password}\n`, privateStdout: true });
    writeFileSync(layout.registryHtpasswd, line.trim() + "\n", { mode: 0o600 });
  }
  if (!existsSync(layout.registryConfig)) {
    writeFileSync(layout.registryConfig, registryConfig(layout, randomBytes(16).toString("hex")), { mode: 0o600 });
  }
  return creds;
}

function livePid(layout: LabLayout): number | undefined {
  const pid = readPid(layout.registryPid);
  return pid !== undefined && pidAlive(pid) && (pidCommand(pid) ?? "").includes("docker-registry") ? pid : undefined;
}

/** Debian's docker-registry (distribution v2) on 127.0.0.1:5000 with htpasswd auth; data under the lab dir. */
export const registryPart: LabPart = {
  name: "registry",
  async up(ctx) {
    const { layout } = ctx;
    const log = ctx.logOf("registry");
    const creds = await prepare(layout, log);
    const pid = livePid(layout);
    const answer = await registryAnswers(creds);
    if (pid !== undefined && answer === "ours") return { action: "reused", detail: `http://${REGISTRY_ADDRESS} (pid ${pid})` };
    if (answer !== "none") {
      logLine(log, `port ${REGISTRY_PORT} answers but not as this lab's registry (${answer})`);
      const why =
        answer === "foreign"
          ? `port ${REGISTRY_PORT} is taken by another server`
          : `port ${REGISTRY_PORT} is taken by a registry that refuses this lab's credentials (another lab directory's?)`;
      throw new LabPartError("registry", `GET http://${REGISTRY_ADDRESS}/v2/`, log, why);
    }
    const cmd = ["serve", layout.registryConfig];
    const started = startDaemon("docker-registry", cmd, { log, cwd: layout.registryDir });
    writeFileSync(layout.registryPid, `${started}\n`);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if ((await registryAnswers(creds)) === "ours") return { action: "started", detail: `http://${REGISTRY_ADDRESS} (pid ${started})` };
      if (!pidAlive(started)) break;
      await sleep(250);
    }
    throw new LabPartError("registry", `docker-registry serve ${layout.registryConfig}`, log, pidAlive(started) ? "did not answer within 30 s" : "exited while starting");
  },
  async status(ctx) {
    const pid = livePid(ctx.layout);
    const answer = await registryAnswers(readRegistryCredentials(ctx.layout));
    if (pid !== undefined && answer === "ours") return { state: "up", detail: `http://${REGISTRY_ADDRESS} (pid ${pid}, data ${ctx.layout.registryData})` };
    if (answer === "foreign") return { state: "down", detail: `port ${REGISTRY_PORT} taken by another server` };
    if (answer === "refuses-credentials") return { state: "down", detail: `port ${REGISTRY_PORT} taken by a registry refusing this lab's credentials` };
    return { state: "down", detail: `not running (data kept in ${ctx.layout.registryData})` };
  },
  async down(ctx, purge) {
    const pid = livePid(ctx.layout);
    let done = "not running";
    if (pid !== undefined) {
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 40 && pidAlive(pid); i++) await sleep(250);
      done = `stopped (pid ${pid})`;
    }
    rmSync(ctx.layout.registryPid, { force: true });
    if (purge) {
      rmSync(ctx.layout.registryDir, { recursive: true, force: true });
      done += ", data and credentials removed";
    }
    return done;
  },
};
