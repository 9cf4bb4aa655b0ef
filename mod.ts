/**
 * dnsd as a library: the wire codec and message types, the zone-file and hosts-file parsers, and
 * the server. Internals (sockets, the FFI reactor, the memo, the cache) are not part of it.
 *
 * @example Start a server on an ephemeral port
 * ```ts
 * import { fixedData, mappingRecords, startServer } from "./mod.ts";
 * const server = startServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   upstreams: [{ hostname: "127.0.0.1", port: 5353 }],
 *   timeoutMs: 2000,
 *   localData: fixedData({ mappings: mappingRecords({ "nas.home": "192.168.1.10" }) }),
 * });
 * server.close();
 * await server.finished;
 * ```
 *
 * @example Decode a query and encode its answer
 * ```ts
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * const query = decodeMessage(new Uint8Array([
 *   0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // id, RD, one question
 *   7, ...new TextEncoder().encode("example"), 3, ...new TextEncoder().encode("com"), 0, 0, 1, 0, 1,
 * ]));
 * const answer = encodeMessage({
 *   ...query,
 *   response: true,
 *   answers: [{ name: "example.com", class: 1, ttl: 60, data: { type: "A", address: "192.0.2.1" } }],
 * });
 * ```
 * @module
 */

// The codec: bytes <-> typed messages.
export {
  decodeMessage,
  encodeMessage,
  Opcode,
  Rcode,
  RRClass,
  RRType,
  typeFromText,
  typeName,
} from "./lib/proto/mod.ts";
export type {
  CertificateAssociation,
  Edns,
  EdnsOption,
  Message,
  Question,
  RData,
  ResourceRecord,
} from "./lib/proto/mod.ts";
export { DataError, DecodeError, EncodeError, ParseError } from "./lib/proto/mod.ts";
export type {
  AddressLine,
  ByteArena,
  CompressionTable,
  DecodeReason,
  EncodeReason,
  TextLocation,
} from "./lib/proto/mod.ts";

// Local data: zone files, hosts files and mappings.
export { buildZone, fixedData, mappingRecords, parseHosts, parseZoneFile } from "./lib/zone/mod.ts";
export type {
  HostsData,
  LocalData,
  LocalSources,
  Mappings,
  MappingValue,
  Nsec3Owner,
  Nsec3Parameters,
  NsecOwner,
  OneOrMore,
  ParsedRecords,
  RecordSet,
  RRset,
  Zone,
  ZoneDnssec,
  ZoneFileSource,
  ZoneNode,
  ZoneNodes,
  ZoneParseOptions,
} from "./lib/zone/mod.ts";

// Blocklists: the list file parser and the set a server's `blockPolicy` reads.
export { DomainSet, isBlocked, parseList } from "./lib/block/mod.ts";
export type {
  Blocklist,
  BlockMode,
  BlockPolicy,
  DomainSetParts,
  ParsedList,
  UnreadableLine,
} from "./lib/block/mod.ts";
export type { AccessRules, RecursionRules } from "./lib/policy/mod.ts";

// The server.
export { CertificateError, DEFAULT_LOCAL_SETTINGS, ListenError, startServer } from "./lib/server/mod.ts";
export type {
  CacheFigures,
  EncryptedServing,
  ForwardingSettings,
  LocalSettings,
  Peers,
  RunningServer,
  ServerCounters,
  ServerFigures,
  ServerOptions,
  StatisticsSource,
  TcpServerOptions,
} from "./lib/server/mod.ts";
export type { ForwardCounters, ForwardZone, Upstream, UpstreamStrategy } from "./lib/upstream/mod.ts";
export type { CacheCounters, CacheLimits, CacheSettings, CacheView } from "./lib/cache/mod.ts";
export type { QueryContext, QueryHook, Request, Resolve, Transport, Verdict } from "./lib/resolve/mod.ts";
// Policy: response rate limiting and DNS cookies (ServerOptions.rateLimit, ServerOptions.cookies).
export type { CookieOptions, RateLimitOptions } from "./lib/policy/mod.ts";
export type { OpcodeHandlers, TransferHandler, TsigSettings, WriteMessage } from "./lib/server/mod.ts";
// Zone transfers and TSIG (ServerOptions.handlers, .tsig, .zoneNotReady; Request.tsig).
export type { ZoneNotReady } from "./lib/xfr/mod.ts";
export type { SignedRequest, TsigKey, TsigRecord, UnixClock } from "./lib/tsig/mod.ts";
export { Hmacs } from "./lib/tsig/mod.ts";
export { TsigKeyring } from "./lib/tsig/mod.ts";
export type { MetricsSnapshot, QueryObserver, RouteHandler, Routes, Trace } from "./lib/observe/mod.ts";
// Explain (RunningServer.explain) and the files it reads again (ServerOptions.explainFiles).
export type {
  ExplainedAnswer,
  ExplainFiles,
  ExplainQuestion,
  ExplainSource,
  Explanation,
  LocatedRecord,
} from "./lib/server/mod.ts";
