import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { LabPartError, logLine, pidAlive, pidCommand, probe, readPid, sleep, startDaemon } from "../exec.js";
import type { LabPart } from "./part.js";

/** The daemon's version when it answers, else undefined. */
export function dockerServerVersion(): string | undefined {
  return probe("docker", ["version", "--format", "{{.Server.Version}}"]);
}

/** Starts `dockerd` when the daemon does not answer, and waits until it does. */
export const dockerPart: LabPart = {
  name: "docker",
  async up(ctx) {
    const log = ctx.logOf("docker");
    const running = dockerServerVersion();
    if (running) return { action: "reused", detail: `Docker ${running} answering` };
    const pid = startDaemon("dockerd", [], { log });
    mkdirSync(dirname(ctx.layout.dockerdPid), { recursive: true });
    writeFileSync(ctx.layout.dockerdPid, `${pid}\n`);
    ctx.progress("docker", `started dockerd (pid ${pid}), waiting for it to answer`);
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const version = dockerServerVersion();
      if (version) return { action: "started", detail: `Docker ${version}, dockerd pid ${pid}` };
      if (!pidAlive(pid)) break;
      await sleep(500);
    }
    logLine(log, "dockerd did not answer `docker version`");
    throw new LabPartError("docker", "dockerd", log, pidAlive(pid) ? "did not answer within 90 s" : "exited while starting");
  },
  async status(ctx) {
    const version = dockerServerVersion();
    const pid = readPid(ctx.layout.dockerdPid);
    const ours = pid !== undefined && pidAlive(pid) ? `, started by the lab (pid ${pid})` : ", not started by the lab";
    return version ? { state: "up", detail: `Docker ${version}${ours}` } : { state: "down", detail: "daemon not answering" };
  },
  async down(ctx) {
    const pid = readPid(ctx.layout.dockerdPid);
    // Only a dockerd this lab started is stopped; one started by someone else is left alone.
    if (pid === undefined || !pidAlive(pid) || !(pidCommand(pid) ?? "").includes("dockerd")) {
      rmSync(ctx.layout.dockerdPid, { force: true });
      return "left running (not started by the lab)";
    }
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 60 && pidAlive(pid); i++) await sleep(500);
    rmSync(ctx.layout.dockerdPid, { force: true });
    return `stopped dockerd (pid ${pid})`;
  },
};
