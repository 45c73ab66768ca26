import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { parsePolicy, waiverExpired } from "../../dagger/src/core/index.js";
import { EXIT, errorLine, parseNow, readInputFile } from "./gate.js";

interface ValidateArgs {
  file: string;
  now?: string;
}

const validateCommand: CommandModule<object, ValidateArgs> = {
  command: "validate <file>",
  describe: "Check a policy file: schema, severities, waivers (id, reason, owner, expiry) and maxWaiverDays",
  builder: (yargs: Argv) =>
    yargs
      .positional("file", { type: "string", describe: "The policy YAML", demandOption: true })
      .option("now", { type: "string", describe: "Check waiver terms as of this ISO date (default: now)", requiresArg: true })
      .example("$0 policy validate policies/default.yaml", "") as Argv<ValidateArgs>,
  handler: async (argv: ArgumentsCamelCase<ValidateArgs>) => {
    try {
      const now = parseNow(argv.now);
      const policy = parsePolicy(await readInputFile("policy", argv.file), { filePath: argv.file, now });
      const expired = policy.waivers.filter((w) => waiverExpired(w, now));
      process.stdout.write(
        `${argv.file}: valid policy (sast fails on ${policy.sast.failOn} at confidence ${policy.sast.minConfidence}+, ` +
          `image fails on ${policy.image.failOn}${policy.image.ignoreUnfixed ? " with a fix" : ""}, DB at most ` +
          `${policy.image.maxDbAgeDays} day(s) old, ${policy.waivers.length} waiver(s)` +
          `${expired.length > 0 ? `, ${expired.length} expired: ${expired.map((w) => w.id).join(", ")}` : ""})\n`,
      );
      process.exitCode = EXIT.pass;
    } catch (error) {
      process.stderr.write(`portcullis policy: ${errorLine(error)}\n`);
      process.exitCode = EXIT.error;
    }
  },
};

export const policyCommand: CommandModule = {
  command: "policy <command>",
  describe: "Work with policy files",
  builder: (yargs: Argv) => yargs.command(validateCommand).demandCommand(1, "Name a policy command: validate"),
  handler: () => {},
};
