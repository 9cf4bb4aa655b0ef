/**
 * The SOA timers a secondary follows (RFC 1035 section 3.3.13, RFC 1034 section 4.3.5), clamped so
 * a typo in the primary's SOA neither floods it nor leaves a zone unchecked for weeks: refresh
 * and retry between 5 seconds and 1 day (NSD's `min-refresh-time`/`max-refresh-time` and
 * `min-retry-time`/`max-retry-time` bound them the same way, there as settings), and expire at
 * least refresh plus retry (RFC 1912 section 2.2), so a zone never expires before it was retried.
 * @module
 */

/** A timer's smallest value, in seconds. */
export const MIN_INTERVAL_S = 5;
/** Refresh and retry's largest value, in seconds. */
export const MAX_INTERVAL_S = 86_400;
/** Before the first copy, retries start at this and double up to {@link MAX_BOOTSTRAP_RETRY_S}. */
export const BOOTSTRAP_RETRY_S = 5;
/** The longest wait between tries before the first copy. */
export const MAX_BOOTSTRAP_RETRY_S = 300;

/** The three SOA timers, in milliseconds, as the secondary uses them. */
export interface SoaTimers {
  readonly refreshMs: number;
  readonly retryMs: number;
  readonly expireMs: number;
}

function clamp(seconds: number): number {
  return Math.min(MAX_INTERVAL_S, Math.max(MIN_INTERVAL_S, seconds));
}

/** The timers of an SOA, clamped. */
export function soaTimers(
  soa: { readonly refresh: number; readonly retry: number; readonly expire: number },
): SoaTimers {
  const refresh = clamp(soa.refresh);
  const retry = clamp(soa.retry);
  const expire = Math.max(soa.expire, refresh + retry);
  return { refreshMs: refresh * 1000, retryMs: retry * 1000, expireMs: expire * 1000 };
}

/** How long to wait after the `failures`th failed try when no copy is held (5, 10, 20... up to 300 s). */
export function bootstrapRetryMs(failures: number): number {
  const seconds = BOOTSTRAP_RETRY_S * 2 ** Math.min(Math.max(failures - 1, 0), 10);
  return Math.min(seconds, MAX_BOOTSTRAP_RETRY_S) * 1000;
}
