/**
 * The statistics line dnsd logs on SIGUSR1, as dnsmasq does: what the running server has counted
 * since it started. Pure: counters in, one line out.
 * @module
 */
import type { RunningServer } from "./app.ts";

/** The parts of a running server the line reads. */
export type StatisticsSource = Pick<RunningServer, "counters" | "cache" | "tcpConnections" | "observed">;

/**
 * One line of the server's counters: the answer cache (size, hits, misses), forwarded queries and
 * their outcomes, dropped upstream datagrams, and the TCP connections open now.
 * @example formatStatistics(server)
 * // "Statistics: cache size 12, hits 40, misses 12; forwarded 12, answered 11, timeouts 1, ..."
 */
export function formatStatistics(server: StatisticsSource): string {
  const c = server.counters;
  const cache = server.cache
    ? `cache size ${server.cache.size}, hits ${server.cache.counters.hits}, misses ${server.cache.counters.misses}, ` +
      `stale served ${server.cache.counters.stale}`
    : "cache off";
  // With --metrics, the metrics' own totals too: the same counters /metrics shows.
  const totals = server.observed?.();
  const observed = totals
    ? `; queries ${totals.queries} (${
      Object.entries(totals.bySource).map(([source, count]) => `${source} ${count}`).join(", ")
    }), rate limited ${totals.rateLimited}`
    : "";
  return `Statistics: ${cache}; forwarded ${c.forwarded}, answered ${c.answered}, ` +
    `upstream timeouts ${c.timeouts}, upstream failures ${c.failures}, malformed replies ${c.malformed}, ` +
    `busy ${c.busy}, dropped upstream datagrams ${c.dropped}; TCP connections open ${server.tcpConnections()}` +
    observed;
}
