/**
 * Which upstream to ask first, and which to leave alone for a while: health with exponential
 * back-off for upstreams that keep failing, and three orders (sequential, random, fastest by
 * smoothed RTT). State lives in the pool a forwarder owns; time and chance are injected.
 * @module
 */

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
  /** The health of an upstream. */
  health(upstream: T): UpstreamHealth;
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
  // Mutable inside: a healthy upstream's round-trip time is updated in place on every answer.
  const states = new Map<T, { -readonly [K in keyof UpstreamHealth]: UpstreamHealth[K] }>(
    upstreams.map((upstream) => [upstream, { failures: 0, skipUntil: 0, srtt: undefined }]),
  );
  const state = (upstream: T) => states.get(upstream) ?? { failures: 0, skipUntil: 0, srtt: undefined };

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
      const previous = state(upstream);
      const srtt = previous.srtt === undefined ? rttMs : previous.srtt + (rttMs - previous.srtt) / 8;
      // A healthy upstream stays healthy: its state changes in place, with no new object per answer.
      if (previous.failures === 0 && previous.skipUntil === 0 && states.get(upstream) === previous) {
        previous.srtt = srtt;
        return;
      }
      states.set(upstream, { failures: 0, skipUntil: 0, srtt });
    },
    failed(upstream) {
      const previous = state(upstream);
      const failures = previous.failures + 1;
      const over = failures - failuresBeforeBackoff;
      const skipUntil = over < 0 ? 0 : now() + Math.min(maxBackoffMs, backoffMs * 2 ** over);
      states.set(upstream, { ...previous, failures, skipUntil });
    },
    health: (upstream) => ({ ...state(upstream) }), // a snapshot: later answers do not change it
  };
}
