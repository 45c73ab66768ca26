import { spawn } from "node:child_process";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { resolveLabDir } from "../../../lab/paths.js";
import { ensureEngine } from "../../../lab/engine/service.js";
import { callFunction, listFunctions } from "../../../lab/engine/module-runner.js";

interface DirArgs { dir?: string }

const withDir = <T>(y: Argv<T>) => y.option("dir", { type: "string", describe: "Lab directory (default: $PORTCULLIS_LAB_DIR or ~/.cache/portcullis/lab)" });

/** One clear line, no stack trace; exit code 2 (an error, not a failed gate). */
function fail(err: unknown): void {
  console.error(`portcullis lab: ${(err as Error).message ?? String(err)}`);
  process.exitCode = 2;
}

const execCommand: CommandModule<DirArgs, DirArgs & { cmd?: string[] }> = {
  command: "exec [cmd..]",
  describe: "Run a command in a lab engine session (like `dagger run`): DAGGER_SESSION_PORT/TOKEN are set; its exit code is passed through",
  builder: (y) => withDir(y).positional("cmd", { type: "string", array: true, describe: "The command, after --" })
    .example("$0 lab exec -- npx portcullis run --source app", "Drive the module against the lab engine"),
  handler: async (argv: ArgumentsCamelCase<DirArgs & { cmd?: string[] }>) => {
    // yargs leaves everything after `--` in argv._, behind "lab exec".
    const afterDashes = argv._.slice(argv._.findIndex((w) => w === "exec") + 1);
    const cmd = [...(argv.cmd ?? []), ...afterDashes].map(String);
    if (cmd.length === 0) return fail(new Error("exec: name a command after --, e.g. portcullis lab exec -- node script.mjs"));
    try {
      const engine = await ensureEngine(resolveLabDir(argv.dir));
      const child = spawn(cmd[0], cmd.slice(1), {
        stdio: "inherit",
        env: { ...process.env, DAGGER_SESSION_PORT: String(engine.port), DAGGER_SESSION_TOKEN: engine.token },
      });
      const code = await new Promise<number>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (c, signal) => resolve(c ?? (signal ? 128 + 15 : 1)));
      });
      process.exitCode = code;
    } catch (err) {
      fail(err);
    }
  },
};

interface ModArgs extends DirArgs { mod: string }

const functionsCommand: CommandModule<DirArgs, ModArgs> = {
  command: "functions",
  describe: "List the module's objects, functions and arguments, as `dagger functions` would (runs the SDK's own introspector)",
  builder: (y) => withDir(y).option("mod", { alias: "m", type: "string", default: ".", describe: "Module directory (holding dagger.json)" }),
  handler: async (argv) => {
    try {
      const engine = await ensureEngine(resolveLabDir(argv.dir));
      process.stdout.write(await listFunctions(engine, resolveLabDir(argv.dir), argv.mod));
    } catch (err) {
      fail(err);
    }
  },
};

const callCommand: CommandModule<DirArgs, ModArgs> = {
  command: "call <function..>",
  describe: "Call a module function as `dagger call` does: --arg value (Directory/File from host paths, Secret from env:NAME); " +
    "chain functions on returned objects; end with `export --path PATH` to write a Container (image tarball), Directory or File " +
    "result to the host (`--export PATH` is an alias); other results are printed",
  builder: (y) => withDir(y)
    .option("mod", { alias: "m", type: "string", default: ".", describe: "Module directory (holding dagger.json)" })
    .parserConfiguration({ "unknown-options-as-args": true })
    .example("$0 lab call --mod test/fixtures/toy-module count-files --src .", "Call a function that takes a Directory")
    .example("$0 lab call pipeline --source app reports export --path out/", "Chain a function, then export its Directory result (prints the path written)")
    .epilogue("export flags: --path PATH (required); --wipe (Directory: empty PATH first); --allow-parent-dir-path (File: PATH may be a directory)."),
  handler: async (argv) => {
    const words = (argv as unknown as { function: (string | number)[] }).function.map(String);
    try {
      const engine = await ensureEngine(resolveLabDir(argv.dir));
      const out = await callFunction(engine, resolveLabDir(argv.dir), argv.mod, words);
      process.stdout.write(out.endsWith("\n") || out === "" ? out : `${out}\n`);
    } catch (err) {
      fail(err);
    }
  },
};

export const labSubcommands: CommandModule[] = [execCommand, functionsCommand, callCommand] as unknown as CommandModule[];
