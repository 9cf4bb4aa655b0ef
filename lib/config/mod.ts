/**
 * Configuration: the command line and the config file (TOML), parsed purely into a typed command;
 * the table of every setting; and the configuration in force, loaded and checked as one.
 * @module
 */
export { ConfigFileError, parseCommand, parseListen, USAGE, UsageError, VERSION } from "./cli.ts";
export type { CliLogLevel, Command, ConfigParts, ListenAddress, ParseOptions } from "./cli.ts";
export { DEFAULT_METRICS, explainUrl, parseExplain } from "./explain_command.ts";
export type { ExplainCommand } from "./explain_command.ts";
export { forwardingChanges, keepRestartSettings, liveConfigs } from "./live.ts";
export { missingPermission } from "./permissions.ts";
export type { LiveConfig, LiveConfigOptions, ServeCommand } from "./live.ts";
export { fileKey, OPTIONS } from "./options.ts";
export type { OptionSpec, OptionType } from "./options.ts";
export { loadConfigFileReader, loadConfigJsonSchema, namesConfigFile } from "./file_reader.ts";
export type { ConfigFileReader } from "./file.ts";
export { dnssecSettings, loadTrustAnchors } from "./trust_anchors.ts";
export type { DnssecSettings } from "./trust_anchors.ts";
