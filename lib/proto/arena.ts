/**
 * Cheap byte buffers for the hot path. Allocating an ArrayBuffer costs about a microsecond in
 * Deno whatever its size, as much as decoding a whole query, so the server carves messages out
 * of larger slabs and encodes into one reused scratch buffer.
 * @module
 */

import { CompressionTable } from "./wire.ts";

const MAX_MESSAGE = 0xffff;

/**
 * Hands out small byte arrays carved from shared slabs, and one scratch buffer for encoding.
 * A slab stays alive while any array carved from it does, so long-lived holders (a cache) should
 * keep their own copies (`slice()`) rather than arena arrays.
 */
export class ByteArena {
  readonly #slabSize: number;
  #slab: Uint8Array;
  #pos = 0;
  /** Reused by every encode: safe because encoding is synchronous and copies out at the end. */
  readonly scratch: Uint8Array = new Uint8Array(MAX_MESSAGE);
  /** The encoder's compression table, reused (and cleared) by every encode for the same reason. */
  readonly names: CompressionTable = new CompressionTable();

  /**
   * Creates an arena with one fresh slab.
   * @param slabSize octets per slab; a message larger than an eighth of this gets its own buffer
   */
  constructor(slabSize = 64 * 1024) {
    this.#slabSize = slabSize;
    this.#slab = new Uint8Array(slabSize);
  }

  /** Returns a copy of `bytes` that nothing else will ever write to. */
  copy(bytes: Uint8Array): Uint8Array {
    const view = this.take(bytes.length);
    view.set(bytes);
    return view;
  }

  /** Returns `length` octets of its own for the caller to fill (what they hold is unspecified). */
  take(length: number): Uint8Array {
    if (length > this.#slabSize >>> 3) return new Uint8Array(length);
    if (this.#pos + length > this.#slabSize) {
      this.#slab = new Uint8Array(this.#slabSize);
      this.#pos = 0;
    }
    const view = this.#slab.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return view;
  }
}
