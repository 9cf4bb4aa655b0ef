/**
 * A zone's names and their records, packed: each name's key as octets in one buffer, its records
 * as a run of wire octets (lib/proto/record_run.ts) in another, and an open-addressing table of
 * numbers to find a key. With a million A records the whole process holds 235 to 340 MiB this way;
 * with them as a Map of decoded records it held about 800 (bench:memory, issue 19), all of it
 * objects for every full garbage collection to walk. A name looked up is decoded again, and the last 4,096 decoded are kept.
 * Immutable once built. Pure.
 * @module
 */
import { EncodeError, fnv1aText, readRecordRun, RecordRunWriter } from "../proto/mod.ts";
import type { RRset, ZoneNode } from "./zone.ts";

/** What a zone offers of its names: the lookups answering needs, and a walk over them all. */
export interface ZoneNodes {
  /** The node of the name with key `key`, or undefined when the name does not exist. */
  get(key: string): ZoneNode | undefined;
  /** Whether the name with key `key` exists (empty non-terminals included). */
  has(key: string): boolean;
  /** Every name's key, in no order. */
  keys(): IterableIterator<string>;
  /** Every node, in no order, each decoded as it is reached. */
  values(): IterableIterator<ZoneNode>;
  /** How many names. */
  readonly size: number;
}

/** The hash a key is found by: computed once by a caller that asks {@link PackedNodesBuilder.has} and then adds. */
export function keyHash(key: string): number {
  return fnv1aText(key) | 0;
}

/** A builder's filter of keys in: 2^24 bits, 2 MiB (a few percent of misses sent on to the table at 10^6 keys). */
const SEEN_BITS = 24;
/** How many names a builder packs before it makes the filter. */
const FILTER_FROM = 65_536;

/** Sets the filter's bit for a key's hash. */
function markSeen(bits: Int32Array, hash: number): void {
  const bit = Math.imul(hash, GOLDEN) >>> (32 - SEEN_BITS);
  bits[bit >>> 5]! |= 1 << (bit & 31);
}
/** 2^32 / golden ratio: Fibonacci hashing's multiplier. */
const GOLDEN = 0x9e3779b1;
/** How many decoded nodes are kept, by node number (direct-mapped). */
const RECENT = 4096;
const EMPTY: ZoneNode = Object.freeze({ rrsets: Object.freeze([]) as readonly RRset[] });

/**
 * Bytes appended in chunks of 1 MiB, joined once at the end: growing one buffer by doubling would
 * copy (and zero, and fault in) everything twice over on the way to a zone's tens of MiB.
 */
class Chunks {
  readonly #full: Uint8Array[] = [];
  #chunk = new Uint8Array(CHUNK);
  #used = 0;
  #before = 0;

  /** Octets appended so far. */
  get length(): number {
    return this.#before + this.#used;
  }

  append(run: Uint8Array): void {
    if (this.#used + run.length > this.#chunk.length) this.#next(run.length);
    this.#chunk.set(run, this.#used);
    this.#used += run.length;
  }

  /** Everything appended, in one buffer of exactly that length. */
  joined(): Uint8Array {
    const all = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.#full) {
      all.set(chunk, at);
      at += chunk.length;
    }
    all.set(this.#chunk.subarray(0, this.#used), at);
    return all;
  }

  #next(room: number): void {
    this.#full.push(this.#chunk.subarray(0, this.#used));
    this.#before += this.#used;
    this.#chunk = new Uint8Array(Math.max(CHUNK, room));
    this.#used = 0;
  }
}

const CHUNK = 1 << 20;

/** What a {@link PackedNodes} is made of; see {@link PackedNodesBuilder}. */
interface PackedParts {
  readonly keys: Uint8Array;
  readonly keyStarts: Uint32Array;
  readonly runs: Uint8Array;
  readonly runStarts: Uint32Array;
  readonly types: Uint16Array;
  readonly counts: Uint16Array;
  readonly rrsetStarts: Uint32Array;
  readonly table: Int32Array;
  readonly shift: number;
  readonly packed: number;
  readonly odd: ReadonlyMap<string, ZoneNode>;
}

/** A Uint32Array or Uint16Array that grows by doubling, trimmed when done. */
class Numbers<T extends Uint32Array | Uint16Array> {
  array: T;
  length = 0;
  readonly #make: (length: number) => T;

  constructor(make: (length: number) => T, room: number) {
    this.#make = make;
    this.array = make(Math.max(16, room));
  }

  push(value: number): void {
    if (this.length === this.array.length) {
      const grown = this.#make(this.array.length * 2);
      grown.set(this.array);
      this.array = grown;
    }
    this.array[this.length++] = value;
  }

  trimmed(): T {
    return this.array.slice(0, this.length) as T;
  }
}

/**
 * Packs a zone's names one at a time, in any order, each with all its RRsets: `has` tells whether
 * a key is in already (a zone read straight from its file packs each name as its records end).
 */
export class PackedNodesBuilder {
  #keys = new Uint8Array(1 << 16);
  #keysLength = 0;
  readonly #runs = new Chunks();
  readonly #keyStarts: Numbers<Uint32Array>;
  readonly #runStarts: Numbers<Uint32Array>;
  readonly #rrsetStarts: Numbers<Uint32Array>;
  readonly #types: Numbers<Uint16Array>;
  readonly #counts: Numbers<Uint16Array>;
  #bits = 4;
  /** Pairs by bucket: the key's FNV-1a hash, then its node number plus one (0: empty). */
  #table: Int32Array;
  readonly #odd = new Map<string, ZoneNode>();
  readonly #writer = new RecordRunWriter();
  /**
   * A bit per hash of the keys in, for {@link has}: 2^SEEN_BITS bits, made once the zone is large
   * enough for its table to fall out of the CPU's cache (a small zone's probe is as cheap).
   */
  #seenBits: Int32Array | null = null;
  #packed = 0;

  /** A builder with room for about `expected` names before it grows. */
  constructor(expected = 1024) {
    const room = expected + 1;
    this.#keyStarts = new Numbers((n) => new Uint32Array(n), room);
    this.#runStarts = new Numbers((n) => new Uint32Array(n), room);
    this.#rrsetStarts = new Numbers((n) => new Uint32Array(n), room);
    this.#types = new Numbers((n) => new Uint16Array(n), room);
    this.#counts = new Numbers((n) => new Uint16Array(n), room);
    while (1 << this.#bits < expected * 2) this.#bits++;
    this.#table = new Int32Array(2 << this.#bits);
  }

  /** Whether the name with key `key` (whose {@link keyHash} is `hash`) is in already. */
  has(key: string, hash = keyHash(key)): boolean {
    // Asked once for every new name of a streamed zone, nearly always of one not in: in a large zone a
    // bit per hash (2 MiB, which stays in the CPU's cache) says so without a probe of the table.
    if (this.#seenBits && !this.#seen(this.#seenBits, hash)) return this.#odd.size > 0 && this.#odd.has(key);
    return this.#find(key, hash) >= 0 || (this.#odd.size > 0 && this.#odd.has(key));
  }

  /**
   * Packs the name with key `key` (not in yet, its {@link keyHash} `hash`) and its RRsets.
   * @throws {EncodeError} for a record that cannot be written on the wire (it could not be served)
   */
  add(key: string, rrsets: readonly RRset[], hash = keyHash(key)): void {
    let run: Uint8Array;
    try {
      run = this.#writer.write(rrsets, key);
    } catch (error) {
      if (!(error instanceof EncodeError) || error.reason !== "message-too-long") throw error;
      this.#odd.set(key, { rrsets });
      return;
    }
    if (!this.#appendKey(key)) {
      this.#odd.set(key, { rrsets });
      return;
    }
    this.#keyStarts.push(this.#keysLength);
    this.#keysLength += key.length;
    this.#runStarts.push(this.#runs.length);
    this.#runs.append(run);
    this.#rrsetStarts.push(this.#types.length);
    for (const rrset of rrsets) {
      this.#types.push(rrset.type);
      this.#counts.push(rrset.records.length);
    }
    if (2 * (this.#packed + 1) > 1 << this.#bits) this.#grow();
    this.#place(hash, ++this.#packed);
    if (this.#seenBits) markSeen(this.#seenBits, hash);
    else if (this.#packed === FILTER_FROM) {
      const bits = this.#seenBits = new Int32Array(1 << (SEEN_BITS - 5));
      for (let bucket = 0; bucket < this.#table.length; bucket += 2) {
        if (this.#table[bucket + 1] !== 0) markSeen(bits, this.#table[bucket]!);
      }
    }
  }

  /** Whether a key with this hash may be in (false: it is not). */
  #seen(bits: Int32Array, hash: number): boolean {
    const bit = Math.imul(hash, GOLDEN) >>> (32 - SEEN_BITS);
    return (bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /** The packed names; the builder is done with. */
  build(): PackedNodes {
    this.#keyStarts.push(this.#keysLength);
    this.#runStarts.push(this.#runs.length);
    this.#rrsetStarts.push(this.#types.length);
    return new PackedNodes({
      keys: this.#keys.slice(0, this.#keysLength),
      keyStarts: this.#keyStarts.trimmed(),
      runs: this.#runs.joined(),
      runStarts: this.#runStarts.trimmed(),
      types: this.#types.trimmed(),
      counts: this.#counts.trimmed(),
      rrsetStarts: this.#rrsetStarts.trimmed(),
      table: this.#table,
      shift: 32 - this.#bits,
      packed: this.#packed,
      odd: this.#odd,
    });
  }

  /**
   * Writes `key`'s characters after the keys packed so far, without counting them in; false when
   * one is not a single octet (such a key is kept apart, in `#odd`).
   */
  #appendKey(key: string): boolean {
    if (this.#keysLength + key.length > this.#keys.length) {
      const grown = new Uint8Array(this.#keys.length * 2 + key.length);
      grown.set(this.#keys.subarray(0, this.#keysLength));
      this.#keys = grown;
    }
    const keys = this.#keys;
    const at = this.#keysLength;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code > 0xff) return false;
      keys[at + i] = code;
    }
    return true;
  }

  #place(hash: number, entry: number): void {
    const table = this.#table;
    const mask = (1 << this.#bits) - 1;
    let bucket = Math.imul(hash, GOLDEN) >>> (32 - this.#bits);
    while (table[2 * bucket + 1] !== 0) bucket = (bucket + 1) & mask;
    table[2 * bucket] = hash;
    table[2 * bucket + 1] = entry;
  }

  #find(key: string, hash: number): number {
    return findIn(this.#table, 32 - this.#bits, hash, (node) => this.#keyIs(node, key));
  }

  #keyIs(node: number, key: string): boolean {
    const start = this.#keyStarts.array[node]!;
    const end = node + 1 < this.#keyStarts.length ? this.#keyStarts.array[node + 1]! : this.#keysLength;
    if (end - start !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (this.#keys[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  #grow(): void {
    const table = this.#table;
    this.#bits++;
    this.#table = new Int32Array(2 << this.#bits);
    for (let bucket = 0; bucket < table.length; bucket += 2) {
      if (table[bucket + 1] !== 0) this.#place(table[bucket]!, table[bucket + 1]!);
    }
  }
}

/**
 * The node whose key `same` accepts among those hashed to `hash` in `table` (pairs of hash and node
 * plus one, one pair a bucket: a probe reads one cache line, not two arrays), or -1.
 */
function findIn(table: Int32Array, shift: number, hash: number, same: (node: number) => boolean): number {
  const mask = (table.length >>> 1) - 1;
  for (let bucket = Math.imul(hash, GOLDEN) >>> shift;; bucket = (bucket + 1) & mask) {
    const entry = table[2 * bucket + 1]!;
    if (entry === 0) return -1;
    if (table[2 * bucket] === hash && same(entry - 1)) return entry - 1;
  }
}

/** Packs `nodes` (keys to RRsets, as a zone is built) in one go. */
export function packNodes(nodes: ReadonlyMap<string, ZoneNode>): PackedNodes {
  const builder = new PackedNodesBuilder(nodes.size);
  for (const [key, node] of nodes) builder.add(key, node.rrsets);
  return builder.build();
}

/** The packed names of one zone. */
export class PackedNodes implements ZoneNodes {
  readonly #keys: Uint8Array;
  /** Where each node's key starts in `#keys`; one more entry, the end. */
  readonly #keyStarts: Uint32Array;
  readonly #runs: Uint8Array;
  /** Where each node's run starts in `#runs`; one more entry, the end. */
  readonly #runStarts: Uint32Array;
  /** Each node's RRsets in order: their types and record counts, and where its list starts (one more entry, the end). */
  readonly #types: Uint16Array;
  readonly #counts: Uint16Array;
  readonly #rrsetStarts: Uint32Array;
  /** Pairs by bucket: the key's FNV-1a hash (checked before the key), its node number plus one (0: empty). */
  readonly #table: Int32Array;
  /** A hash's bucket is its Fibonacci mix's top bits (FNV-1a's low bits alone cluster). */
  readonly #shift: number;
  /** Nodes whose key has a character over 255, or whose run is too big for a message: as they are. */
  readonly #odd: ReadonlyMap<string, ZoneNode>;
  readonly #recent: (ZoneNode | undefined)[] = new Array(RECENT);
  /** Which node each place of `#recent` holds. */
  readonly #recentNodes = new Int32Array(RECENT).fill(-1);
  /** How many nodes are packed (the rest are odd). */
  readonly #packed: number;
  readonly size: number;

  /** Made by {@link PackedNodesBuilder} (or {@link packNodes}). */
  constructor(parts: PackedParts) {
    this.#keys = parts.keys;
    this.#keyStarts = parts.keyStarts;
    this.#runs = parts.runs;
    this.#runStarts = parts.runStarts;
    this.#types = parts.types;
    this.#counts = parts.counts;
    this.#rrsetStarts = parts.rrsetStarts;
    this.#table = parts.table;
    this.#shift = parts.shift;
    this.#packed = parts.packed;
    this.#odd = parts.odd;
    this.size = parts.packed + parts.odd.size;
  }

  get(key: string): ZoneNode | undefined {
    const node = this.#find(key);
    if (node < 0) return this.#odd.get(key);
    const recent = this.#recent[node % RECENT];
    if (recent !== undefined && this.#recentNodes[node % RECENT] === node) return recent;
    const decoded = this.#decode(node, key);
    this.#recent[node % RECENT] = decoded;
    this.#recentNodes[node % RECENT] = node;
    return decoded;
  }

  has(key: string): boolean {
    return this.#find(key) >= 0 || this.#odd.has(key);
  }

  *keys(): IterableIterator<string> {
    for (let node = 0; node < this.#packed; node++) yield this.#keyOf(node);
    yield* this.#odd.keys();
  }

  *values(): IterableIterator<ZoneNode> {
    for (let node = 0; node < this.#packed; node++) yield this.#decode(node, this.#keyOf(node));
    yield* this.#odd.values();
  }

  #find(key: string): number {
    return findIn(this.#table, this.#shift, keyHash(key), (node) => this.#keyIs(node, key));
  }

  #keyIs(node: number, key: string): boolean {
    const start = this.#keyStarts[node]!;
    if (this.#keyStarts[node + 1]! - start !== key.length) return false;
    const keys = this.#keys;
    for (let i = 0; i < key.length; i++) if (keys[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  #keyOf(node: number): string {
    return String.fromCharCode(...this.#keys.subarray(this.#keyStarts[node]!, this.#keyStarts[node + 1]!));
  }

  /** Node `node`'s RRsets; `key` is its key, the owner of every record written as the key. */
  #decode(node: number, key: string): ZoneNode {
    const first = this.#rrsetStarts[node]!;
    const end = this.#rrsetStarts[node + 1]!;
    if (first === end) return EMPTY;
    const records = readRecordRun(
      this.#runs.subarray(this.#runStarts[node]!, this.#runStarts[node + 1]!),
      key,
    );
    if (end === first + 1) return { rrsets: [{ type: this.#types[first]!, records }] };
    const rrsets: RRset[] = [];
    let from = 0;
    for (let i = first; i < end; i++) {
      const to = from + this.#counts[i]!;
      rrsets.push({ type: this.#types[i]!, records: records.slice(from, to) });
      from = to;
    }
    return { rrsets };
  }
}
