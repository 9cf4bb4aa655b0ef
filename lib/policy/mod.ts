/**
 * Policy: who gets answers and how many. Response rate limiting per client prefix (lib/policy/rrl.ts).
 * @module
 */
export { RateDecision, RateLimiter, slipResponse, WAYS } from "./rrl.ts";
export type { RateLimitOptions } from "./rrl.ts";
export { siphash24 } from "./siphash.ts";
