/**
 * Policy: who may ask and who may recurse (access control), and how much an abuser gets back.
 * Layer 3, beside `resolve/` and `block/`: its hooks and stages are typed on their own shapes.
 * @module
 */
export { parsePrefix, PrefixError, PrefixSet, prefixWithin } from "./acl_prefix.ts";
export type { Prefix } from "./acl_prefix.ts";
export {
  accessCheck,
  accessControl,
  DEFAULT_RECURSION_PREFIXES,
  publicRecursion,
  recursionCheck,
  recursionGate,
} from "./acl.ts";
export type { AccessRules, ClientContext, RecursionRules } from "./acl.ts";
export { RateDecision, RateLimiter, slipResponse, WAYS } from "./rrl.ts";
export type { RateLimitOptions } from "./rrl.ts";
export { siphash24, siphash24Into } from "./siphash.ts";
export {
  BADCOOKIE,
  COOKIE_OPTION,
  cookieLengthValid,
  cookieOption,
  cookieScratch,
  findCookie,
  findOpt,
  serverCookie,
  serverCookieValid,
  withOption,
  writeServerCookie,
} from "./cookie.ts";
export type { CookieScratch, CookieSpan, OptSpan } from "./cookie.ts";
export { addressOctets, CookieStatus, SECRET_ROTATION_MS, ServerCookies } from "./cookie_server.ts";
export type { CookieCheck, CookieOptions } from "./cookie_server.ts";
export { UpstreamCookie } from "./cookie_client.ts";
export type { CookieMismatch } from "./cookie_client.ts";
