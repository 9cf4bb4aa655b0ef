/**
 * What dnsd tells its operator: the log line format, the cheap per-query log-level gate, and the
 * rate-limited log of events a remote party can cause.
 * @module
 */
export { formatLogRecord } from "./log_format.ts";
export { levelGate } from "./log_gate.ts";
export {
  type EventLogger,
  type RemoteEventLevel,
  type RemoteEventOptions,
  RemoteEvents,
} from "./remote_events.ts";
