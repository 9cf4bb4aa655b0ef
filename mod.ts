/**
 * dnsd as a library: the wire codec, the resolver stages and the server, each usable alone.
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
 * @module
 */

// The codec: bytes <-> typed messages.
export { decodeMessage, encodeMessage, HEADER_SIZE } from "./lib/codec.ts";
export { Opcode, Rcode, RRClass, RRType, typeFromText, typeName } from "./lib/types.ts";
export type { Edns, EdnsOption, Message, Question, RData, ResourceRecord } from "./lib/types.ts";
export { ByteArena } from "./lib/arena.ts";
export { CompressionTable } from "./lib/wire.ts";
export { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./lib/ip.ts";
export { nameKey } from "./lib/name.ts";

// Errors, each with a stable reason or class.
export {
  BadVersion,
  DataError,
  DecodeError,
  EncodeError,
  FormatError,
  NotImplemented,
  NotReady,
  ParseError,
  QueryFailure,
  Refused,
  UpstreamError,
  UpstreamTimeout,
} from "./lib/errors.ts";
export { EDE_OPTION, EdeCode, edeOf, withEde } from "./lib/ede.ts";
export type { ExtendedError } from "./lib/ede.ts";
export type { DecodeReason, EncodeReason, TextLocation } from "./lib/errors.ts";

// Building answers and composing the resolver.
export { headerOnlyReply, query, reply, responseEdns, UDP_PAYLOAD_SIZE, udpLimit } from "./lib/message.ts";
export { chain, logQueries, refuse, requireRecursion } from "./lib/resolver.ts";
export type { Resolve, Stage } from "./lib/resolver.ts";
export { authoritative, MAX_CNAME_CHAIN, resolveLocal } from "./lib/authority.ts";
export type { LocalAnswer } from "./lib/authority.ts";
export { buildLocalData, findZone, fixedData } from "./lib/local_data.ts";
export type { LocalData, LocalSources } from "./lib/local_data.ts";
export { buildZone, rrsetOf } from "./lib/zone.ts";
export type { RRset, Zone, ZoneNode } from "./lib/zone.ts";
export { parseZoneFile, PROGRESS_EVERY } from "./lib/zone_parser.ts";
export type { ParsedRecords, ZoneParseOptions } from "./lib/zone_parser.ts";
export { zoneEntries } from "./lib/zone_lexer.ts";
export type { Entry, Token } from "./lib/zone_lexer.ts";
export { formatRData, parseRData } from "./lib/rdata.ts";
export { RDataText } from "./lib/rdata_text.ts";
export { HOSTS_TTL, parseHosts, reverseName } from "./lib/hosts.ts";
export type { HostsData } from "./lib/hosts.ts";
export { dataLoader } from "./lib/sources.ts";
export type { DataSourcesConfig, LoadedData, ZoneFileSource } from "./lib/sources.ts";
export { createReloader } from "./lib/reloader.ts";
export type { Reloader } from "./lib/reloader.ts";
export { watchFiles } from "./lib/watch.ts";
export type { FileWatch } from "./lib/watch.ts";
export { MAPPING_TTL, mappingRecords } from "./lib/static_map.ts";
export type { Mappings, MappingValue, OneOrMore, RecordSet } from "./lib/static_map.ts";

// Forwarding.
export { createForwardCounters, forward, randomId, randomIds } from "./lib/forward.ts";
export { Deadlines } from "./lib/deadlines.ts";
export type { DeadlineOptions } from "./lib/deadlines.ts";
export type { ForwardCounters, ForwardOptions, UpstreamExchange } from "./lib/forward.ts";
export { formatAddress, isPushDatagram, TimeoutSignal, udpExchange } from "./lib/udp_exchange.ts";
export type {
  AbortLike,
  Datagram,
  DropReason,
  Exchange,
  PushDatagram,
  UdpExchangeOptions,
  Upstream,
} from "./lib/udp_exchange.ts";
export { tcpExchange } from "./lib/tcp_exchange.ts";
export type { Stream, TcpExchangeOptions } from "./lib/tcp_exchange.ts";
export { UPSTREAM_STRATEGIES, upstreamPool } from "./lib/upstream_pool.ts";
export type { PoolOptions, UpstreamHealth, UpstreamPool, UpstreamStrategy } from "./lib/upstream_pool.ts";
export { replyMismatch } from "./lib/match.ts";
export type { Mismatch } from "./lib/match.ts";

// Serving.
export { failureCode, failureReply, respond } from "./lib/respond.ts";
export type { Report, RespondOptions } from "./lib/respond.ts";
export { serveUdp } from "./lib/server.ts";
export { batchedUdpAvailable, isBatched, listenBatchedUdp, openReactorSocket } from "./lib/ffi_udp.ts";
export type { BatchedDatagram, BatchHandler, DatagramBatch } from "./lib/ffi_udp.ts";
export { LIBC_SYMBOLS, UdpReactor } from "./lib/udp_reactor.ts";
export type { Libc, UdpReactorOptions, Watcher } from "./lib/udp_reactor.ts";
export type { Listener, UdpServer } from "./lib/server.ts";
export { serveTcp } from "./lib/tcp_server.ts";
export type { TcpServer, TcpServerOptions } from "./lib/tcp_server.ts";
export { InFlight } from "./lib/in_flight.ts";
export { buildResolver, startServer } from "./lib/app.ts";
export type { Resolver, RunningServer, ServerCounters, ServerOptions } from "./lib/app.ts";
export { pooledUdpExchange } from "./lib/udp_pool.ts";
export type { PooledExchange, UdpPoolOptions } from "./lib/udp_pool.ts";
export { ResponseMemo } from "./lib/response_memo.ts";
export { answerCache, STALE_TTL } from "./lib/cache_stage.ts";
export type { Cache, CacheCounters, CacheOptions } from "./lib/cache_stage.ts";
export { agedResponse, AnswerCache, answerTtl, cacheKey } from "./lib/cache.ts";
export type { CachedKind, CacheEntry, CacheLimits } from "./lib/cache.ts";
export type { ResponseMemoOptions } from "./lib/response_memo.ts";
export { formatLogRecord, formatTimestamp } from "./lib/log_format.ts";
