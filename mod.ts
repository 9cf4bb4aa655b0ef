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
export { decodeMessage, encodeMessage, HEADER_SIZE } from "./lib/proto/codec.ts";
export { Opcode, Rcode, RRClass, RRType, typeFromText, typeName } from "./lib/proto/types.ts";
export type { Edns, EdnsOption, Message, Question, RData, ResourceRecord } from "./lib/proto/types.ts";
export { ByteArena } from "./lib/proto/arena.ts";
export { CompressionTable } from "./lib/proto/wire.ts";
export { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./lib/proto/ip.ts";
export { nameKey } from "./lib/proto/name.ts";

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
} from "./lib/proto/errors.ts";
export { EDE_OPTION, EdeCode, edeOf, withEde } from "./lib/proto/ede.ts";
export type { ExtendedError } from "./lib/proto/ede.ts";
export type { DecodeReason, EncodeReason, TextLocation } from "./lib/proto/errors.ts";

// Building answers and composing the resolver.
export { headerOnlyReply, query, reply, responseEdns, UDP_PAYLOAD_SIZE, udpLimit } from "./lib/proto/message.ts";
export { chain, logQueries, refuse, requireRecursion } from "./lib/resolve/resolver.ts";
export type { Resolve, Stage } from "./lib/resolve/resolver.ts";
export { authoritative, MAX_CNAME_CHAIN, resolveLocal } from "./lib/resolve/authority.ts";
export type { LocalAnswer } from "./lib/resolve/authority.ts";
export { buildLocalData, findZone, fixedData } from "./lib/zone/local_data.ts";
export type { LocalData, LocalSources } from "./lib/zone/local_data.ts";
export { buildZone, rrsetOf } from "./lib/zone/zone.ts";
export type { RRset, Zone, ZoneNode } from "./lib/zone/zone.ts";
export { parseZoneFile, PROGRESS_EVERY } from "./lib/zone/zone_parser.ts";
export type { ParsedRecords, ZoneParseOptions } from "./lib/zone/zone_parser.ts";
export { zoneEntries } from "./lib/proto/zone_lexer.ts";
export type { Entry, Token } from "./lib/proto/zone_lexer.ts";
export { formatRData, parseRData } from "./lib/proto/rdata.ts";
export { RDataText } from "./lib/proto/rdata_text.ts";
export { HOSTS_TTL, parseHosts, reverseName } from "./lib/zone/hosts.ts";
export type { HostsData } from "./lib/zone/hosts.ts";
export { dataLoader } from "./lib/zone/sources.ts";
export type { DataSourcesConfig, LoadedData, ZoneFileSource } from "./lib/zone/sources.ts";
export { createReloader } from "./lib/zone/reloader.ts";
export type { Reloader } from "./lib/zone/reloader.ts";
export { watchFiles } from "./lib/zone/watch.ts";
export type { FileWatch } from "./lib/zone/watch.ts";
export { MAPPING_TTL, mappingRecords } from "./lib/zone/static_map.ts";
export type { Mappings, MappingValue, OneOrMore, RecordSet } from "./lib/zone/static_map.ts";

// Forwarding.
export { createForwardCounters, forward, randomId, randomIds } from "./lib/upstream/forward.ts";
export { Deadlines } from "./lib/upstream/deadlines.ts";
export type { DeadlineOptions } from "./lib/upstream/deadlines.ts";
export type { ForwardCounters, ForwardOptions, UpstreamExchange } from "./lib/upstream/forward.ts";
export { formatAddress, isPushDatagram, TimeoutSignal, udpExchange } from "./lib/upstream/udp_exchange.ts";
export type {
  AbortLike,
  Datagram,
  DropReason,
  Exchange,
  PushDatagram,
  UdpExchangeOptions,
  Upstream,
} from "./lib/upstream/udp_exchange.ts";
export { tcpExchange } from "./lib/upstream/tcp_exchange.ts";
export type { Stream, TcpExchangeOptions } from "./lib/upstream/tcp_exchange.ts";
export { UPSTREAM_STRATEGIES, upstreamPool } from "./lib/upstream/upstream_pool.ts";
export type { PoolOptions, UpstreamHealth, UpstreamPool, UpstreamStrategy } from "./lib/upstream/upstream_pool.ts";
export { replyMismatch } from "./lib/upstream/match.ts";
export type { Mismatch } from "./lib/upstream/match.ts";

// Serving.
export { failureCode, failureReply, respond } from "./lib/server/respond.ts";
export type { Report, RespondOptions } from "./lib/server/respond.ts";
export { serveUdp } from "./lib/server/udp_server.ts";
export { batchedUdpAvailable, isBatched, listenBatchedUdp, openReactorSocket } from "./lib/net/ffi_udp.ts";
export type { BatchedDatagram, BatchHandler, DatagramBatch } from "./lib/net/ffi_udp.ts";
export { LIBC_SYMBOLS, UdpReactor } from "./lib/net/udp_reactor.ts";
export type { Libc, UdpReactorOptions, Watcher } from "./lib/net/udp_reactor.ts";
export type { Listener, UdpServer } from "./lib/server/udp_server.ts";
export { serveTcp } from "./lib/server/tcp_server.ts";
export type { TcpServer, TcpServerOptions } from "./lib/server/tcp_server.ts";
export { InFlight } from "./lib/server/in_flight.ts";
export { buildResolver, startServer } from "./lib/server/app.ts";
export type { Resolver, RunningServer, ServerCounters, ServerOptions } from "./lib/server/app.ts";
export { pooledUdpExchange } from "./lib/upstream/udp_pool.ts";
export type { PooledExchange, UdpPoolOptions } from "./lib/upstream/udp_pool.ts";
export { ResponseMemo } from "./lib/resolve/response_memo.ts";
export { answerCache, STALE_TTL } from "./lib/cache/cache_stage.ts";
export type { Cache, CacheCounters, CacheOptions } from "./lib/cache/cache_stage.ts";
export { agedResponse, AnswerCache, answerTtl, cacheKey } from "./lib/cache/cache.ts";
export type { CachedKind, CacheEntry, CacheLimits } from "./lib/cache/cache.ts";
export type { ResponseMemoOptions } from "./lib/resolve/response_memo.ts";
export { formatLogRecord, formatTimestamp } from "./lib/observe/log_format.ts";
