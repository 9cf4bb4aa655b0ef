/**
 * Receive coalescing for the busy reactor (`--udp-coalesce`): when queries come faster than one at
 * a time, the reactor pauses a moment before its next wait, so that the datagrams arriving
 * meanwhile are read by one recvmmsg(2) and answered by one sendmmsg(2), and the thread sleeps and
 * wakes once for all of them. What a network card's interrupt moderation does for its driver
 * (`ethtool -C rx-usecs`), done where a loopback or virtual interface has none. It trades latency
 * (the pause, under load only) for CPU per answer: at 60,000 QPS on the benchmark machine, a pause
 * of 100 µs took about a third off each answer's CPU and added about 0.13 ms to its latency
 * (bench/results/coalesce_2026-12-06.md).
 * Pure: the reactor applies it (lib/net/udp_reactor.ts).
 * @module
 */

/** The pause asked for by default (µs): about a network card's default interrupt moderation. */
export const COALESCE_US = 100;

/**
 * Queries in one read from which a pause is not worth it: their system calls and wake-up are shared
 * widely already, and a pause would only add latency, which costs rate with a client that waits for
 * answers before it asks more (pausing after reads of up to 63, two event loops as fast as dnsperf
 * asked answered about 10% fewer queries than without pauses; up to 15, 5% more).
 */
export const ENOUGH_READ = 16;

/** What the busy reactor knows when it is about to wait again. */
export interface CoalesceState {
  /** The longest pause wanted (µs); 0 turns coalescing off. */
  readonly limitUs: number;
  /** Datagrams the last dispatch read from listening sockets. */
  readonly lastRead: number;
  /** Whether an upstream reply is awaited: a client waits for it, so it is read as soon as it comes. */
  readonly awaitingReplies: boolean;
  /** How long until the event loop's next turn (ms), which a pause must not put off. */
  readonly untilTurnMs: number;
}

/**
 * How long to pause before the next wait (µs; 0: none). Only while queries come faster than they
 * are answered (the last read took two or more) and not yet in numbers that share the costs well
 * (fewer than {@link ENOUGH_READ}): a lone query is never held, so a lightly loaded server answers
 * as fast as without it, and a server behind never waits.
 */
export function coalescePause(state: CoalesceState): number {
  if (state.limitUs <= 0 || state.awaitingReplies) return 0;
  if (state.lastRead < 2 || state.lastRead >= ENOUGH_READ) return 0;
  return Math.max(0, Math.min(state.limitUs, Math.floor(state.untilTurnMs * 1000)));
}
