/**
 * Where dnsd's log lines go: stderr, one line each in the format of log_format.ts. The main thread
 * and every worker (`--workers`) configure their own logger this way: logtape's configuration is
 * one per JavaScript realm.
 * @module
 */
import { configureSync, type LogLevel, type LogRecord } from "@logtape/logtape";
import { formatLogRecord } from "./log_format.ts";

const encoder = new TextEncoder();

/** Writes all of `text`, however many writes it takes. */
export function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** Sends dnsd's log lines to stderr, from `level` up; called again when a reload changes the level. */
export function logToStderr(level: LogLevel): void {
  configureSync({
    reset: true,
    sinks: { stderr: (record: LogRecord) => writeAll(Deno.stderr, formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
