/**
 * From a cache key's slot (see `slotOf`) to a value: a {@link SlotIndex} to a row, and the values
 * in one array whose rows are reused. It stands in for a `Map` whose entries come and go with every
 * query (the exchanges in flight): V8 rehashes such a Map into a new table from time to time and
 * links the old table to the new one; an old table already promoted keeps its entries and the next
 * table alive through every young-generation GC until the next full one, so each query's whole
 * graph (its promise, request and reply) was promoted with it, to die in the old generation. An
 * array row set to `undefined` lets go at once. Pure.
 * @module
 */
import { SlotIndex } from "./slot_index.ts";

/** A map from slot (a non-negative 31-bit integer) to `T`. */
export class SlotMap<T> {
  readonly #index = new SlotIndex(64);
  readonly #values: (T | undefined)[] = [];
  readonly #free: number[] = [];

  /** How many slots it maps. */
  get size(): number {
    return this.#index.size;
  }

  /** The value for `slot`. */
  get(slot: number): T | undefined {
    const row = this.#index.get(slot);
    return row < 0 ? undefined : this.#values[row];
  }

  /** Maps `slot` to `value`, replacing what it mapped to. */
  set(slot: number, value: T): void {
    let row = this.#index.get(slot);
    if (row < 0) {
      row = this.#free.pop() ?? this.#values.length;
      this.#index.set(slot, row);
    }
    this.#values[row] = value;
  }

  /** Unmaps `slot`; returns whether it was mapped. */
  delete(slot: number): boolean {
    const row = this.#index.get(slot);
    if (row < 0) return false;
    this.#index.delete(slot);
    this.#values[row] = undefined;
    this.#free.push(row);
    return true;
  }
}
