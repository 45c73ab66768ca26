import type { CommandModule } from "yargs";
import { labSubcommands as infraSubcommands } from "./lab/infra.js";
import { labSubcommands as engineSubcommands } from "./lab/engine.js";

/** `portcullis lab …`: the air-gapped lab (Docker, images, DB, registry) and its stand-in engine. */
export const labCommand: CommandModule = {
  command: "lab <command>",
  describe: "The air-gapped lab: local images, Trivy DB, registry and the stand-in Dagger engine",
  builder: (yargs) => {
    for (const cmd of [...infraSubcommands, ...engineSubcommands]) yargs.command(cmd);
    return yargs.demandCommand(1, "Name a lab command (see portcullis lab --help).");
  },
  handler: () => undefined,
};
