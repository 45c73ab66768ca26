// Drives the module in-process with the real SDK, with one scanner replaced by a container whose
// `bandit`/`trivy` prints something that is not JSON (a proxy's error page): the gate must say error.
// Run inside a session: `portcullis lab exec -- node --import tsx test/e2e/drivers/fake-scanner.ts TOOL OUT`.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connection, dag, type Container } from "@dagger.io/dagger";
import { Portcullis, SOURCE_IGNORE } from "../../../dagger/src/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const [tool, out] = process.argv.slice(2);
if ((tool !== "bandit" && tool !== "trivy") || !out) {
  process.stderr.write("usage: fake-scanner.ts bandit|trivy OUT_DIR\n");
  process.exit(2);
}

/** A container whose scanner prints an HTML error page and exits 0, as a broken proxy or wrapper might. */
function fake(name: string): Container {
  return dag
    .container()
    .from("debian:bookworm-slim")
    .withNewFile(`/usr/local/bin/${name}`, "#!/bin/sh\necho '<html><body>502 Bad Gateway</body></html>'\n", { permissions: 0o755 });
}

await connection(async () => {
  const password = process.env.PORTCULLIS_LAB_REGISTRY_PASSWORD;
  const run = new Portcullis().pipeline(
    dag.host().directory(path.join(ROOT, "app"), { exclude: SOURCE_IGNORE }),
    undefined,
    "Dockerfile",
    undefined,
    [],
    undefined,
    "127.0.0.1:5000/trivy-db",
    process.env.PORTCULLIS_LAB_REGISTRY_USER,
    password ? dag.setSecret("e2e-db-password", password) : undefined,
    tool === "bandit" ? fake("bandit") : undefined,
    tool === "trivy" ? fake("trivy") : undefined,
  );
  const assessment = await run.assess();
  await (await run.reports()).export(path.resolve(out));
  process.stdout.write(JSON.stringify({ outcome: assessment.verdict.outcome, errors: assessment.verdict.errors }) + "\n");
});
