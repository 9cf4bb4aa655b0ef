/**
 * The answer cache (RFC 2308 negative caching, serve-stale per RFC 8767) and its stage.
 * @module
 */
export { answerCache } from "./cache_stage.ts";
export type { Cache, CacheOptions } from "./cache_stage.ts";
export type { CacheCounters, CacheSettings, CacheView } from "./cache_stage.ts";
export type { CacheLimits } from "./cache.ts";
export { agedResponse, cacheKey } from "./cache.ts";
export type { AnswerCache, CacheEntry } from "./cache.ts";
