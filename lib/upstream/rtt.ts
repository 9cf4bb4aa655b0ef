/**
 * How long to wait for an upstream before asking again: the retransmission timeout of RFC 6298
 * (smoothed round-trip time plus four times its mean deviation), from replies timed on the
 * upstream's own tries. RFC 1035 section 4.2.1 asks for a retransmission interval "based on prior
 * statistics"; the bounds and the first guess follow unbound's infra cache.
 * @module
 */

/** The timeout before any reply was timed: unbound's 376 ms, a guess that suits most networks. */
export const INITIAL_RTO_MS = 376;

/** The shortest timeout: below this, a reply a little late on a loaded host would be asked again. */
export const MIN_RTO_MS = 50;

/** The longest timeout, as in unbound (a try is cut to the query's deadline anyway). */
export const MAX_RTO_MS = 120_000;

/** The round-trip estimate of one upstream; the pool that owns it updates it in place. */
export interface RttState {
  /** Smoothed round-trip time in ms (gain 1/8); undefined before the first timed reply. */
  srtt: number | undefined;
  /** Its mean deviation in ms (gain 1/4). */
  rttvar: number;
  /** The retransmission timeout now in force, in ms: backed off after a try timed out. */
  rto: number;
}

/** Keeps `ms` within [{@link MIN_RTO_MS}, {@link MAX_RTO_MS}]. */
function clampRto(ms: number): number {
  return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, ms));
}

/** Takes in a reply that took `sample` ms (RFC 6298 section 2); a new sample ends any back-off. */
export function addSample(state: RttState, sample: number): void {
  if (state.srtt === undefined) {
    state.srtt = sample;
    state.rttvar = sample / 2;
  } else {
    state.rttvar += (Math.abs(state.srtt - sample) - state.rttvar) / 4;
    state.srtt += (sample - state.srtt) / 8;
  }
  state.rto = clampRto(state.srtt + 4 * state.rttvar);
}

/**
 * Backs the timeout off after a try that waited `triedMs` and got no reply: doubled (RFC 6298
 * section 5.5). The try's own timeout doubles, not the current one, so many queries timing out
 * at once back off by one step, not one step each (unbound's `rtt_lost`); a timeout that a newer
 * reply has lowered meanwhile stays as it is.
 */
export function addLoss(state: RttState, triedMs: number): void {
  if (state.rto < triedMs) return;
  state.rto = Math.max(state.rto, clampRto(triedMs * 2));
}
