/**
 * The caching stage (RFC 1035 section 7.4, RFC 2308, RFC 8767, RFC 9520): answers repeated
 * questions from memory with their TTLs counted down, shares one upstream exchange among
 * identical questions in flight, refreshes popular entries before they expire, remembers failures
 * briefly, and can serve stale answers when every upstream fails.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate, Source } from "../observe/mod.ts";
import { agedResponse, AnswerCache, type CacheEntry, cacheKey, type CacheLimits, slotOf } from "./cache.ts";
import { SlotMap } from "./slot_map.ts";
import {
  displayName,
  EdeCode,
  type Message,
  type Question,
  Rcode,
  rcodeName,
  reply,
  responseEdns,
  typeName,
  UpstreamError,
  WireResponse,
  withEde,
} from "../proto/mod.ts";
import type { Request, Resolve, ResponseMemo, Stage } from "../resolve/mod.ts";

const log = getLogger(["dnsd", "cache"]);

/** The TTL of a stale answer (RFC 8767 section 4 recommends 30 seconds). */
export const STALE_TTL = 30;

/** What the cache has done, for the library API (and later the metrics endpoint). */
export interface CacheCounters {
  /** Questions answered from a fresh entry. */
  hits: number;
  /** Questions that went upstream (absent, expired or stale entries). */
  misses: number;
  /** Stale answers served because every upstream failed. */
  stale: number;
  /** Background refreshes started before expiry. */
  prefetches: number;
  /** Questions that joined an identical one already in flight. */
  coalesced: number;
}

/** What an operator sets for the answer cache. */
export interface CacheSettings {
  /** Sizes and TTL clamps. */
  readonly limits: CacheLimits;
  /** Serve expired answers (up to `limits.staleMax`) when every upstream fails (RFC 8767). */
  readonly serveStale?: boolean;
  /** Let RD=0 queries read the cache (never fill it). Off by default: see docs/cache.md. */
  readonly allowSnooping?: boolean;
  /** Refresh an entry served at least `minHits` times once less than `fraction` of its TTL is left. */
  readonly prefetch?: { readonly minHits: number; readonly fraction: number };
}

/** Options for {@link answerCache}: the settings, and what the server injects. */
export interface CacheOptions extends CacheSettings {
  /** Milliseconds on a monotonic clock; injected by tests. */
  readonly now?: () => number;
  /** Keeps encoded copies of cache hits until their TTLs next tick down. */
  readonly memo?: ResponseMemo;
}

/** What a running server shows of its cache. */
export interface CacheView {
  /** Hit, miss, stale, prefetch and coalescing counts. */
  readonly counters: Readonly<CacheCounters>;
  /** Entries held now. */
  readonly size: number;
}

/** A caching stage and what it holds. */
export interface Cache {
  /** The stage, to go after local data and before the recursion check. */
  readonly stage: Stage;
  /** The entries. */
  readonly store: AnswerCache;
  /** Hit, miss, stale, prefetch and coalescing counts. */
  readonly counters: Readonly<CacheCounters>;
}

/** The client's response built from a stored or shared one: its ID, question, flags and EDNS. */
function forClient(request: Message, stored: Message, fields?: Partial<Message>): Message {
  // Kept as bytes: the same bytes, under this client's ID, flags and question.
  const wire = fields ? null : WireResponse.of(stored);
  if (wire) return wire.forRequest(request);
  return reply(request, {
    rcode: stored.rcode,
    authoritative: stored.authoritative,
    // A validated answer's AD (respond() clears it for a client that set neither DO nor AD).
    authenticData: stored.authenticData,
    answers: stored.answers,
    authorities: stored.authorities,
    additionals: stored.additionals,
    ...fields,
  });
}

/** The cached answer for `query`, aged: made for it in one step when kept as bytes. */
function servedTo(query: Message, entry: CacheEntry, time: number): Message {
  return entry.kept
    ? agedResponse(entry, time, undefined, query)
    : forClient(query, agedResponse(entry, time));
}

/** An exchange in progress that identical questions share. */
interface Flight {
  readonly key: string;
  readonly work: Promise<Message>;
}

/** A question as logs show it. */
function what(question: Question): { name: string; type: string } {
  return { name: displayName(question.name), type: typeName(question.type) };
}

/** Makes a cache. Identical questions share one exchange; the rest see the cache as described above. */
export function answerCache(options: CacheOptions): Cache {
  const { limits, now = () => performance.now(), serveStale = false, allowSnooping = false } = options;
  const { minHits, fraction } = options.prefetch ?? { minHits: 3, fraction: 0.1 };
  const store = new AnswerCache(limits);
  const debug = levelGate(log, "debug");
  const counters: CacheCounters = { hits: 0, misses: 0, stale: 0, prefetches: 0, coalesced: 0 };
  // Keyed by the key's slot (see slotOf): a number, which costs less to look up than the string.
  // Not a Map: see slot_map.ts for what a Map's churn costs the collector.
  const inFlight = new SlotMap<Flight>();

  /** Asks `next` once per key at a time, storing what comes back. */
  function fetch(key: string, slot: number, request: Request, next: Resolve): Promise<Message> {
    const pending = inFlight.get(slot);
    if (pending !== undefined && pending.key === key) {
      counters.coalesced++;
      return pending.work;
    }
    // Each outcome ends the sharing before it stores: later questions find the entry, not this.
    const work = next(request).then(
      (response) => {
        if (inFlight.get(slot) === flight) inFlight.delete(slot);
        const time = now();
        if (response.rcode === Rcode.SERVFAIL) {
          store.putFailure(key, { response }, time, slot);
          return response;
        }
        // Serve the first answer with the clamped TTLs too, as every later hit will be.
        const stored = store.putAnswer(key, response, time, slot);
        return stored ? agedResponse(stored, time, undefined, request.message) : response;
      },
      (error) => {
        if (inFlight.get(slot) === flight) inFlight.delete(slot);
        if (error instanceof UpstreamError) {
          const response = reply(request.message, { rcode: Rcode.SERVFAIL });
          store.putFailure(key, { response, error }, now(), slot);
        }
        throw error;
      },
    );
    const flight: Flight = { key, work };
    // Another key with the same slot in flight (rare): this one goes unshared.
    if (pending === undefined) inFlight.set(slot, flight);
    return work;
  }

  function stage(request: Request, next: Resolve): Promise<Message> {
    const query = request.message;
    const question = query.questions[0];
    if (!question || limits.maxEntries <= 0) return next(request);
    const key = cacheKey(question, query.edns?.dnssecOk ?? false, query.checkingDisabled);
    const slot = slotOf(key);
    const time = now();
    const found = store.get(key, time, slot);

    if (!query.recursionDesired) {
      // RD=0 may read a fresh answer when snooping is allowed; it never fills the cache.
      if (allowSnooping && found && !found.stale && found.entry.kind === "answer") {
        counters.hits++;
        return Promise.resolve(servedTo(query, found.entry, time));
      }
      return next(request);
    }

    if (found && !found.stale) {
      const { entry } = found;
      entry.hits++;
      counters.hits++;
      if (debug()) log.debug("Cache hit for {name} {type}", what(question));
      if (entry.kind === "failure") {
        if (entry.error !== undefined) return Promise.reject(entry.error);
        return Promise.resolve(forClient(query, entry.response));
      }
      if (entry.hits >= minHits && found.remaining < entry.ttl * fraction && !entry.refreshing) {
        entry.refreshing = true;
        counters.prefetches++;
        if (debug()) log.debug("Cache prefetch for {name} {type}", what(question));
        fetch(key, slot, request, next).catch(() => {}).finally(() => entry.refreshing = false);
      }
      const response = servedTo(query, entry, time);
      // The served TTLs change at the next whole second since the entry was stored.
      const elapsed = time - entry.storedAt;
      return Promise.resolve(
        options.memo
          ? options.memo.mark(response, entry.storedAt + (Math.floor(elapsed / 1000) + 1) * 1000)
          : response,
      );
    }

    const stale = serveStale && found?.stale && found.entry.kind === "answer" ? found.entry : undefined;
    // Upstreams failed for this name moments ago: answer stale at once instead of waiting again.
    if (stale?.retryAfter !== undefined && stale.retryAfter > time) {
      if (request.trace) request.trace.source = Source.STALE;
      return Promise.resolve(serveFromStale(query, stale, "the upstreams failed recently"));
    }
    counters.misses++;
    if (debug()) log.debug("Cache miss for {name} {type}", what(question));
    // The common case, with nothing stale to fall back on, allocates one callback.
    if (!stale) return fetch(key, slot, request, next).then((response) => forClient(query, response));
    return fetch(key, slot, request, next).then(
      (response) => {
        // Every upstream answered SERVFAIL or REFUSED (the forwarder passes the last one on): a
        // failure to refresh too (RFC 8767 section 4), as a timeout is.
        if (response.rcode === Rcode.SERVFAIL || response.rcode === Rcode.REFUSED) {
          if (request.trace) request.trace.source = Source.STALE;
          return failedOver(query, stale, `the upstreams answered ${rcodeName(response.rcode)}`);
        }
        return forClient(query, response);
      },
      (error) => {
        if (!(error instanceof UpstreamError)) throw error;
        if (request.trace) request.trace.source = Source.STALE;
        return failedOver(query, stale, error.message);
      },
    );
  }

  /** The expired `stale` answer, served with an EDE saying why (RFC 8767, RFC 8914). */
  function serveFromStale(request: Message, stale: CacheEntry, reason: string): Message {
    counters.stale++;
    if (debug()) log.debug("Cache stale answer for {name} {type}", what(request.questions[0]!));
    const edns = withEde(responseEdns(request), { code: EdeCode.STALE_ANSWER, text: reason });
    return forClient(request, agedResponse(stale, now(), STALE_TTL, request), { edns });
  }

  /** Every upstream failed: `stale` is served, and not asked for again until the failure recheck. */
  function failedOver(request: Message, stale: CacheEntry, reason: string): Message {
    stale.retryAfter = now() + limits.servfailTtl * 1000;
    log.info("Serving a stale answer for {name} {type}: {reason}", {
      ...what(request.questions[0]!),
      reason,
    });
    return serveFromStale(request, stale, reason);
  }

  return { stage, store, counters };
}
