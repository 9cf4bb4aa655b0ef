/**
 * Forwarding: the forward stage and its tries (retransmission, EDNS fallback, the cap on queries
 * waiting), upstream pools and health, UDP, TCP, DoT and DoH exchanges, deadlines and the turn
 * clock.
 * @module
 */
export { DEFAULT_MAX_OUTSTANDING, UpstreamsBusy } from "./busy.ts";
export { Deadlines } from "./deadlines.ts";
export { createForwardCounters, forward } from "./forward.ts";
export type { ForwardCounters } from "./forward.ts";
export { tcpExchange } from "./tcp_exchange.ts";
export { tlsExchange } from "./tls_exchange.ts";
export type { TlsExchange, TlsExchangeOptions } from "./tls_exchange.ts";
export { httpsExchange } from "./https_exchange.ts";
export type { HttpsExchange, HttpsExchangeOptions } from "./https_exchange.ts";
export { turnClock } from "./turn_clock.ts";
export { formatAddress, upstreamName, wildcardFor } from "./udp_exchange.ts";
export type { Exchange } from "./udp_exchange.ts";
export type { DropReason, Upstream } from "./udp_exchange.ts";
export { pooledUdpExchange } from "./udp_pool.ts";
export { UPSTREAM_STRATEGIES } from "./upstream_pool.ts";
export type { UpstreamHealth, UpstreamStrategy } from "./upstream_pool.ts";
export { forwardRouter, routedForward } from "./forward_zones.ts";
export type { ForwardRoute, ForwardRouter, ForwardZone } from "./forward_zones.ts";
export { validating } from "./validating.ts";
export type { ValidatingOptions } from "./validating.ts";
