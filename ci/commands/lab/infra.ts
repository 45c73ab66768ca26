import type { CommandModule } from "yargs";

// Filled in by its issue; kept empty so the CLI composes while the parts are built.
export const labSubcommands: CommandModule[] = [];
