// The lab engine process: `node --import tsx lab/engine/main.ts <labDir>`; started detached by service.ts.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineServer } from "./server.js";

const labDir = process.argv[2];
if (!labDir) {
  console.error("usage: main.ts <labDir>");
  process.exit(2);
}
const dir = join(labDir, "engine");
mkdirSync(dir, { recursive: true });
const server = new EngineServer(labDir, { logFile: join(dir, "engine.log") });
const port = await server.listen(Number(process.env.PORTCULLIS_ENGINE_PORT ?? 0));
writeFileSync(join(dir, "state.json"), JSON.stringify({ pid: process.pid, port, token: server.token, startedAt: new Date().toISOString() }), { mode: 0o600 });
console.log(`${new Date().toISOString()} lab engine listening on 127.0.0.1:${port} (pid ${process.pid})`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => void server.close().finally(() => process.exit(0)));
}
