import type { CommandModule } from "yargs";

export const gateCommand: CommandModule = {
  command: "gate",
  describe: "(not implemented yet)",
  handler: () => {
    throw new Error("portcullis gate is not implemented yet");
  },
};
