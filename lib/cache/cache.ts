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
import { ByteArena } from "../proto/mod.ts";
import { BlobPages } from "./blob_pages.ts";
import { EntryTable, FAILURE, REFRESHING } from "./entry_table.ts";
import { SlotIndex } from "./slot_index.ts";
import {
  blobHasKey,
  blobKeyAtOrBelow,
  blobLength,
  blobRestoresCase,
  readBlob,
  writeBlob,
} from "./wire_blob.ts";

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
  retryAfter: number | undefined;
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

/** An entry the table's row cannot hold as a blob: a failure, a decoded answer, an odd key. */
interface Held {
  readonly key: string;
  readonly response: Message | null;
  readonly kept: WireAnswer | null;
  readonly restoreCase: boolean;
  readonly error?: unknown;
}

/**
 * An entry as {@link AnswerCache} hands it out: what it held when looked up, with the counters and
 * marks that change (hits, refreshing, retryAfter) read from and written to its row while the row
 * still holds it. An entry gone since keeps what it had and takes no more writes.
 */
class EntryView implements CacheEntry {
  readonly kind: CachedKind;
  readonly kept: WireAnswer | null;
  readonly restoreCase: boolean;
  readonly error?: unknown;
  readonly storedAt: number;
  readonly ttl: number;
  readonly #table: EntryTable;
  readonly #row: number;
  readonly #generation: number;
  readonly #response: Message | null;

  constructor(
    table: EntryTable,
    row: number,
    held: Held | null,
    kept: WireAnswer | null,
    restoreCase: boolean,
  ) {
    this.#table = table;
    this.#row = row;
    this.#generation = table.generation[row]!;
    this.kind = (table.flags[row]! & FAILURE) !== 0 ? "failure" : "answer";
    this.kept = kept;
    this.restoreCase = restoreCase;
    this.#response = held ? held.response : null;
    if (held?.error !== undefined) this.error = held.error;
    this.storedAt = table.storedAt[row]!;
    this.ttl = table.ttl[row]!;
  }

  get response(): Message {
    return this.#response ?? WireResponse.alone(this.kept!, this.restoreCase);
  }

  get hits(): number {
    return this.#live() ? this.#table.hits[this.#row]! : 0;
  }

  set hits(count: number) {
    if (this.#live()) this.#table.hits[this.#row] = count;
  }

  get refreshing(): boolean {
    return this.#live() && (this.#table.flags[this.#row]! & REFRESHING) !== 0;
  }

  set refreshing(on: boolean) {
    if (!this.#live()) return;
    const flags = this.#table.flags[this.#row]!;
    this.#table.flags[this.#row] = on ? flags | REFRESHING : flags & ~REFRESHING;
  }

  get retryAfter(): number | undefined {
    const until = this.#live() ? this.#table.retryAfter[this.#row]! : NaN;
    return Number.isNaN(until) ? undefined : until;
  }

  set retryAfter(until: number | undefined) {
    if (this.#live()) this.#table.retryAfter[this.#row] = until ?? NaN;
  }

  /** Whether this is a view of what `row` holds now. */
  isOf(row: number): boolean {
    return row === this.#row && this.#table.generation[row] === this.#generation;
  }

  #live(): boolean {
    return this.#table.isLive(this.#row, this.#generation);
  }
}

/**
 * How many views of recently read entries are kept, by row number (direct-mapped): a popular entry
 * is read from its blob once rather than at every hit, which would allocate a copy of its bytes,
 * its offsets and a view each time. They are copies, so the memory is bounded: a few MiB at most.
 */
const RECENT_VIEWS = 4096;

/**
 * FNV-1a over a key, cut to 30 bits so it stays a small integer: the {@link SlotIndex} maps it to
 * an entry's row, and the row's key is compared only then.
 */
export function slotOf(key: string): number {
  return fnv1aText(key) & 0x3fffffff;
}

/**
 * A bounded map from key to entry, least recently used evicted first. Two keys whose slots collide
 * share a place: the later one evicts the other, as a full entry would. A full cache of 100,000
 * entries holds about 5 fewer for it, one of 1,000,000 a few hundred fewer (birthday bound, 2^30).
 *
 * An answer kept as the upstream's bytes (most of them) is stored as one blob in shared pages
 * beside its key, and its row in an {@link EntryTable}: no object of its own (see those modules
 * for why). Failures and decoded answers (DNSSEC records, unusual types) keep an object.
 */
export class AnswerCache {
  readonly #limits: CacheLimits;
  readonly #index = new SlotIndex();
  readonly #table = new EntryTable();
  readonly #held: (Held | undefined)[] = [];
  readonly #pages: BlobPages;
  /**
   * Where answers read from the pages are copied to, carved from 8 KiB slabs: a slab stays while any
   * copy in it is held (by a recent view, say), so small slabs keep what a few held copies pin small.
   */
  readonly #copies = new ByteArena(8 * 1024);
  readonly #recent: (EntryView | undefined)[] = new Array(RECENT_VIEWS);
  /** Entries evicted to make room. */
  evictions = 0;

  /**
   * Makes an empty cache.
   * @param limits the size and TTL limits
   */
  constructor(limits: CacheLimits) {
    this.#limits = limits;
    const table = this.#table;
    this.#pages = new BlobPages({
      isLive: (row, location) => table.location[row] === location,
      moved: (row, location) => table.location[row] = location,
    });
  }

  /** The limits in force. */
  get limits(): CacheLimits {
    return this.#limits;
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#table.count;
  }

  /** How many pages of 64 KiB the answers kept as bytes take. */
  get pageCount(): number {
    return this.#pages.pageCount;
  }

  /** Drops every entry (the upstreams changed). */
  clear(): void {
    this.#recent.fill(undefined);
    this.#index.clear();
    this.#table.clear();
    this.#held.length = 0;
    this.#pages.clear();
  }

  /**
   * The entry for `key` as {@link get} would find it, without changing anything: no LRU move, and
   * an entry too old is left for `get` to drop (the explain endpoint reads the cache this way).
   */
  peek(key: string, now: number): { entry: CacheEntry; stale: boolean; remaining: number } | undefined {
    const row = this.#find(key, slotOf(key));
    if (row < 0) return undefined;
    const remaining = this.#remaining(row, now);
    if (remaining === null) return undefined;
    return { entry: this.#view(row), stale: remaining <= 0, remaining };
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
      const count = this.size;
      this.clear();
      return count;
    }
    const suffix = `.${key}`;
    const doomed: number[] = [];
    for (const row of this.#table.rows()) {
      const location = this.#table.location[row]!;
      if (location >= 0) {
        if (blobKeyAtOrBelow(this.#pages, location, key, suffix)) doomed.push(row);
        continue;
      }
      // The key starts with the folded name, up to its first "|" (see cacheKey).
      const entryKey = this.#held[row]!.key;
      const owner = entryKey.slice(0, entryKey.indexOf("|"));
      if (owner === key || owner.endsWith(suffix)) doomed.push(row);
    }
    for (const row of doomed) this.#remove(row);
    return doomed.length;
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
    const row = this.#find(key, slot);
    if (row < 0) return undefined;
    const remaining = this.#remaining(row, now);
    if (remaining === null) {
      this.#remove(row);
      return undefined;
    }
    this.#table.touch(row);
    return { entry: this.#view(row), stale: remaining <= 0, remaining };
  }

  /** Stores an upstream answer; returns the entry, or null when it may not be cached. */
  putAnswer(key: string, response: Message, now: number, slot: number = slotOf(key)): CacheEntry | null {
    const ttl = answerTtl(response);
    if (ttl === null || this.#limits.maxEntries <= 0) return null;
    const clamped = Math.min(this.#limits.maxTtl, Math.max(this.#limits.minTtl, ttl));
    if (clamped <= 0) return null;
    const wire = WireResponse.of(response);
    const row = this.#store(slot, now, clamped, 0);
    const length = wire ? blobLength(key, wire.kept) : -1;
    if (wire && length >= 0) {
      this.#table.location[row] = writeBlob(this.#pages, row, length, key, wire.kept, wire.restoresCase);
      // Not kept among the recent views: most stored answers are never asked for again, and a view
      // held until 4,096 other rows push it out outlives a young-generation GC, so every miss's
      // scan (its offsets, the reply's octets) would be copied and promoted only to die in the old
      // generation. A first hit reads the blob, as any later one would.
      return new EntryView(
        this.#table,
        row,
        null,
        wire.kept,
        wire.restoresCase,
      );
    }
    const held: Held = wire
      ? { key, response: null, kept: wire.kept, restoreCase: wire.restoresCase }
      : { key, response, kept: null, restoreCase: false };
    this.#held[row] = held;
    return new EntryView(this.#table, row, held, held.kept, held.restoreCase);
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
    if (this.#limits.maxEntries <= 0) return;
    // An answer, even one only good for serving stale, is worth more than a failure: keep it.
    const existing = this.#find(key, slot);
    if (existing >= 0 && (this.#table.flags[existing]! & FAILURE) === 0) return;
    const row = this.#store(slot, now, this.#limits.servfailTtl, FAILURE);
    this.#held[row] = {
      key,
      response: failure.response,
      kept: null,
      restoreCase: false,
      error: failure.error,
    };
  }

  /** A row for a key at `slot` (replacing whatever held the slot), the cache kept to its size. */
  #store(slot: number, now: number, ttl: number, flags: number): number {
    const table = this.#table;
    const existing = this.#index.get(slot);
    if (existing >= 0) this.#remove(existing);
    const row = table.add(slot);
    table.storedAt[row] = now;
    table.ttl[row] = ttl;
    table.flags[row] = flags;
    this.#index.set(slot, row);
    while (table.count > this.#limits.maxEntries) {
      this.#remove(table.oldest);
      this.evictions++;
    }
    return row;
  }

  /** The row holding `key`, or -1. */
  #find(key: string, slot: number): number {
    const row = this.#index.get(slot);
    if (row < 0) return -1;
    const location = this.#table.location[row]!;
    const same = location >= 0 ? blobHasKey(this.#pages, location, key) : this.#held[row]?.key === key;
    return same ? row : -1;
  }

  /** The seconds left of the row's TTL (negative when stale), or null when it may not be served. */
  #remaining(row: number, now: number): number | null {
    const table = this.#table;
    const remaining = table.ttl[row]! - (now - table.storedAt[row]!) / 1000;
    const keepFor = (table.flags[row]! & FAILURE) === 0 ? this.#limits.staleMax : 0;
    return remaining <= -keepFor || (remaining <= 0 && keepFor === 0) ? null : remaining;
  }

  #view(row: number): EntryView {
    const recent = this.#recent[row % RECENT_VIEWS];
    if (recent?.isOf(row)) return recent;
    const location = this.#table.location[row]!;
    let view: EntryView;
    if (location < 0) {
      const held = this.#held[row]!;
      view = new EntryView(this.#table, row, held, held.kept, held.restoreCase);
    } else {
      const kept = readBlob(this.#pages, location, this.#copies);
      view = new EntryView(this.#table, row, null, kept, blobRestoresCase(this.#pages, location));
    }
    this.#recent[row % RECENT_VIEWS] = view;
    return view;
  }

  #remove(row: number): void {
    const table = this.#table;
    this.#index.delete(table.slot[row]!);
    const location = table.location[row]!;
    this.#held[row] = undefined;
    table.remove(row);
    if (location >= 0) this.#pages.free(location);
  }
}
