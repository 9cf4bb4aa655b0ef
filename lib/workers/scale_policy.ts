/**
 * When `--workers` has one more event loop take UDP queries, and when one fewer: a pure function
 * of how busy the loops taking queries were over the last samples (each a second). One loop
 * answers at the least CPU per answer: its batches are fuller and nothing crosses threads (on two
 * cores, two loops at a fixed 40,000 QPS spent 1.25 to 1.35 times one's CPU per answer). So more
 * take queries only while the busiest is near full, and give them back once the rest could carry
 * the load at half that.
 * @module
 */

/** The thresholds (see the module documentation). */
export interface ScalePolicy {
  /**
   * The share of a second (0 to 1) the busiest loop must run or wait to run (lib/net/thread_cpu.ts)
   * for one more to start taking queries.
   */
  readonly busy: number;
  /** Samples in a row at or over `busy` before one more loop takes queries. */
  readonly upAfter: number;
  /** Samples in a row at which one loop fewer would each be busy at most `busy / 2` before one gives its queries back. */
  readonly downAfter: number;
}

/** dnsd's: one more loop after 2 s at 70% or more, one fewer after 10 s at which the rest would be at 35% or less. */
export const SCALE_POLICY: ScalePolicy = { busy: 0.7, upAfter: 2, downAfter: 10 };

/** How many loops take queries, and how long the load has been high or low. */
export interface ScaleState {
  readonly active: number;
  /** Samples in a row with the busiest loop at or over the threshold. */
  readonly hot: number;
  /** Samples in a row at which one loop fewer would do. */
  readonly cool: number;
}

/** The state dnsd starts in: the main thread alone. */
export const FIRST_SCALE: ScaleState = { active: 1, hot: 0, cool: 0 };

/**
 * The state after one sample: `busy` holds the busy share of each loop taking queries (a loop
 * not measured this time is left out: no loop fewer on that sample), `max` is how many loops
 * there may be.
 */
export function nextScale(
  state: ScaleState,
  busy: readonly number[],
  max: number,
  policy: ScalePolicy = SCALE_POLICY,
): ScaleState {
  if (busy.length === 0) return state;
  const busiest = Math.max(...busy);
  const total = busy.reduce((sum, share) => sum + share, 0);
  const hot = busiest >= policy.busy ? state.hot + 1 : 0;
  // Fewer loops only on a sample that measured every one of them.
  const measuredAll = busy.length === state.active;
  const cool = state.active > 1 && measuredAll && total / (state.active - 1) <= policy.busy / 2
    ? state.cool + 1
    : 0;
  if (hot >= policy.upAfter && state.active < max) return { active: state.active + 1, hot: 0, cool: 0 };
  if (cool >= policy.downAfter) return { active: state.active - 1, hot: 0, cool: 0 };
  return { active: state.active, hot, cool };
}
