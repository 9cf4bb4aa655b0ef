/**
 * A zone's names and their records, packed: each name's key as octets in one buffer, its records
 * as a run of wire octets (lib/proto/record_run.ts) in another, and an open-addressing table of
 * numbers to find a key. With a million A records the whole process holds 205 to 310 MiB this way;
 * with them as a Map of decoded records it held about 800 (bench:memory, issue 19), all of it
 * objects for every full garbage collection to walk. A name looked up is decoded again, and the
 * last 4,096 decoded are kept. Immutable once built. For workers (lib/workers), {@link PackedNodes.share}
 * moves the arrays into shared memory once, and a worker makes its own over the same pages. Pure.
 * @module
 */
import {
  EncodeError,
  fnv1aText,
  inSharedMemory,
  readRecordRun,
  RecordRunWriter,
  RRType,
} from "../proto/mod.ts";
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

/** Whether `keys[start..end)` spells `key`, one octet a character. */
function spells(keys: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (keys[start + i] !== key.charCodeAt(i)) return false;
  return true;
}

/** Below this many nodes to place at once, each is placed as it comes; above, by region of the table. */
const SORT_FROM = 4096;
/** The table's regions for a placement in order: 2^12 of them, a few KiB each for a large zone. */
const REGION_BITS = 12;

/** 2^32 / golden ratio: Fibonacci hashing's multiplier. */
const GOLDEN = 0x9e3779b1;
/** How many decoded nodes are kept, by node number (direct-mapped). */
const RECENT = 4096;
const EMPTY: ZoneNode = Object.freeze({ rrsets: Object.freeze([]) as readonly RRset[] });

/**
 * Bytes appended in chunks, joined once at the end: growing one buffer by doubling would copy (and
 * zero, and fault in) everything twice over on the way to a zone's tens of MiB. The chunks double
 * from 4 KiB up to 1 MiB, so a small zone (every reload builds each zone anew, the built-in local
 * zones too) does not take and drop a whole MiB each time.
 */
class Chunks {
  readonly #full: Uint8Array[] = [];
  #chunk = new Uint8Array(FIRST_CHUNK);
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

  /** Everything appended, in one buffer of exactly that length (in shared memory with `shared`). */
  joined(shared: boolean): Uint8Array<ArrayBufferLike> {
    const all = new Uint8Array(shared ? new SharedArrayBuffer(this.length) : new ArrayBuffer(this.length));
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
    this.#chunk = new Uint8Array(Math.max(Math.min(CHUNK, this.#chunk.length * 2), room));
    this.#used = 0;
  }
}

const CHUNK = 1 << 20;
const FIRST_CHUNK = 4096;

/**
 * What a {@link PackedNodes} is made of (see {@link PackedNodesBuilder}). From {@link PackedNodes.share},
 * every array is in shared memory, so posting the parts to a worker copies none of them; `odd` (a few
 * names at most) is copied.
 */
export interface PackedParts {
  readonly keys: Uint8Array<ArrayBufferLike>;
  readonly keyStarts: Uint32Array<ArrayBufferLike>;
  readonly runs: Uint8Array<ArrayBufferLike>;
  readonly runStarts: Uint32Array<ArrayBufferLike>;
  readonly types: Uint16Array<ArrayBufferLike>;
  readonly counts: Uint16Array<ArrayBufferLike>;
  readonly rrsetStarts: Uint32Array<ArrayBufferLike>;
  readonly table: Int32Array<ArrayBufferLike>;
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

  /** The numbers pushed, in one copy (in shared memory with `shared`). */
  trimmed(shared: boolean): T {
    return shared
      ? inSharedMemory(this.array.subarray(0, this.length) as T)
      : this.array.slice(0, this.length) as T;
  }
}

/** A key packed twice: {@link PackedNodesBuilder} finds it when it places the keys. */
export class RepeatedKey extends Error {
  /** The error class name. */
  override name = "RepeatedKey";
}

/**
 * Packs a zone's names one at a time, in any order, each with all its RRsets (a zone read straight
 * from its file packs each name as its records end). The table that finds a key is made when it is
 * first needed ({@link has}, {@link indexOf}, {@link build}) with every key added until then placed
 * region by region of the table: placed one at a time as they came, a million keys would each touch
 * a random place of a 16 MiB table, and that was a fifth of loading a large zone. A key added twice
 * is found then, as a {@link RepeatedKey}.
 */
export class PackedNodesBuilder {
  #keys = new Uint8Array(4096); // doubles as keys come
  #keysLength = 0;
  readonly #runs = new Chunks();
  readonly #keyStarts: Numbers<Uint32Array>;
  readonly #runStarts: Numbers<Uint32Array>;
  readonly #rrsetStarts: Numbers<Uint32Array>;
  readonly #types: Numbers<Uint16Array>;
  readonly #counts: Numbers<Uint16Array>;
  /** Each packed node's {@link keyHash}, as an unsigned number. */
  readonly #hashes: Numbers<Uint32Array>;
  #bits = 4;
  /** Pairs by bucket: the key's FNV-1a hash, then its node number plus one (0: empty); null until needed. */
  #table: Int32Array | null = null;
  /** Nodes in the table so far: the first `#placed`. */
  #placed = 0;
  readonly #odd = new Map<string, ZoneNode>();
  readonly #writer = new RecordRunWriter();
  #packed = 0;
  readonly #shared: boolean;

  /**
   * A builder with room for about `expected` names before it grows. With `sharedMemory` (a run
   * with workers), the built arrays are in shared memory from the start, so sharing them later
   * copies nothing ({@link PackedNodes.share}).
   */
  constructor(expected = 1024, sharedMemory = false) {
    this.#shared = sharedMemory;
    const room = expected + 1;
    this.#keyStarts = new Numbers((n) => new Uint32Array(n), room);
    this.#runStarts = new Numbers((n) => new Uint32Array(n), room);
    this.#rrsetStarts = new Numbers((n) => new Uint32Array(n), room);
    this.#types = new Numbers((n) => new Uint16Array(n), room);
    this.#counts = new Numbers((n) => new Uint16Array(n), room);
    this.#hashes = new Numbers((n) => new Uint32Array(n), room);
  }

  /**
   * Whether the name with key `key` (whose {@link keyHash} is `hash`) is in already.
   * @throws {RepeatedKey} when a key was added twice
   */
  has(key: string, hash = keyHash(key)): boolean {
    return this.indexOf(key, hash) >= 0 || (this.#odd.size > 0 && this.#odd.has(key));
  }

  /**
   * The number of the packed name with key `key` (in the order they were added), or -1 when it is
   * not packed (or kept apart as it was).
   * @throws {RepeatedKey} when a key was added twice
   */
  indexOf(key: string, hash = keyHash(key)): number {
    return this.#find(this.#placeAll(), key, hash);
  }

  /**
   * Packs the name with key `key` (its {@link keyHash} `hash`) and its RRsets.
   * @throws {EncodeError} for a record that cannot be written on the wire (it could not be served)
   * @throws {RepeatedKey} for a key kept apart (see the module) and added before
   */
  add(key: string, rrsets: readonly RRset[], hash = keyHash(key)): void {
    let run: Uint8Array;
    try {
      run = this.#writer.write(rrsets, key);
    } catch (error) {
      if (!(error instanceof EncodeError) || error.reason !== "message-too-long") throw error;
      return this.#keepApart(key, rrsets);
    }
    if (!this.#appendKey(key)) return this.#keepApart(key, rrsets);
    this.#pushNode(key, run);
    for (const rrset of rrsets) {
      this.#types.push(rrset.type);
      this.#counts.push(rrset.records.length);
    }
    this.#hashes.push(hash >>> 0);
    this.#packed++;
  }

  /**
   * Packs a name whose one record is an A (`ipv6` null) or AAAA record, class IN, owned by the
   * name spelled as `key` (plain ASCII): the run {@link add} would write for it, written here
   * without a record to encode (the zone stream's short path, zone_stream.ts).
   */
  addAddress(key: string, ttl: number, ipv4: number, ipv6: Uint8Array | null, hash = keyHash(key)): void {
    if (!this.#appendKey(key)) throw new RangeError(`"${key}" is not a plain ASCII key`);
    this.#pushNode(key, this.#writer.writeAddress(ttl, ipv4, ipv6));
    this.#types.push(ipv6 ? RRType.AAAA : RRType.A);
    this.#counts.push(1);
    this.#hashes.push(hash >>> 0);
    this.#packed++;
  }

  /** Counts in a key written by #appendKey and its run, and where its RRsets' types start. */
  #pushNode(key: string, run: Uint8Array): void {
    this.#keyStarts.push(this.#keysLength);
    this.#keysLength += key.length;
    this.#runStarts.push(this.#runs.length);
    this.#runs.append(run);
    this.#rrsetStarts.push(this.#types.length);
  }

  /**
   * The packed names; the builder is done with.
   * @throws {RepeatedKey} when a key was added twice
   */
  build(): PackedNodes {
    const table = this.#placeAll();
    // A name kept apart and packed too (its records were not together): rare, and few are kept apart.
    for (const key of this.#odd.keys()) {
      if (this.#find(table, key, keyHash(key)) >= 0) throw new RepeatedKey(`"${key}" is packed twice`);
    }
    this.#keyStarts.push(this.#keysLength);
    this.#runStarts.push(this.#runs.length);
    this.#rrsetStarts.push(this.#types.length);
    const shared = this.#shared;
    return new PackedNodes({
      keys: shared
        ? inSharedMemory(this.#keys.subarray(0, this.#keysLength))
        : this.#keys.slice(0, this.#keysLength),
      keyStarts: this.#keyStarts.trimmed(shared),
      runs: this.#runs.joined(shared),
      runStarts: this.#runStarts.trimmed(shared),
      types: this.#types.trimmed(shared),
      counts: this.#counts.trimmed(shared),
      rrsetStarts: this.#rrsetStarts.trimmed(shared),
      table: shared ? inSharedMemory(table) : table,
      shift: 32 - this.#bits,
      packed: this.#packed,
      odd: this.#odd,
    });
  }

  #keepApart(key: string, rrsets: readonly RRset[]): void {
    if (this.#odd.has(key)) throw new RepeatedKey(`"${key}" is packed twice`);
    this.#odd.set(key, { rrsets });
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

  /** The table with every packed node in it, at most half full: made, grown or filled up as needed. */
  #placeAll(): Int32Array {
    let bits = this.#bits;
    while (1 << bits < 2 * this.#packed) bits++;
    if (this.#table === null || bits !== this.#bits) {
      this.#bits = bits;
      this.#table = new Int32Array(2 << bits);
      this.#placed = 0;
    }
    const table = this.#table;
    const from = this.#placed;
    const to = this.#packed;
    if (to - from < SORT_FROM) {
      for (let node = from; node < to; node++) this.#place(table, node);
    } else {
      for (const node of this.#inRegionOrder(from, to)) this.#place(table, node);
    }
    this.#placed = to;
    return table;
  }

  /** Nodes `from` to `to` (not included) ordered by the region of the table their bucket is in. */
  #inRegionOrder(from: number, to: number): Uint32Array {
    const hashes = this.#hashes.array;
    const shift = 32 - Math.min(REGION_BITS, this.#bits);
    const starts = new Uint32Array((1 << (32 - shift)) + 1);
    for (let node = from; node < to; node++) starts[(Math.imul(hashes[node]!, GOLDEN) >>> shift) + 1]!++;
    for (let region = 1; region < starts.length; region++) starts[region]! += starts[region - 1]!;
    const order = new Uint32Array(to - from);
    for (let node = from; node < to; node++) {
      order[starts[Math.imul(hashes[node]!, GOLDEN) >>> shift]!++] = node;
    }
    return order;
  }

  #place(table: Int32Array, node: number): void {
    const hash = this.#hashes.array[node]! | 0;
    const mask = (1 << this.#bits) - 1;
    let bucket = Math.imul(hash, GOLDEN) >>> (32 - this.#bits);
    for (let entry = table[2 * bucket + 1]!; entry !== 0; entry = table[2 * bucket + 1]!) {
      if (table[2 * bucket] === hash && this.#sameKeys(entry - 1, node)) {
        throw new RepeatedKey(`a key is packed twice (names ${entry - 1} and ${node})`);
      }
      bucket = (bucket + 1) & mask;
    }
    table[2 * bucket] = hash;
    table[2 * bucket + 1] = node + 1;
  }

  #keyEnd(node: number): number {
    return node + 1 < this.#keyStarts.length ? this.#keyStarts.array[node + 1]! : this.#keysLength;
  }

  #find(table: Int32Array, key: string, hash: number): number {
    return findIn(
      table,
      32 - this.#bits,
      hash,
      (node) => spells(this.#keys, this.#keyStarts.array[node]!, this.#keyEnd(node), key),
    );
  }

  #sameKeys(a: number, b: number): boolean {
    const start = this.#keyStarts.array[a]!;
    const other = this.#keyStarts.array[b]!;
    const length = this.#keyEnd(a) - start;
    if (this.#keyEnd(b) - other !== length) return false;
    for (let i = 0; i < length; i++) if (this.#keys[start + i] !== this.#keys[other + i]) return false;
    return true;
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

/** Packs `nodes` (keys to RRsets, as a zone is built) in one go; in shared memory with `sharedMemory`. */
export function packNodes(nodes: ReadonlyMap<string, ZoneNode>, sharedMemory = false): PackedNodes {
  const builder = new PackedNodesBuilder(nodes.size, sharedMemory);
  for (const [key, node] of nodes) builder.add(key, node.rrsets);
  return builder.build();
}

/** The packed names of one zone. */
export class PackedNodes implements ZoneNodes {
  // Not readonly: share() moves them into shared memory, the same octets.
  #keys: Uint8Array<ArrayBufferLike>;
  /** Where each node's key starts in `#keys`; one more entry, the end. */
  #keyStarts: Uint32Array<ArrayBufferLike>;
  #runs: Uint8Array<ArrayBufferLike>;
  /** Where each node's run starts in `#runs`; one more entry, the end. */
  #runStarts: Uint32Array<ArrayBufferLike>;
  /** Each node's RRsets in order: their types and record counts, and where its list starts (one more entry, the end). */
  #types: Uint16Array<ArrayBufferLike>;
  #counts: Uint16Array<ArrayBufferLike>;
  #rrsetStarts: Uint32Array<ArrayBufferLike>;
  /** Pairs by bucket: the key's FNV-1a hash (checked before the key), its node number plus one (0: empty). */
  #table: Int32Array<ArrayBufferLike>;
  /** A hash's bucket is its Fibonacci mix's top bits (FNV-1a's low bits alone cluster). */
  readonly #shift: number;
  /** Nodes whose key has a character over 255, or whose run is too big for a message: as they are. */
  readonly #odd: ReadonlyMap<string, ZoneNode>;
  /** Places in `#recent`: no more than the zone has nodes (a small zone's reload makes it anew). */
  readonly #recentSize: number;
  readonly #recent: (ZoneNode | undefined)[];
  /** Which node each place of `#recent` holds. */
  readonly #recentNodes: Int32Array;
  /** How many nodes are packed (the rest are odd). */
  readonly #packed: number;
  readonly size: number;

  /** Made by {@link PackedNodesBuilder} (or {@link packNodes}), or in a worker from another's {@link share}. */
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
    this.#recentSize = Math.max(1, Math.min(RECENT, parts.packed));
    this.#recent = new Array(this.#recentSize);
    this.#recentNodes = new Int32Array(this.#recentSize).fill(-1);
  }

  /**
   * Moves the arrays into shared memory (once; later calls give the same parts) and returns them: a
   * worker makes its own `PackedNodes` over the same pages. Only a run with workers pays for it,
   * and then once: the arrays it had are dropped.
   */
  share(): PackedParts {
    if (!(this.#table.buffer instanceof SharedArrayBuffer)) {
      this.#keys = inSharedMemory(this.#keys);
      this.#keyStarts = inSharedMemory(this.#keyStarts);
      this.#runs = inSharedMemory(this.#runs);
      this.#runStarts = inSharedMemory(this.#runStarts);
      this.#types = inSharedMemory(this.#types);
      this.#counts = inSharedMemory(this.#counts);
      this.#rrsetStarts = inSharedMemory(this.#rrsetStarts);
      this.#table = inSharedMemory(this.#table);
    }
    return {
      keys: this.#keys,
      keyStarts: this.#keyStarts,
      runs: this.#runs,
      runStarts: this.#runStarts,
      types: this.#types,
      counts: this.#counts,
      rrsetStarts: this.#rrsetStarts,
      table: this.#table,
      shift: this.#shift,
      packed: this.#packed,
      odd: this.#odd,
    };
  }

  get(key: string): ZoneNode | undefined {
    const node = this.#find(key);
    if (node < 0) return this.#odd.get(key);
    const place = node % this.#recentSize;
    const recent = this.#recent[place];
    if (recent !== undefined && this.#recentNodes[place] === node) return recent;
    const decoded = this.#decode(node, key);
    this.#recent[place] = decoded;
    this.#recentNodes[place] = node;
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
    const starts = this.#keyStarts;
    return findIn(
      this.#table,
      this.#shift,
      keyHash(key),
      (node) => spells(this.#keys, starts[node]!, starts[node + 1]!, key),
    );
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
