/**
 * dnsd as a library: the wire codec, the resolver stages and the server, each usable alone.
 *
 * @example Start a server on an ephemeral port
 * ```ts
 * import { startServer } from "./mod.ts";
 * const server = startServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   upstreams: [{ hostname: "127.0.0.1", port: 5353 }],
 *   timeoutMs: 2000,
 *   mappings: { "nas.home": "192.168.1.10" },
 * });
 * server.close();
 * await server.finished;
 * ```
 * @module
 */

// The codec: bytes <-> typed messages.
export { decodeMessage, encodeMessage, HEADER_SIZE } from "./lib/codec.ts";
export { Opcode, Rcode, RRClass, RRType, typeName } from "./lib/types.ts";
export type { Edns, EdnsOption, Message, Question, RData, ResourceRecord } from "./lib/types.ts";
export { ByteArena } from "./lib/arena.ts";
export { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./lib/ip.ts";
export { nameKey } from "./lib/name.ts";

// Errors, each with a stable reason or class.
export { DataError, DecodeError, EncodeError, UpstreamError, UpstreamTimeout } from "./lib/errors.ts";
export type { DecodeReason, EncodeReason } from "./lib/errors.ts";

// Building answers and composing the resolver.
export { headerOnlyReply, reply, responseEdns, UDP_PAYLOAD_SIZE, udpLimit } from "./lib/message.ts";
export { chain, logQueries, refuse, requireRecursion } from "./lib/resolver.ts";
export type { Resolve, Stage } from "./lib/resolver.ts";
export { localAnswers } from "./lib/local.ts";
export { createStore } from "./lib/store.ts";
export type { Lookup, RecordStore } from "./lib/store.ts";
export { MAPPING_TTL, mappingRecords } from "./lib/static_map.ts";
export type { Mappings } from "./lib/static_map.ts";

// Forwarding.
export { createForwardCounters, forward, randomId } from "./lib/forward.ts";
export type { ForwardCounters, ForwardOptions, UpstreamExchange } from "./lib/forward.ts";
export { formatAddress, udpExchange } from "./lib/udp_exchange.ts";
export type { Datagram, DropReason, Exchange, UdpExchangeOptions, Upstream } from "./lib/udp_exchange.ts";
export { replyMismatch } from "./lib/match.ts";
export type { Mismatch } from "./lib/match.ts";

// Serving.
export { rcodeFor, respond } from "./lib/respond.ts";
export type { Report, RespondOptions } from "./lib/respond.ts";
export { serveUdp } from "./lib/server.ts";
export type { Listener } from "./lib/server.ts";
export { buildResolver, startServer } from "./lib/app.ts";
export type { RunningServer, ServerCounters, ServerOptions } from "./lib/app.ts";
export { formatLogRecord, formatTimestamp } from "./lib/log_format.ts";
