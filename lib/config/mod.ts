/**
 * Configuration: the command line, parsed purely into a typed command.
 * @module
 */
export { parseCommand, USAGE, UsageError, VERSION } from "./cli.ts";
export type { Command } from "./cli.ts";
