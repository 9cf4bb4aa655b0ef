/**
 * The configuration's one error type.
 * @module
 */

/** A bad command line or config file; the message is one line for the user. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A config file that does not parse or check: `FILE:LINE: KEY: ...`. */
export class ConfigFileError extends UsageError {
  override name = "ConfigFileError";
}
