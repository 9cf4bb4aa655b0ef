/**
 * Serving: `respond` (the one place errors become RCODEs), the opcode dispatcher, the UDP, TCP,
 * TLS and HTTPS listeners, EDNS padding, and `startServer`, which wires them.
 * @module
 */
export { buildResolver, DEFAULT_LOCAL_SETTINGS, ListenError, startServer } from "./app.ts";
export { formatStatistics } from "./statistics.ts";
export type { StatisticsSource } from "./statistics.ts";
export type { CacheFigures, Peers, ServerFigures } from "./peers.ts";
export type {
  ForwardingSettings,
  LocalSettings,
  Resolver,
  RunningServer,
  ServerCounters,
  ServerOptions,
} from "./app.ts";
export { dispatch } from "./dispatch.ts";
export type { OpcodeHandlers, TransferHandler, WriteMessage } from "./dispatch.ts";
export { failureCode, failureReply, respond } from "./respond.ts";
export type { Report, RespondOptions, TsigSettings } from "./respond.ts";
export type { ServeOptions } from "./serving.ts";
export { serveTcp } from "./tcp_server.ts";
export type { Acceptor, StreamOptions, TcpServerOptions } from "./tcp_server.ts";
export { CertificateError, checkCertifiedKey, readCertifiedKey, TlsListener } from "./tls_listener.ts";
export type { CertifiedKey } from "./tls_listener.ts";
export { DOH_PATH, serveDoh } from "./doh_server.ts";
export type { DohServer } from "./doh_server.ts";
export { decodeBase64Url, DNS_MESSAGE, dohQuery, DohStatus, freshnessOf } from "./doh_request.ts";
export type { DohQuery } from "./doh_request.ts";
export type { EncryptedServing } from "./encrypted.ts";
export { PADDING_OPTION, padResponse, RESPONSE_BLOCK, wantsPadding } from "./padding.ts";
export { serveUdp } from "./udp_server.ts";
export { checkAssertions, wouldForward } from "./assertions.ts";
export type { AssertedOutcome, Assertion } from "./assertions.ts";
export { adminHandlers, adminRoute, explainQuestion } from "./admin.ts";
export type { AdminHandler, AdminHandlers, AdminOptions, ReloadReport } from "./admin.ts";
export { explainer } from "./explain.ts";
export type {
  ExplainedAnswer,
  ExplainOptions,
  ExplainQuestion,
  ExplainSource,
  Explanation,
} from "./explain.ts";
export type { ExplainFiles, LocatedRecord } from "./explain_sources.ts";
