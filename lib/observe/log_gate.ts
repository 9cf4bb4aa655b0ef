/**
 * Cheap checks of whether a log level is on, for the query path.
 * @module
 */
import type { Logger, LogLevel } from "@logtape/logtape";

/** How many calls a gate answers from its last look at the configuration. */
const RECHECK_EVERY = 1024;

/**
 * Whether `logger` records `level`, asked of LogTape once every 1,024 calls. LogTape's own check
 * walks the category tree and the context store each time, which on the query path costs a
 * noticeable share of a query. A change of logging configuration shows within that many calls:
 * dnsd configures logging once, before it serves, and each server makes its own gates.
 */
export function levelGate(logger: Pick<Logger, "isEnabledFor">, level: LogLevel): () => boolean {
  let left = 0;
  let enabled = false;
  return function levelEnabled() {
    if (left-- <= 0) {
      enabled = logger.isEnabledFor(level);
      left = RECHECK_EVERY - 1;
    }
    return enabled;
  };
}
