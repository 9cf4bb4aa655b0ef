/**
 * What dnsd tells its operator: the log line format, the cheap per-query log-level gate, and the
 * rate-limited log of events a remote party can cause.
 * @module
 */
export { formatLogRecord } from "./log_format.ts";
export { logToStderr, writeAll } from "./stderr_log.ts";
export { levelGate } from "./log_gate.ts";
export {
  type EventLogger,
  type RemoteEventLevel,
  type RemoteEventOptions,
  RemoteEvents,
} from "./remote_events.ts";
export {
  answerCount,
  extendedError,
  newTrace,
  observers,
  type QueryObserver,
  questionName,
  questionType,
  responseFlags,
  Source,
  SOURCE_NAMES,
  type Trace,
} from "./observation.ts";
export {
  DURATION_BUCKETS,
  type MetricGauges,
  Metrics,
  type MetricsSnapshot,
  processFigures,
  UpstreamResult,
} from "./metrics.ts";
export {
  type HttpServer,
  parseHttpAddress,
  route,
  type RouteHandler,
  type Routes,
  serveHttp,
} from "./http.ts";
export {
  type LogSink,
  openLogSink,
  openLogSinkSync,
  QueryLog,
  type QueryLogEntry,
  queryLogEntry,
  QueryLogError,
  queryLogLine,
  type QueryLogOptions,
} from "./query_log.ts";
