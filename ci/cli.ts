import yargs, { type Argv } from "yargs";
import { gateCommand } from "./commands/gate.js";
import { policyCommand } from "./commands/policy.js";
import { runCommand } from "./commands/run.js";
import { labCommand } from "./commands/lab.js";

/** Builds the portcullis CLI; tests call `buildCli([...]).exitProcess(false)`. */
export function buildCli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName("portcullis")
    .usage("$0 <command> [options]\n\nA security gate as code: SAST, build, image scan, policy gate and publish.")
    .command(gateCommand)
    .command(policyCommand)
    .command(runCommand)
    .command(labCommand)
    .demandCommand(1, "Name a command: gate, policy, run or lab (see --help).")
    .strict()
    .recommendCommands()
    .epilogue("Exit codes: 0 pass · 1 fail (a blocking finding) · 2 error (bad input, tool crash, stale database).")
    // A usage mistake is an error (exit 2), never to be confused with a failing gate (exit 1).
    .fail((message, error, cli) => {
      if (error && !message) throw error;
      cli.showHelp();
      process.stderr.write(`\n${message ?? error?.message}\n`);
      process.exitCode = 2;
    })
    .help()
    .alias("h", "help")
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110));
}
