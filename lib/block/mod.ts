/**
 * Blocklists: the list file parser (hosts lines, plain domains, `||domain^`), the set of domains
 * looked up by suffix without allocating, the precedence rule of blocklist and allowlist, the
 * stage that answers blocked names, and the loader of the list files.
 * @module
 */
export { BLOCK_MODES, blockPolicyFromShared, isBlocked, NO_LISTS, shareBlockPolicy } from "./blocklist.ts";
export type { SharedBlockPolicy } from "./blocklist.ts";
export type { Blocklist, BlockMode, BlockPolicy } from "./blocklist.ts";
export { BLOCKED_TTL, blockedResponse, blocking } from "./block_stage.ts";
export type { BlockRequest } from "./block_stage.ts";
export { DomainSet } from "./domain_set.ts";
export type { DomainSetParts } from "./domain_set.ts";
export { listKey, parseList, readListLine, UNREADABLE_SHOWN } from "./list_parser.ts";
export type { ListLine, ParsedList, UnreadableLine } from "./list_parser.ts";
export { listLoader } from "./loader.ts";
export type { ListLoaderOptions, ListSources, LoadedLists } from "./loader.ts";
