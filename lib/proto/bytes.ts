/**
 * Octet helpers the codec's users share (DNSSEC's canonical forms, TSIG's MAC input, a DoH body).
 * @module
 */

/** The octets of `parts` one after another. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/** A typed array whose memory is a `SharedArrayBuffer`. */
type SharableArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/**
 * `array`'s elements in shared memory: posted to a worker, the new array is the same memory there,
 * not a copy (a zone or a blocklist is built once and read by every worker). `array` itself when
 * it already is.
 */
export function inSharedMemory<T extends SharableArray>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const Kind = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const shared = new Kind(new SharedArrayBuffer(array.byteLength));
  shared.set(array);
  return shared;
}
