import type { Argv, CommandModule } from "yargs";
import { LabPartError } from "../../../lab/exec.js";
import { formatPartLine, labDown, labEnv, labStatus, labUp } from "../../../lab/lab.js";

interface DirArgs {
  dir?: string;
}

const withDir = <T>(y: Argv<T>) =>
  y.option("dir", {
    type: "string",
    describe: "Lab directory (default: $PORTCULLIS_LAB_DIR, else ${XDG_CACHE_HOME:-~/.cache}/portcullis/lab)",
  });

/** One clear line on error, never a stack trace; exit 2. */
function fail(command: string, err: unknown): void {
  const message = err instanceof LabPartError ? err.message : (err as Error).message.split("\n")[0];
  process.stderr.write(`portcullis lab ${command}: ${message}\n`);
  process.exitCode = 2;
}

const upCommand: CommandModule<object, DirArgs & { "ca-bundle"?: string }> = {
  command: "up",
  describe: "Bring the air-gapped lab up (idempotent): Debian packages, Docker, registry, base images, Trivy, its DB, engine",
  builder: (y) =>
    withDir(y)
      .option("ca-bundle", {
        type: "string",
        describe: "Extra CA bundle (PEM) the lab images trust besides the host's, e.g. a TLS-inspecting proxy's CA",
      })
      .epilogue(
        "Each part prints what it did (reused, started, built…) and how long it took. What is up is reused: images carry a " +
          "recipe-hash label, Trivy is kept in the lab's GOBIN, and the Go build cache makes rebuilds fast. A failing part stops " +
          "the run with exit 2 and one line naming the part, the command and its log file under <dir>/logs/.",
      ),
  handler: async (args) => {
    try {
      const result = await labUp({
        dir: args.dir,
        caBundle: args["ca-bundle"],
        onPart: (r) => process.stdout.write(formatPartLine(r) + "\n"),
        onProgress: (line) => process.stderr.write(`  … ${line}\n`),
      });
      process.stdout.write(`lab up: ready in ${result.seconds.toFixed(1)}s (${result.dir})\n`);
      process.exitCode = 0;
    } catch (err) {
      fail("up", err);
    }
  },
};

const downCommand: CommandModule<object, DirArgs & { purge?: boolean }> = {
  command: "down",
  describe: "Stop what the lab started (by the PIDs it recorded) and nothing else",
  builder: (y) =>
    withDir(y).option("purge", {
      type: "boolean",
      default: false,
      describe: "Also remove the lab's images, registry data, credentials and Trivy DB",
    }),
  handler: async (args) => {
    try {
      const result = await labDown({ dir: args.dir, purge: args.purge });
      for (const p of result.parts) process.stdout.write(`${p.part.padEnd(12)} ${p.detail}\n`);
      process.exitCode = 0;
    } catch (err) {
      fail("down", err);
    }
  },
};

const statusCommand: CommandModule<object, DirArgs & { json?: boolean }> = {
  command: "status",
  describe: "Show each part of the lab: up/down, versions, image ids, DB UpdatedAt/NextUpdate, registry URL",
  builder: (y) => withDir(y).option("json", { type: "boolean", default: false, describe: "Print JSON instead of lines" }),
  handler: async (args) => {
    try {
      const result = await labStatus({ dir: args.dir });
      if (args.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else {
        process.stdout.write(`lab dir: ${result.dir}\n`);
        for (const p of result.parts) process.stdout.write(`${p.part.padEnd(12)} ${p.state.padEnd(11)} ${p.detail}\n`);
      }
      // Status is information: a lab that is partly down is reported, not an error.
      process.exitCode = 0;
    } catch (err) {
      fail("status", err);
    }
  },
};

const envCommand: CommandModule<object, DirArgs> = {
  command: "env",
  describe: 'Print shell exports (registry address and credentials, engine session): eval "$(portcullis lab env)"',
  builder: (y) => withDir(y),
  handler: async (args) => {
    try {
      for (const line of await labEnv({ dir: args.dir })) process.stdout.write(line + "\n");
      process.exitCode = 0;
    } catch (err) {
      fail("env", err);
    }
  },
};

export const labSubcommands: CommandModule[] = [upCommand, downCommand, statusCommand, envCommand] as unknown as CommandModule[];
