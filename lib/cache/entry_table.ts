/**
 * The answer cache's entries as columns of typed arrays, one row an entry, linked in least recently
 * used order: a million entries are a few dozen octets each here and nothing for the garbage
 * collector to copy or walk, where an object each cost hundreds and made every full collection
 * longer. Rows are reused; a row's generation changes each time it is let go, so a view of an entry
 * that is gone can tell. Pure.
 * @module
 */

/** A row's flag: it holds a failure rather than an answer. */
export const FAILURE = 1;
/** A row's flag: a background refresh is running for it. */
export const REFRESHING = 2;

const NONE = -1;

/** The columns, grown by doubling up to the cache's size. */
export class EntryTable {
  /** The key's slot (see `slotOf`). */
  slot: Int32Array;
  /** When it was stored, in ms on the cache's clock. */
  storedAt: Float64Array;
  /** Its TTL in seconds after the clamps. */
  ttl: Float64Array;
  /** Until when a stale answer is served without asking again (NaN: not set). */
  retryAfter: Float64Array;
  /** How often it has been served. */
  hits: Uint32Array;
  /** {@link FAILURE}, {@link REFRESHING}. */
  flags: Uint8Array;
  /** The blob's location in the pages, or -1 when the row's object holds the entry. */
  location: Float64Array;
  /** Changes each time the row is let go. */
  generation: Uint32Array;
  #older: Int32Array;
  #newer: Int32Array;
  #capacity: number;
  readonly #free: number[] = [];
  #used = 0;
  #count = 0;
  #newest = NONE;
  #oldest = NONE;

  /** Makes an empty table with room for `capacity` rows before it grows. */
  constructor(capacity = 1024) {
    this.#capacity = capacity;
    this.slot = new Int32Array(capacity);
    this.storedAt = new Float64Array(capacity);
    this.ttl = new Float64Array(capacity);
    this.retryAfter = new Float64Array(capacity);
    this.hits = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.location = new Float64Array(capacity);
    this.generation = new Uint32Array(capacity);
    this.#older = new Int32Array(capacity);
    this.#newer = new Int32Array(capacity);
  }

  /** Rows in use. */
  get count(): number {
    return this.#count;
  }

  /** The least recently used row, or -1. */
  get oldest(): number {
    return this.#oldest;
  }

  /** Whether `row` is in use (and still the `generation` given). */
  isLive(row: number, generation: number): boolean {
    return row < this.#used && this.generation[row] === generation && this.location[row] !== -2;
  }

  /** A free row, made the most recently used, its fields cleared but for `slot`. */
  add(slot: number): number {
    let row = this.#free.pop();
    if (row === undefined) {
      if (this.#used === this.#capacity) this.#grow();
      row = this.#used++;
    }
    this.slot[row] = slot;
    this.hits[row] = 0;
    this.flags[row] = 0;
    this.retryAfter[row] = NaN;
    this.location[row] = -1;
    this.#link(row);
    this.#count++;
    return row;
  }

  /** Lets `row` go: it leaves the order, its generation changes, and it is free for reuse. */
  remove(row: number): void {
    this.#unlink(row);
    this.location[row] = -2;
    this.generation[row] = this.generation[row]! + 1;
    this.#free.push(row);
    this.#count--;
  }

  /** Makes `row` the most recently used. */
  touch(row: number): void {
    if (row === this.#newest) return;
    this.#unlink(row);
    this.#link(row);
  }

  /** Lets every row go. */
  clear(): void {
    for (let row = 0; row < this.#used; row++) this.generation[row] = this.generation[row]! + 1;
    this.location.fill(-2, 0, this.#used);
    this.#free.length = 0;
    for (let row = this.#used - 1; row >= 0; row--) this.#free.push(row);
    this.#count = 0;
    this.#newest = this.#oldest = NONE;
  }

  /** The rows in use, least recently used first. */
  *rows(): IterableIterator<number> {
    for (let row = this.#oldest; row !== NONE;) {
      const next = this.#newer[row]!;
      yield row;
      row = next;
    }
  }

  #link(row: number): void {
    this.#older[row] = this.#newest;
    this.#newer[row] = NONE;
    if (this.#newest !== NONE) this.#newer[this.#newest] = row;
    else this.#oldest = row;
    this.#newest = row;
  }

  #unlink(row: number): void {
    const older = this.#older[row]!;
    const newer = this.#newer[row]!;
    if (older !== NONE) this.#newer[older] = newer;
    else this.#oldest = newer;
    if (newer !== NONE) this.#older[newer] = older;
    else this.#newest = older;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    const grown = <T extends Int32Array | Float64Array | Uint32Array | Uint8Array>(
      column: T,
      make: (length: number) => T,
    ): T => {
      const next = make(capacity);
      next.set(column);
      return next;
    };
    this.slot = grown(this.slot, (n) => new Int32Array(n));
    this.storedAt = grown(this.storedAt, (n) => new Float64Array(n));
    this.ttl = grown(this.ttl, (n) => new Float64Array(n));
    this.retryAfter = grown(this.retryAfter, (n) => new Float64Array(n));
    this.hits = grown(this.hits, (n) => new Uint32Array(n));
    this.flags = grown(this.flags, (n) => new Uint8Array(n));
    this.location = grown(this.location, (n) => new Float64Array(n));
    this.generation = grown(this.generation, (n) => new Uint32Array(n));
    this.#older = grown(this.#older, (n) => new Int32Array(n));
    this.#newer = grown(this.#newer, (n) => new Int32Array(n));
    this.#capacity = capacity;
  }
}
