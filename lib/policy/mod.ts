/**
 * Policy: who gets answers and how many. Response rate limiting per client prefix (lib/policy/rrl.ts).
 * @module
 */
export { RateDecision, RateLimiter, slipResponse, WAYS } from "./rrl.ts";
export type { RateLimitOptions } from "./rrl.ts";
export { siphash24 } from "./siphash.ts";
export {
  BADCOOKIE,
  COOKIE_OPTION,
  cookieLengthValid,
  cookieOption,
  findCookie,
  findOpt,
  serverCookie,
  serverCookieValid,
  withOption,
} from "./cookie.ts";
export type { CookieSpan, OptSpan } from "./cookie.ts";
export { addressOctets, CookieStatus, SECRET_ROTATION_MS, ServerCookies } from "./cookie_server.ts";
export type { CookieCheck, CookieOptions } from "./cookie_server.ts";
export { UpstreamCookie } from "./cookie_client.ts";
export type { CookieMismatch } from "./cookie_client.ts";
