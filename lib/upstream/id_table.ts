/**
 * The queries waiting on one upstream socket, by message ID. A socket has one at a time (a port
 * per query), and a `Map` that goes from one entry to none allocates a new hash table on every
 * delete (V8 shrinks it); that table belongs to a long-lived socket, so it outlives the next
 * young-generation GC and is promoted only to die. The first entry is therefore held in two
 * fields, and a `Map` made only for a socket that several queries share.
 * @module
 */

/** A map from 16-bit message ID to `T`, the single-entry case without allocation. */
export class IdTable<T> {
  #id = -1;
  #only: T | undefined;
  #more: Map<number, T> | null = null;

  /** How many entries it holds. */
  get size(): number {
    return (this.#id >= 0 ? 1 : 0) + (this.#more?.size ?? 0);
  }

  /** The entry for `id`. */
  get(id: number): T | undefined {
    if (id === this.#id) return this.#only;
    return this.#more?.get(id);
  }

  /** Whether `id` has an entry. */
  has(id: number): boolean {
    return id === this.#id || (this.#more?.has(id) ?? false);
  }

  /** Sets the entry for `id`. */
  set(id: number, value: T): void {
    if (id === this.#id || (this.#id < 0 && !this.#more?.has(id))) {
      this.#id = id;
      this.#only = value;
      return;
    }
    (this.#more ??= new Map()).set(id, value);
  }

  /** Removes the entry for `id`; says whether there was one. */
  delete(id: number): boolean {
    if (id === this.#id) {
      this.#id = -1;
      this.#only = undefined;
      return true;
    }
    return this.#more?.delete(id) ?? false;
  }

  /** Every entry's value. */
  values(): T[] {
    const all = this.#more ? [...this.#more.values()] : [];
    if (this.#id >= 0) all.unshift(this.#only!);
    return all;
  }

  /** Removes every entry. */
  clear(): void {
    this.#id = -1;
    this.#only = undefined;
    this.#more = null;
  }
}
