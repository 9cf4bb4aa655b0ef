/**
 * Captures the lines dnsd logs, formatted as dnsd writes them, for tests that count them.
 * @module
 */
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { formatLogRecord } from "../lib/observe/log_format.ts";

/** Starts capturing dnsd's lines at `info` and above (and LogTape's own warnings); `stop()` ends it. */
export function captureLogs(): { readonly lines: string[]; stop(): void } {
  const lines: string[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  return { lines, stop: resetSync };
}

/** Every line dnsd logs while `fn` runs. */
export async function logged(fn: () => Promise<void>): Promise<string[]> {
  const capture = captureLogs();
  try {
    await fn();
  } finally {
    capture.stop();
  }
  return capture.lines;
}
