/**
 * From a cache key's slot (a 30-bit hash, see `slotOf`) to its entry's number: an open-addressing
 * table of number pairs in one Int32Array, 16 octets an entry, where a Map of numbers costs about
 * 40 and is one more object for the collector to walk. Linear probing; a deletion shifts later
 * pairs of the run back, so no tombstones pile up. Pure.
 * @module
 */

const EMPTY = 0;

/** A map from slot to entry number (both non-negative 31-bit integers). */
export class SlotIndex {
  /** Pairs: the slot at 2i, its entry number plus one at 2i+1 (0 when the bucket is empty). */
  #table: Int32Array;
  #shift: number;
  #count = 0;

  /** Makes an empty index with room for `expected` entries before it grows. */
  constructor(expected = 512) {
    let bits = 4;
    while (1 << (bits - 1) < expected) bits++;
    this.#table = new Int32Array(2 << bits);
    this.#shift = 32 - bits;
  }

  /** How many slots it maps. */
  get size(): number {
    return this.#count;
  }

  /** The entry number for `slot`, or -1. */
  get(slot: number): number {
    const table = this.#table;
    const mask = (table.length >>> 1) - 1;
    for (let bucket = this.#home(slot);; bucket = (bucket + 1) & mask) {
      const entry = table[2 * bucket + 1]!;
      if (entry === EMPTY) return -1;
      if (table[2 * bucket] === slot) return entry - 1;
    }
  }

  /** Maps `slot` to `entry`, replacing what it mapped to. */
  set(slot: number, entry: number): void {
    if (2 * (this.#count + 1) > this.#table.length >>> 1) this.#grow();
    const table = this.#table;
    const mask = (table.length >>> 1) - 1;
    for (let bucket = this.#home(slot);; bucket = (bucket + 1) & mask) {
      const held = table[2 * bucket + 1]!;
      if (held === EMPTY || table[2 * bucket] === slot) {
        if (held === EMPTY) this.#count++;
        table[2 * bucket] = slot;
        table[2 * bucket + 1] = entry + 1;
        return;
      }
    }
  }

  /** Unmaps `slot`; returns whether it was mapped. */
  delete(slot: number): boolean {
    const table = this.#table;
    const mask = (table.length >>> 1) - 1;
    let hole = this.#home(slot);
    for (;; hole = (hole + 1) & mask) {
      const entry = table[2 * hole + 1]!;
      if (entry === EMPTY) return false;
      if (table[2 * hole] === slot) break;
    }
    // Backward shift: a later pair of the run moves into the hole unless its home lies cyclically
    // after the hole (then it would become unreachable from its home).
    for (let next = (hole + 1) & mask;; next = (next + 1) & mask) {
      if (table[2 * next + 1] === EMPTY) break;
      const home = this.#home(table[2 * next]!);
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      table[2 * hole] = table[2 * next]!;
      table[2 * hole + 1] = table[2 * next + 1]!;
      hole = next;
    }
    table[2 * hole] = 0;
    table[2 * hole + 1] = EMPTY;
    this.#count--;
    return true;
  }

  /** Unmaps everything. */
  clear(): void {
    this.#table.fill(0);
    this.#count = 0;
  }

  /** Every (slot, entry number) pair, in no order. */
  *entries(): IterableIterator<[number, number]> {
    const table = this.#table;
    for (let bucket = 0; bucket < table.length; bucket += 2) {
      if (table[bucket + 1] !== EMPTY) yield [table[bucket]!, table[bucket + 1]! - 1];
    }
  }

  /** The bucket a slot starts probing at: Fibonacci hashing of its top bits. */
  #home(slot: number): number {
    return Math.imul(slot, 0x9e3779b1) >>> this.#shift;
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    this.#shift--;
    this.#count = 0;
    for (let bucket = 0; bucket < old.length; bucket += 2) {
      if (old[bucket + 1] !== EMPTY) this.set(old[bucket]!, old[bucket + 1]! - 1);
    }
  }
}
