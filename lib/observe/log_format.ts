/**
 * The log line format: `2024-09-18 13:58:35,001 - INFO - DNS server is running on 127.0.0.1:2053`
 * (local time, Python logging's default layout, which operators of the original tool know).
 * @module
 */
import type { LogLevel, LogRecord } from "@logtape/logtape";

const LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** Formats a timestamp as `YYYY-MM-DD HH:MM:SS,mmm` in local time. */
export function formatTimestamp(epochMs: number): string {
  const t = new Date(epochMs);
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
    `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())},${pad(t.getMilliseconds(), 3)}`;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

// deno-doc-ignore private-type-ref -- LogRecord is @logtape/logtape's public type (denoland/deno#27364)
/** Formats one LogTape record as one line, ending in a newline. */
export function formatLogRecord(record: LogRecord): string {
  let message = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    message += i % 2 === 0 ? String(part) : renderValue(part);
  }
  return `${formatTimestamp(record.timestamp)} - ${LEVEL_NAMES[record.level]} - ${message}\n`;
}
