import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";

// The Dagger SDK takes about 1.8 s to load: only `run` needs it, so it is loaded when `run` runs
// (./run-session.ts), and `gate`, `policy` and `--help` start without it.

export interface RunArgs {
  source: string;
  policy?: string;
  out: string;
  dockerfile: string;
  target?: string;
  buildArg: string[];
  banditConfig?: string;
  dbRepository?: string;
  dbUsername?: string;
  dbPasswordEnv?: string;
  publish?: string;
  username?: string;
  passwordEnv?: string;
  caBundle?: string;
  now?: string;
  quiet: boolean;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: "run",
  describe: "Run the whole pipeline (SAST ∥ build → scan → gate [→ publish]) through a Dagger session",
  builder: (yargs: Argv) =>
    yargs
      .usage(
        "$0 run --source DIR [--policy FILE] [--out DIR] [--publish ADDRESS --username U --password-env VAR]\n\n" +
          "Drives the portcullis Dagger module in client mode against the session in DAGGER_SESSION_PORT/_TOKEN\n" +
          "(`dagger run portcullis run …`, or `portcullis lab exec -- portcullis run …` on the air-gapped lab).\n" +
          "Reports (portcullis.sarif, summary.md, verdict.json, junit.xml) are written to --out whatever the outcome;\n" +
          "the image is published only after a pass.",
      )
      .option("source", { type: "string", default: ".", describe: "Source directory holding the Dockerfile" })
      .option("policy", { type: "string", describe: "Policy YAML (default: the built-in default policy)" })
      .option("out", { type: "string", default: "reports", describe: "Directory the reports are written to" })
      .option("dockerfile", { type: "string", default: "Dockerfile", describe: "Dockerfile path inside --source" })
      .option("target", { type: "string", describe: "Build stage to stop at (default: the last stage)" })
      .option("build-arg", { type: "string", array: true, default: [], describe: "Build argument NAME=value (repeatable)" })
      .option("bandit-config", { type: "string", describe: "Bandit configuration file (passed as -c)" })
      .option("db-repository", { type: "string", describe: "OCI repository of a Trivy DB mirror (air-gapped: no other download)" })
      .option("db-username", { type: "string", describe: "User name for the Trivy DB mirror" })
      .option("db-password-env", { type: "string", describe: "Name of the environment variable holding the DB mirror's password" })
      .option("publish", { type: "string", describe: "Publish the image to this address after a pass" })
      .option("username", { type: "string", describe: "Registry user name for --publish" })
      .option("password-env", { type: "string", describe: "Name of the environment variable holding the registry password" })
      .option("ca-bundle", { type: "string", describe: "Extra CA certificates (PEM) for TLS-inspecting networks" })
      .option("now", { type: "string", describe: "Judge at this ISO-8601 time instead of now (reproducible reports)" })
      .option("quiet", { type: "boolean", default: false, describe: "Do not print the Markdown summary on stdout" })
      .example("$0 run --source app --policy policies/default.yaml --out reports/", "gate the sample app")
      .example(
        "$0 lab exec -- $0 run --source app --out reports/ --db-repository 127.0.0.1:5000/trivy-db --db-username \"$PORTCULLIS_LAB_REGISTRY_USER\" --db-password-env PORTCULLIS_LAB_REGISTRY_PASSWORD --publish 127.0.0.1:5000/portcullis/app:latest --username \"$PORTCULLIS_LAB_REGISTRY_USER\" --password-env PORTCULLIS_LAB_REGISTRY_PASSWORD",
        "on the lab (after eval \"$(portcullis lab env)\"): gate with the lab's DB mirror, then publish by digest",
      ) as unknown as Argv<RunArgs>,
  handler: async (argv: ArgumentsCamelCase<RunArgs>) => {
    const { runPipeline } = await import("./run-session.js");
    process.exitCode = await runPipeline(argv);
  },
};

