/**
 * Which upstream to ask first, and which to leave alone for a while: health with exponential
 * back-off for upstreams that keep failing, three orders (sequential, random, fastest by
 * smoothed RTT), each upstream's retransmission timeout, and whether it takes EDNS. State lives in
 * the pool a forwarder owns, one record per configured upstream; time and chance are injected.
 * @module
 */
import { addLoss, addSample, INITIAL_RTO_MS, type RttState } from "./rtt.ts";

/** How the next upstream is chosen. */
export type UpstreamStrategy = "sequential" | "random" | "fastest";

/** The strategies, for the CLI. */
export const UPSTREAM_STRATEGIES: readonly UpstreamStrategy[] = ["sequential", "random", "fastest"];

/** What the pool knows of one upstream. */
export interface UpstreamHealth {
  /** Failures in a row. */
  readonly failures: number;
  /** Skipped until this time (ms, the injected clock) after failing again and again. */
  readonly skipUntil: number;
  /** Smoothed round-trip time in ms (RFC 6298 style, gain 1/8); undefined before the first answer. */
  readonly srtt: number | undefined;
  /** The mean deviation of the round-trip time in ms (gain 1/4). */
  readonly rttvar: number;
  /** How long a try waits before the query is asked again (RFC 6298 RTO, backed off on timeouts). */
  readonly rto: number;
  /** Queries go to it without EDNS until this time (ms, the injected clock); 0 when it takes EDNS. */
  readonly noEdnsUntil: number;
}

/** Options for {@link upstreamPool}. */
export interface PoolOptions {
  /** The order to try healthy upstreams in. */
  readonly strategy?: UpstreamStrategy;
  /** Failures in a row before an upstream is backed off. */
  readonly failuresBeforeBackoff?: number;
  /** The first back-off; it doubles with each further failure. */
  readonly backoffMs?: number;
  /** The longest back-off. */
  readonly maxBackoffMs?: number;
  /** Milliseconds on a monotonic clock. */
  readonly now?: () => number;
  /** A number in [0, 1), for the random strategy. */
  readonly random?: () => number;
}

/** The pool's view of a set of upstreams. */
export interface UpstreamPool<T> {
  /**
   * The upstreams to try, in order: the healthy ones by the strategy, then those backing off
   * (soonest back first), so a query is never failed without asking anyone. `time`: now on the
   * pool's clock, when the caller has just read it.
   */
  order(time?: number): readonly T[];
  /** Records an answer and its round-trip time. */
  succeeded(upstream: T, rttMs: number): void;
  /** Records a failure (timeout, network error, SERVFAIL, REFUSED, bad reply). */
  failed(upstream: T): void;
  /** Records that a try which waited `triedMs` got no reply: the timeout backs off. */
  timedOut(upstream: T, triedMs: number): void;
  /** How long a try at `upstream` should wait before the query is asked again, in ms. */
  rto(upstream: T): number;
  /** Sends `upstream` queries without EDNS until `until` (ms, the pool's clock). */
  avoidEdns(upstream: T, until: number): void;
  /** Whether queries to `upstream` go without EDNS at `time`. */
  avoidsEdns(upstream: T, time: number): boolean;
  /** The health of an upstream. */
  health(upstream: T): UpstreamHealth;
}

/** What the pool keeps per upstream, changed in place (no new object per answer). */
interface State extends RttState {
  failures: number;
  skipUntil: number;
  noEdnsUntil: number;
}

function fresh(): State {
  return { failures: 0, skipUntil: 0, srtt: undefined, rttvar: 0, rto: INITIAL_RTO_MS, noEdnsUntil: 0 };
}

/** Makes a pool over `upstreams`. */
export function upstreamPool<T>(upstreams: readonly T[], options: PoolOptions = {}): UpstreamPool<T> {
  const {
    strategy = "sequential",
    failuresBeforeBackoff = 3,
    backoffMs = 1000,
    maxBackoffMs = 60_000,
    now = () => performance.now(),
    random = Math.random,
  } = options;
  // One record per upstream, made up front: the set of upstreams is fixed, so this stays bounded.
  const states = new Map<T, State>(upstreams.map((upstream) => [upstream, fresh()]));
  const UNKNOWN: Readonly<State> = fresh();
  /** To read: an upstream the pool was not made with reads as a clean slate, and is not kept. */
  const state = (upstream: T): Readonly<State> => states.get(upstream) ?? UNKNOWN;
  /** To change: kept from then on (only a caller's stray value is not there already). */
  const mutable = (upstream: T): State => {
    let found = states.get(upstream);
    if (found === undefined) states.set(upstream, found = fresh());
    return found;
  };

  function ordered(healthy: T[]): T[] {
    if (strategy === "random") {
      for (let i = healthy.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [healthy[i], healthy[j]] = [healthy[j]!, healthy[i]!];
      }
    } else if (strategy === "fastest") {
      // An upstream never timed sorts first, so each one gets measured.
      healthy.sort((a, b) => (state(a).srtt ?? 0) - (state(b).srtt ?? 0));
    }
    return healthy;
  }

  return {
    order(time = now()) {
      // The common case, every upstream healthy and tried in the configured order: no new array.
      if (strategy === "sequential" && upstreams.every((upstream) => state(upstream).skipUntil <= time)) {
        return upstreams;
      }
      const healthy = upstreams.filter((upstream) => state(upstream).skipUntil <= time);
      const resting = upstreams.filter((upstream) => state(upstream).skipUntil > time)
        .sort((a, b) => state(a).skipUntil - state(b).skipUntil);
      return [...ordered(healthy), ...resting];
    },
    succeeded(upstream, rttMs) {
      const current = mutable(upstream);
      current.failures = 0;
      current.skipUntil = 0;
      addSample(current, rttMs);
    },
    failed(upstream) {
      const current = mutable(upstream);
      const over = ++current.failures - failuresBeforeBackoff;
      current.skipUntil = over < 0 ? 0 : now() + Math.min(maxBackoffMs, backoffMs * 2 ** over);
    },
    timedOut: (upstream, triedMs) => addLoss(mutable(upstream), triedMs),
    rto: (upstream) => state(upstream).rto,
    avoidEdns(upstream, until) {
      mutable(upstream).noEdnsUntil = until;
    },
    avoidsEdns: (upstream, time) => state(upstream).noEdnsUntil > time,
    health: (upstream) => ({ ...state(upstream) }), // a snapshot: later answers do not change it
  };
}
