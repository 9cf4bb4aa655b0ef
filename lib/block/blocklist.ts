/**
 * The lists in force and the one rule that decides whether a name is blocked: the most specific
 * entry wins, and the allowlist wins a tie. So `||example.com^` on the allowlist unblocks
 * `example.com` and everything below it, except a name the blocklist lists more specifically
 * (`tracker.example.com`). Immutable: a reload makes a new one and swaps it whole.
 * @module
 */
import { DomainSet, type DomainSetParts } from "./domain_set.ts";

/** How a blocked name is answered. */
export type BlockMode = "null" | "nxdomain" | "refused";

/** The modes, in the order `--help` lists them (the first is the default). */
export const BLOCK_MODES: readonly BlockMode[] = ["null", "nxdomain", "refused"];

/** The blocked and allowed domains, each standing for itself and every name below it. */
export interface Blocklist {
  /** From `--blocklist` files. */
  readonly blocked: DomainSet;
  /** From `--allowlist` files. */
  readonly allowed: DomainSet;
}

/** The lists and how to answer what they block: what the blocking stage reads for each query. */
export interface BlockPolicy {
  /** The lists. */
  readonly lists: Blocklist;
  /** How a blocked name is answered. */
  readonly mode: BlockMode;
}

/** Lists that block nothing. */
export const NO_LISTS: Blocklist = Object.freeze({ blocked: new DomainSet(), allowed: new DomainSet() });

/**
 * Whether `name` is blocked: some blocklist entry is `name` or above it, and no allowlist entry
 * is as specific or more.
 * @param name a name as asked (any case, trailing dot optional)
 * @example
 * ```ts
 * const lists = { blocked: new DomainSet(["ads.example"]), allowed: new DomainSet(["ok.ads.example"]) };
 * isBlocked(lists, "x.ADS.example"); // true
 * isBlocked(lists, "ok.ads.example"); // false
 * ```
 */
export function isBlocked(lists: Blocklist, name: string): boolean {
  const blocked = lists.blocked.longestSuffix(name);
  // Most names are on no list: one pass over the name, and the allowlist is not asked.
  if (blocked < 0) return false;
  return lists.allowed.longestSuffix(name) < blocked;
}

/** A {@link BlockPolicy} as posted to a worker: the lists' arrays in shared memory, not copied. */
export interface SharedBlockPolicy {
  readonly blocked: DomainSetParts;
  readonly allowed: DomainSetParts;
  readonly mode: BlockMode;
}

/** `policy` ready to post to a worker (its lists move into shared memory the first time). */
export function shareBlockPolicy(policy: BlockPolicy): SharedBlockPolicy {
  return { blocked: policy.lists.blocked.share(), allowed: policy.lists.allowed.share(), mode: policy.mode };
}

/** The policy a worker reads, over the shared lists of `shared`. */
export function blockPolicyFromShared(shared: SharedBlockPolicy): BlockPolicy {
  return {
    lists: { blocked: DomainSet.fromParts(shared.blocked), allowed: DomainSet.fromParts(shared.allowed) },
    mode: shared.mode,
  };
}
