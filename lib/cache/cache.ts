/**
 * The answer cache's store: entries keyed by question and the DO/CD bits, with TTLs counted down
 * from when they were stored, bounded by an LRU order. Pure: the clock is passed in.
 * @module
 */
import {
  type Aging,
  type ClientQuery,
  fnv1aText,
  type Message,
  nameKey,
  negativeTtl,
  type Question,
  Rcode,
  receivedTtl,
  type ResourceRecord,
  servedTtl,
  type WireAnswer,
  WireResponse,
} from "../proto/mod.ts";

/** What a cache entry holds: an answer, or a resolution failure (RFC 9520). */
export type CachedKind = "answer" | "failure";

/** One cache entry. */
export interface CacheEntry {
  /** An upstream answer (positive or negative), or a failure to remember briefly. */
  readonly kind: CachedKind;
  /** The response as the upstream gave it (ID and question are the client's on the way out). */
  readonly response: Message;
  /**
   * For an answer kept as the upstream's bytes: those (and `restoreCase`), which is all the entry
   * holds of it; `response` is then made from them when read. Null for a decoded answer.
   */
  readonly kept: WireAnswer | null;
  /** With `kept`: put the question's case back on owners spelling it. */
  readonly restoreCase: boolean;
  /** For a failure that was an error rather than an upstream SERVFAIL: the error, to fail the same way. */
  readonly error?: unknown;
  /** When it was stored, in ms on the injected clock. */
  readonly storedAt: number;
  /** Its TTL in seconds, after the min/max clamps. */
  readonly ttl: number;
  /** How often it has been served. */
  hits: number;
  /** Whether a background refresh is running for it. */
  refreshing: boolean;
  /**
   * After every upstream failed for this expired answer: serve it stale without asking again until
   * then (the failure recheck timer, RFC 8767 section 5), in ms on the injected clock.
   */
  retryAfter?: number;
}

/** Cache limits (seconds, except the size). */
export interface CacheLimits {
  /** Entries at most; 0 turns the cache off. */
  readonly maxEntries: number;
  /** The least TTL an answer is kept for. */
  readonly minTtl: number;
  /** The most TTL an answer is kept for. */
  readonly maxTtl: number;
  /** How long a failure (SERVFAIL, timeout) is remembered: at least 1 s (RFC 9520 section 3.2). */
  readonly servfailTtl: number;
  /** How long past expiry an answer may still be served stale (RFC 8767); 0 keeps nothing past expiry. */
  readonly staleMax: number;
}

/** The cache key: name (case folded), type, class, and the DO and CD bits that change the answer. */
export function cacheKey(question: Question, dnssecOk: boolean, checkingDisabled: boolean): string {
  return `${nameKey(question.name)}|${question.type}|${question.class}|${dnssecOk ? 1 : 0}${
    checkingDisabled ? 1 : 0
  }`;
}

function minTtlOf(records: readonly ResourceRecord[]): number {
  let least = Infinity;
  for (const record of records) least = Math.min(least, receivedTtl(record.ttl));
  return least;
}

/**
 * How long an upstream answer may be cached, in seconds, before clamps; null when it must not be.
 * Positive: the least TTL of the answer and authority records. Negative (NXDOMAIN, NODATA):
 * min(SOA TTL, SOA MINIMUM) from the authority SOA, and not at all without one (RFC 2308 section 5).
 * A TTL with the top bit set counts as 0 (RFC 2181 section 8), so such an answer is not kept.
 */
export function answerTtl(response: Message): number | null {
  const wire = WireResponse.of(response);
  if (wire) return wire.cacheTtl;
  if (response.truncated) return null; // never cache a partial answer
  const negative = response.rcode === Rcode.NXDOMAIN ||
    (response.rcode === Rcode.NOERROR && response.answers.length === 0);
  if (negative) {
    const soa = response.authorities.find((record) => record.data.type === "SOA");
    if (!soa || soa.data.type !== "SOA") return null;
    return Math.min(
      negativeTtl(receivedTtl(soa.ttl), receivedTtl(soa.data.minimum)),
      minTtlOf(response.answers),
    );
  }
  if (response.rcode !== Rcode.NOERROR) return null;
  return Math.min(minTtlOf(response.answers), minTtlOf(response.authorities));
}

/**
 * `records` with each TTL replaced by `ttlOf(record)`: the same array when none changes, and only
 * the records that change copied (a fresh answer is served as stored, with nothing allocated).
 */
function withTtls(
  records: readonly ResourceRecord[],
  ttlOf: (record: ResourceRecord) => number,
): readonly ResourceRecord[] {
  let changed: ResourceRecord[] | null = null;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const ttl = ttlOf(record);
    if (ttl !== record.ttl) (changed ??= records.slice(0, i)).push({ ...record, ttl });
    else changed?.push(record);
  }
  return changed ?? records;
}

/**
 * The cached response with every TTL counted down by the whole seconds since it was stored (RFC
 * 1035 section 6.1.3: a cached TTL is what is left), or set to `staleTtl` for a stale answer. An
 * answer kept as bytes is made for `request` when given (its ID, flags, question and OPT record),
 * as `forRequest` would, in one step.
 */
export function agedResponse(
  entry: CacheEntry,
  now: number,
  staleTtl?: number,
  request?: ClientQuery,
): Message {
  const elapsed = Math.floor((now - entry.storedAt) / 1000);
  const aging: Aging = staleTtl === undefined
    ? { entryTtl: entry.ttl, elapsed }
    : { entryTtl: entry.ttl, elapsed, staleTtl };
  // Kept as bytes: aged as they are written.
  if (entry.kept) {
    const template = request ?? WireResponse.alone(entry.kept, entry.restoreCase);
    return new WireResponse(template, entry.kept, entry.restoreCase, aging);
  }
  const response = entry.response;
  const clampTo = (records: readonly ResourceRecord[], raise: boolean) =>
    withTtls(records, (record) => servedTtl(record.ttl, aging, raise));
  return {
    ...response,
    answers: clampTo(response.answers, true),
    authorities: clampTo(response.authorities, true),
    additionals: clampTo(response.additionals, false),
  };
}

/**
 * An entry as the store holds it: with its key, to tell apart keys that hash alike. An upstream
 * answer kept as bytes is held as those and two numbers' worth of fields, not as the response made
 * for the first client: a full cache is 100,000 of these, and every object one holds is copied by
 * the young-generation collector as it ages and walked by every full collection after.
 */
class Slot implements CacheEntry {
  readonly key: string;
  readonly kind: CachedKind;
  readonly kept: WireAnswer | null;
  readonly restoreCase: boolean;
  readonly error?: unknown;
  readonly storedAt: number;
  readonly ttl: number;
  hits = 0;
  refreshing = false;
  retryAfter?: number;
  readonly #response: Message | null;

  constructor(
    key: string,
    kind: CachedKind,
    failure: { readonly response: Message; readonly error?: unknown },
    storedAt: number,
    ttl: number,
  ) {
    this.key = key;
    this.kind = kind;
    // A failure keeps its response as it is: few are held, and only briefly.
    const wire = kind === "answer" ? WireResponse.of(failure.response) : null;
    this.kept = wire ? wire.kept : null;
    this.restoreCase = wire ? wire.restoresCase : false;
    this.#response = wire ? null : failure.response;
    if (failure.error !== undefined) this.error = failure.error;
    this.storedAt = storedAt;
    this.ttl = ttl;
  }

  get response(): Message {
    return this.#response ?? WireResponse.alone(this.kept!, this.restoreCase);
  }
}

/**
 * FNV-1a over a key, cut to 30 bits so it stays a small integer. A Map keyed by it compares
 * numbers in its own table; keyed by strings, every probe reads a key string from wherever it
 * lies in memory, and a full cache makes those reads the largest cost of a miss.
 */
export function slotOf(key: string): number {
  return fnv1aText(key) & 0x3fffffff;
}

/**
 * A bounded map from key to entry, least recently used evicted first. Two keys whose slots collide
 * share a place: the later one evicts the other, as a full entry would. A full cache of 100,000
 * entries holds about 5 fewer for it, one of 1,000,000 a few hundred fewer (birthday bound, 2^30).
 */
export class AnswerCache {
  readonly #entries = new Map<number, Slot>();
  readonly #limits: CacheLimits;
  #oldest: MapIterator<number> = this.#entries.keys();
  /** Entries evicted to make room. */
  evictions = 0;

  /**
   * Makes an empty cache.
   * @param limits the size and TTL limits
   */
  constructor(limits: CacheLimits) {
    this.#limits = limits;
  }

  /** The limits in force. */
  get limits(): CacheLimits {
    return this.#limits;
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every entry (the upstreams changed). */
  clear(): void {
    this.#entries.clear();
    this.#oldest = this.#entries.keys();
  }

  /**
   * The entry for `key` as {@link get} would find it, without changing anything: no LRU move, and
   * an entry too old is left for `get` to drop (the explain endpoint reads the cache this way).
   */
  peek(key: string, now: number): { entry: CacheEntry; stale: boolean; remaining: number } | undefined {
    const entry = this.#entries.get(slotOf(key));
    if (!entry || entry.key !== key) return undefined;
    const remaining = entry.ttl - (now - entry.storedAt) / 1000;
    const keepFor = entry.kind === "answer" ? this.#limits.staleMax : 0;
    if (remaining <= -keepFor || (remaining <= 0 && keepFor === 0)) return undefined;
    return { entry, stale: remaining <= 0, remaining };
  }

  /**
   * Drops every entry whose name is `name` or below it (the admin API's flush of one name): one
   * pass over the entries, which is rare and bounded by the cache's size.
   * @param name a name in any case, with or without the root dot; the root drops everything
   * @returns how many entries were dropped
   */
  dropAtOrBelow(name: string): number {
    const key = nameKey(name);
    if (key === "") {
      const count = this.#entries.size;
      this.clear();
      return count;
    }
    const suffix = `.${key}`;
    let dropped = 0;
    for (const [slot, entry] of this.#entries) {
      // The key starts with the folded name, up to its first "|" (see cacheKey).
      const owner = entry.key.slice(0, entry.key.indexOf("|"));
      if (owner === key || owner.endsWith(suffix)) {
        this.#entries.delete(slot);
        dropped++;
      }
    }
    if (dropped > 0) this.#oldest = this.#entries.keys();
    return dropped;
  }

  /**
   * The entry for `key`: fresh (`stale` false), or expired but within `staleMax` (`stale` true),
   * marked most recently used; undefined when absent or too old (then it is dropped). `slot` is
   * {@link slotOf} the key, for a caller that has it already (as for the methods that store).
   */
  get(
    key: string,
    now: number,
    slot: number = slotOf(key),
  ): { entry: CacheEntry; stale: boolean; remaining: number } | undefined {
    const entry = this.#entries.get(slot);
    if (!entry || entry.key !== key) return undefined;
    const remaining = entry.ttl - (now - entry.storedAt) / 1000;
    const keepFor = entry.kind === "answer" ? this.#limits.staleMax : 0;
    if (remaining <= -keepFor || (remaining <= 0 && keepFor === 0)) {
      this.#entries.delete(slot);
      return undefined;
    }
    this.#entries.delete(slot);
    this.#entries.set(slot, entry);
    return { entry, stale: remaining <= 0, remaining };
  }

  /** Stores an upstream answer; returns the entry, or null when it may not be cached. */
  putAnswer(key: string, response: Message, now: number, slot: number = slotOf(key)): CacheEntry | null {
    const ttl = answerTtl(response);
    if (ttl === null || this.#limits.maxEntries <= 0) return null;
    const clamped = Math.min(this.#limits.maxTtl, Math.max(this.#limits.minTtl, ttl));
    if (clamped <= 0) return null;
    const entry = new Slot(key, "answer", { response }, now, clamped);
    this.#put(entry, slot);
    return entry;
  }

  /**
   * Remembers a failure for the SERVFAIL TTL (RFC 9520), so a dead upstream is not hammered: an
   * upstream's SERVFAIL response, or the error the forwarder threw.
   */
  putFailure(
    key: string,
    failure: { readonly response: Message; readonly error?: unknown },
    now: number,
    slot: number = slotOf(key),
  ): void {
    // An answer, even one only good for serving stale, is worth more than a failure: keep it.
    const existing = this.#entries.get(slot);
    if (existing?.key === key && existing.kind === "answer") return;
    this.#put(new Slot(key, "failure", failure, now, this.#limits.servfailTtl), slot);
  }

  #put(entry: Slot, hash: number): void {
    if (this.#limits.maxEntries <= 0) return;
    this.#entries.delete(hash);
    this.#entries.set(hash, entry);
    while (this.#entries.size > this.#limits.maxEntries) {
      // A Map iterates in insertion order and a get() moves an entry to the end, so the first key
      // is the least recently used. One long-lived iterator: a fresh one would walk over every
      // deleted slot at the front each time, which turns eviction quadratic.
      let next = this.#oldest.next();
      if (next.done) {
        this.#oldest = this.#entries.keys();
        next = this.#oldest.next();
      }
      this.#entries.delete(next.value as number);
      this.evictions++;
    }
  }
}
