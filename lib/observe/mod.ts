/**
 * What dnsd tells its operator: the log line format and the cheap per-query log-level gate.
 * @module
 */
export { formatLogRecord } from "./log_format.ts";
export { levelGate } from "./log_gate.ts";
