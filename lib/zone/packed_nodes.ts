/**
 * A zone's names and their records, packed: each name's key as octets in one buffer, its records
 * as a run of wire octets (lib/proto/record_run.ts) in another, and an open-addressing table of
 * numbers to find a key. A million A records take about 70 MiB this way; as a Map of decoded
 * records they took about 800 (bench:memory, issue 19), all of it objects for every full garbage
 * collection to walk. A name looked up is decoded again, and the last 4,096 decoded are kept.
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

  /** Appends text whose characters are all below 256, one octet each. */
  appendLatin1(text: string): void {
    if (this.#used + text.length > this.#chunk.length) this.#next(text.length);
    const chunk = this.#chunk;
    let at = this.#used;
    for (let i = 0; i < text.length; i++) chunk[at++] = text.charCodeAt(i);
    this.#used = at;
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
  /** Node number plus one by hash bucket; 0 empty. */
  readonly #table: Int32Array;
  /** The FNV-1a hash of each bucket's key, checked before the key itself. */
  readonly #hashes: Int32Array;
  /** A hash's bucket is its Fibonacci mix's top bits (FNV-1a's low bits alone cluster). */
  readonly #shift: number;
  /** Nodes whose key has a character over 255, or whose run is too big for a message: as they are. */
  readonly #odd = new Map<string, ZoneNode>();
  readonly #recent: (ZoneNode | undefined)[] = new Array(RECENT);
  /** Which node each place of `#recent` holds. */
  readonly #recentNodes = new Int32Array(RECENT).fill(-1);
  /** How many nodes are packed (the rest are odd). */
  readonly #packed: number;
  readonly size: number;

  /**
   * Packs `nodes` (keys to RRsets, as a zone is built).
   * @throws {EncodeError} for a record that cannot be written on the wire (it could not be served)
   */
  constructor(nodes: ReadonlyMap<string, ZoneNode>) {
    let rrsetCount = 0;
    for (const node of nodes.values()) rrsetCount += node.rrsets.length;
    const keys = new Chunks();
    const runs = new Chunks();
    // Sized for every node up front (the odd ones leave a few unused at the end).
    const keyStarts = new Uint32Array(nodes.size + 1);
    const runStarts = new Uint32Array(nodes.size + 1);
    const rrsetStarts = new Uint32Array(nodes.size + 1);
    const types = new Uint16Array(rrsetCount);
    const counts = new Uint16Array(rrsetCount);
    let bits = 4;
    while (1 << bits < nodes.size * 2) bits++;
    const buckets = 1 << bits;
    const table = new Int32Array(buckets);
    const hashes = new Int32Array(buckets);
    const writer = new RecordRunWriter();
    let packed = 0;
    let rrsets = 0;
    for (const [key, node] of nodes) {
      let run: Uint8Array;
      try {
        run = writer.write(node.rrsets);
      } catch (error) {
        if (!(error instanceof EncodeError) || error.reason !== "message-too-long") throw error;
        this.#odd.set(key, node);
        continue;
      }
      if (!latin1(key)) {
        this.#odd.set(key, node);
        continue;
      }
      keyStarts[packed] = keys.length;
      keys.appendLatin1(key);
      runStarts[packed] = runs.length;
      runs.append(run);
      rrsetStarts[packed] = rrsets;
      for (const rrset of node.rrsets) {
        types[rrsets] = rrset.type;
        counts[rrsets++] = rrset.records.length;
      }
      const hash = fnv1aText(key) | 0;
      let bucket = Math.imul(hash, GOLDEN) >>> (32 - bits);
      while (table[bucket] !== 0) bucket = (bucket + 1) & (buckets - 1);
      hashes[bucket] = hash;
      table[bucket] = ++packed;
    }
    keyStarts[packed] = keys.length;
    runStarts[packed] = runs.length;
    rrsetStarts[packed] = rrsets;
    this.#packed = packed;
    this.#keys = keys.joined();
    this.#runs = runs.joined();
    this.#keyStarts = keyStarts;
    this.#runStarts = runStarts;
    this.#types = types;
    this.#counts = counts;
    this.#rrsetStarts = rrsetStarts;
    this.#table = table;
    this.#hashes = hashes;
    this.#shift = 32 - bits;
    this.size = packed + this.#odd.size;
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
    for (let node = 0; node < this.#packed; node++) yield this.#decode(node);
    yield* this.#odd.values();
  }

  #find(key: string): number {
    const table = this.#table;
    const mask = table.length - 1;
    const hash = fnv1aText(key) | 0;
    for (let bucket = Math.imul(hash, GOLDEN) >>> this.#shift;; bucket = (bucket + 1) & mask) {
      const entry = table[bucket]!;
      if (entry === 0) return -1;
      if (this.#hashes[bucket] === hash && this.#keyIs(entry - 1, key)) return entry - 1;
    }
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

  /** Node `node`'s RRsets; `key`, when the caller has it, spares decoding owners spelled as it. */
  #decode(node: number, key?: string): ZoneNode {
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

function latin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}
