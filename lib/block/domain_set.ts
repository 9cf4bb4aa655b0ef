/**
 * A set of domains that answers "which listed domain is the longest suffix of this name?" without
 * allocating, and holds a million domains in about 50 MiB. The name is hashed once from its last
 * character to its first, so the hash at each label boundary is the hash of that suffix; it is
 * looked up in an open-addressing table of entry numbers, and a hit is confirmed by comparing the
 * entry's octets. Slicing the name at each dot and asking a `Set<string>` would make a string per
 * label per query, and a million strings in a `Set` cost about 200 MiB (measured with
 * bench/blocklist.ts): here the names sit end to end in one byte array, with two `Int32Array`s
 * saying where each starts and what its hash is.
 * @module
 */
import { inSharedMemory } from "../proto/mod.ts";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const DOT = 46;
const BACKSLASH = 92;

/** One step of FNV-1a over an ASCII-folded character code. */
function step(hash: number, code: number): number {
  return Math.imul(hash ^ (code >= 65 && code <= 90 ? code | 0x20 : code), FNV_PRIME);
}

/** Whether the dot at `i` is escaped (`\.` inside a label): an odd run of backslashes before it. */
function escapedAt(name: string, i: number): boolean {
  let backslashes = 0;
  for (let j = i - 1; j >= 0 && name.charCodeAt(j) === BACKSLASH; j--) backslashes++;
  return backslashes % 2 === 1;
}

/** `array` copied into a new one of `length` elements. */
function grown<T extends Uint8Array | Int32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

/** What a {@link DomainSet} is made of, in shared memory: posted to a worker, nothing is copied. */
export interface DomainSetParts {
  /** The names' characters, end to end. */
  readonly bytes: Uint8Array;
  /** Where each entry starts in `bytes` (one more: the end). */
  readonly starts: Int32Array;
  /** Each entry's hash. */
  readonly hashes: Int32Array;
  /** The open-addressing table of entry numbers plus one. */
  readonly table: Int32Array;
  /** How many entries. */
  readonly size: number;
}

/** Domains (folded keys, no trailing dot), each standing for itself and every name below it. */
export class DomainSet {
  /** The names' characters, end to end (list keys are ASCII). */
  #bytes: Uint8Array<ArrayBufferLike> = new Uint8Array(1024);
  /** Where entry `i` starts in `#bytes`; entry `i + 1` starts where it ends. */
  #starts: Int32Array<ArrayBufferLike> = new Int32Array(64);
  /** Entry `i`'s hash. */
  #hashes: Int32Array<ArrayBufferLike> = new Int32Array(64);
  /** Open addressing: entry number + 1 by slot, 0 for an empty slot; at most half full. */
  #table: Int32Array<ArrayBufferLike> = new Int32Array(128);
  #size = 0;

  /**
   * Makes a set of `keys`.
   * @param keys folded names without a trailing dot (as lib/block/list_parser.ts gives them)
   */
  constructor(keys: Iterable<string> = []) {
    for (const key of keys) this.add(key);
  }

  /** How many domains are listed. */
  get size(): number {
    return this.#size;
  }

  /** A set over the parts another's {@link share} gave (a worker's view of the main thread's lists). */
  static fromParts(parts: DomainSetParts): DomainSet {
    const set = new DomainSet();
    set.#bytes = parts.bytes;
    set.#starts = parts.starts;
    set.#hashes = parts.hashes;
    set.#table = parts.table;
    set.#size = parts.size;
    return set;
  }

  /**
   * Moves the set into shared memory, trimmed (once: later calls return the same parts), and
   * returns its parts for workers. Adding after it copies the arrays out again, so workers' views never change.
   */
  share(): DomainSetParts {
    if (!(this.#table.buffer instanceof SharedArrayBuffer)) {
      const end = this.#starts[this.#size]!;
      this.#bytes = inSharedMemory(this.#bytes.subarray(0, end));
      this.#starts = inSharedMemory(this.#starts.subarray(0, this.#size + 1));
      this.#hashes = inSharedMemory(this.#hashes.subarray(0, this.#size + 1));
      this.#table = inSharedMemory(this.#table);
    }
    return {
      bytes: this.#bytes,
      starts: this.#starts,
      hashes: this.#hashes,
      table: this.#table,
      size: this.#size,
    };
  }

  /**
   * Makes room for `entries` more domains of `chars` characters in all, so that adding them
   * copies no array: each doubling of a large array leaves the old one to the allocator, which
   * seldom gives it back to the system (a million domains grown one at a time cost about 100 MiB
   * more resident memory, measured with bench/blocklist.ts).
   */
  reserve(entries: number, chars: number): void {
    const count = this.#size + entries;
    if (count + 1 > this.#starts.length) {
      this.#starts = grown(this.#starts, count + 1);
      this.#hashes = grown(this.#hashes, count + 1);
    }
    const end = this.#starts[this.#size]! + chars;
    if (end > this.#bytes.length) this.#bytes = grown(this.#bytes, end);
    let capacity = this.#table.length;
    while (count * 2 > capacity) capacity *= 2;
    if (capacity > this.#table.length) this.#rehash(capacity);
  }

  /** Adds `key` (ASCII, folded, no trailing dot); adding it again changes nothing. */
  add(key: string): void {
    let hash = FNV_OFFSET;
    for (let i = key.length - 1; i >= 0; i--) hash = step(hash, key.charCodeAt(i));
    if (this.#find(hash, key, 0, key.length) >= 0) return;
    // Shared with workers, it must not change under them: this set goes on with copies.
    if (this.#table.buffer instanceof SharedArrayBuffer) this.#unshare();
    const entry = this.#size;
    if (entry + 2 > this.#starts.length) {
      this.#starts = grown(this.#starts, this.#starts.length * 2);
      this.#hashes = grown(this.#hashes, this.#hashes.length * 2);
    }
    const start = this.#starts[entry]!;
    if (start + key.length > this.#bytes.length) {
      this.#bytes = grown(this.#bytes, Math.max(this.#bytes.length * 2, start + key.length));
    }
    for (let i = 0; i < key.length; i++) this.#bytes[start + i] = key.charCodeAt(i);
    this.#starts[entry + 1] = start + key.length;
    this.#hashes[entry] = hash;
    this.#size++;
    if (this.#size * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    else this.#place(entry);
  }

  #unshare(): void {
    this.#bytes = this.#bytes.slice();
    this.#starts = this.#starts.slice();
    this.#hashes = this.#hashes.slice();
    this.#table = this.#table.slice();
  }

  /** Puts `entry` in the first free slot from its hash's. */
  #place(entry: number): void {
    const mask = this.#table.length - 1;
    let slot = this.#hashes[entry]! & mask;
    while (this.#table[slot] !== 0) slot = (slot + 1) & mask;
    this.#table[slot] = entry + 1;
  }

  #rehash(capacity: number): void {
    this.#table = new Int32Array(capacity);
    for (let entry = 0; entry < this.#size; entry++) this.#place(entry);
  }

  /** The entry whose text is `name[from, end)` (ASCII case folded) and whose hash is `hash`, or -1. */
  #find(hash: number, name: string, from: number, end: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    const length = end - from;
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const held = table[slot]!;
      if (held === 0) return -1;
      const entry = held - 1;
      if (this.#hashes[entry] !== hash) continue;
      const start = this.#starts[entry]!;
      if (this.#starts[entry + 1]! - start !== length) continue;
      let same = true;
      for (let i = 0; i < length && same; i++) {
        const code = name.charCodeAt(from + i);
        same = (code >= 65 && code <= 90 ? code | 0x20 : code) === this.#bytes[start + i];
      }
      if (same) return entry;
    }
  }

  /**
   * The length of the longest listed suffix of `name` that ends a label (`name` itself
   * included), or -1 when none is listed. `name` is presentation text as the decoder gives it
   * (escapes such as `\.` stay inside their label); case does not matter.
   */
  longestSuffix(name: string): number {
    if (this.#size === 0) return -1;
    let end = name.length;
    const escapes = name.includes("\\");
    if (end > 0 && name.charCodeAt(end - 1) === DOT && !(escapes && escapedAt(name, end - 1))) end--;
    let hash = FNV_OFFSET;
    let longest = -1;
    for (let i = end - 1; i >= 0; i--) {
      const code = name.charCodeAt(i);
      // Here `hash` covers name[i + 1, end): a whole suffix when this dot ends a label.
      if (code === DOT && i + 1 < end && !(escapes && escapedAt(name, i))) {
        if (this.#find(hash, name, i + 1, end) >= 0) longest = end - i - 1;
      }
      hash = step(hash, code);
    }
    if (end > 0 && this.#find(hash, name, 0, end) >= 0) longest = end;
    return longest;
  }
}
