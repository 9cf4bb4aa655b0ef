/**
 * Answers kept encoded: the bytes of a response to an exact query (everything after the ID), so
 * a repeated question is answered by copying them and patching the ID in, with no decoding,
 * resolving or encoding. Stages mark the responses that may be kept and for how long; local data
 * answers last until the data is swapped, cached upstream answers until their TTLs tick down.
 * @module
 */
import { ByteArena, fnv1a, type Message } from "../proto/mod.ts";
import { Source } from "../observe/mod.ts";

/** Options for {@link ResponseMemo}. */
export interface ResponseMemoOptions {
  /** Entries at most; the memo starts over when full. */
  readonly maxEntries?: number;
  /** Milliseconds on a monotonic clock. */
  readonly now?: () => number;
  /** The current local data; a memo entry made with other data is stale. */
  readonly generation?: () => unknown;
}

interface Entry {
  /** The query after its ID, to tell hash collisions apart. */
  readonly query: Uint8Array;
  readonly bytes: Uint8Array;
  readonly until: number;
  readonly generation: unknown;
  /** Where the kept answer came from (a Source of lib/observe): local, or cache. */
  readonly source: number;
}

/** Octets copied in before the memo starts over, so expired entries cannot pin slabs without end. */
const MAX_COPIED = 8 * 1024 * 1024;
/** The memo's own slabs: an ArrayBuffer per entry would cost a microsecond each. */
const SLAB = 16 * 1024;

/** The key of a query's entry: FNV-1a over it after its ID, cheaper than a string key for every packet. */
function keyOf(query: Uint8Array): number {
  return fnv1a(query, 2);
}

function sameQuery(kept: Uint8Array, query: Uint8Array): boolean {
  if (kept.length !== query.length - 2) return false;
  for (let i = 0; i < kept.length; i++) if (kept[i] !== query[i + 2]) return false;
  return true;
}

/** Encoded responses by exact query. One per server; not shared across servers. */
export class ResponseMemo {
  readonly #entries = new Map<number, Entry>();
  readonly #marks = new WeakMap<Message, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #generation: () => unknown;
  #arena = new ByteArena(SLAB);
  #copied = 0;
  /** Where the last answer {@link answer} gave came from (a Source of lib/observe), for the observer. */
  lastSource = 0;

  /**
   * Makes an empty memo.
   * @param options size, clock and data generation
   */
  constructor(options: ResponseMemoOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#generation = options.generation ?? (() => undefined);
  }

  /** The clock the memo uses, for stages that compute `until`. */
  now(): number {
    return this.#now();
  }

  /** Says that `response` may be kept until `until` (ms on the memo's clock; Infinity: until a data swap). */
  mark(response: Message, until: number): Message {
    this.#marks.set(response, until);
    return response;
  }

  /** Keeps the encoded `response` to `query` when a stage marked it; `source` says where it came from. */
  remember(query: Uint8Array, response: Message, bytes: Uint8Array, source = 0): void {
    const until = this.#marks.get(response);
    if (until === undefined || until <= this.#now()) return;
    if (this.#entries.size >= this.#maxEntries || this.#copied > MAX_COPIED) {
      this.#entries.clear();
      this.#arena = new ByteArena(SLAB);
      this.#copied = 0;
    }
    // Copies into the memo's own slabs: `bytes` may live in a server's slab that the memo must not pin.
    this.#copied += query.length + bytes.length;
    this.#entries.set(keyOf(query), {
      query: this.#arena.copy(query.subarray(2)),
      bytes: this.#arena.copy(bytes),
      until,
      generation: this.#generation(),
      // A kept upstream answer is answered again from the cache's copy.
      source: source === Source.UPSTREAM ? Source.CACHE : source,
    });
  }

  /** The response to `query`, with its ID, when one is kept and still good; else null. */
  answer(query: Uint8Array, arena: ByteArena): Uint8Array | null {
    if (this.#entries.size === 0 || query.length < 12) return null;
    const key = keyOf(query);
    const entry = this.#entries.get(key);
    if (!entry || !sameQuery(entry.query, query)) return null;
    // Local answers (until: Infinity) skip the clock; they end with the data generation.
    if ((entry.until !== Infinity && entry.until <= this.#now()) || entry.generation !== this.#generation()) {
      this.#entries.delete(key);
      return null;
    }
    this.lastSource = entry.source;
    const response = arena.copy(entry.bytes);
    response[0] = query[0]!;
    response[1] = query[1]!;
    return response;
  }

  /** How many responses are kept. */
  get size(): number {
    return this.#entries.size;
  }
}
