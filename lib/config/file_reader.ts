/**
 * The config file's reader, loaded on demand: smol-toml and zod (the schema) are imported only by
 * a dnsd started with `--config`, since together they cost an idle process about 5 MiB of memory
 * (bench:memory's idle part, issue 19). Statically named, so `deno compile` still embeds them.
 * @module
 */
import type { ConfigFileReader } from "./file.ts";

/** Whether `args` name a config file (`--config FILE` or `--config=FILE`). */
export function namesConfigFile(args: readonly string[]): boolean {
  return args.some((arg) => arg === "--config" || arg.startsWith("--config="));
}

/** The config file's reader, imported now. */
export async function loadConfigFileReader(): Promise<ConfigFileReader> {
  return (await import("./file.ts")).readConfigText;
}

/** The JSON Schema of the config file (for scripts/config_reference.ts), imported now. */
export async function loadConfigJsonSchema(): Promise<unknown> {
  return (await import("./schema.ts")).configJsonSchema();
}
