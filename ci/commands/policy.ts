import type { CommandModule } from "yargs";

export const policyCommand: CommandModule = {
  command: "policy",
  describe: "(not implemented yet)",
  handler: () => {
    throw new Error("portcullis policy is not implemented yet");
  },
};
