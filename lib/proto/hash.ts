/**
 * FNV-1a (32 bits), the one hash dnsd keys its tables by: a multiplication an octet, nothing
 * allocated, and a number key, which a Map looks up faster than a string.
 * @module
 */

const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

/**
 * FNV-1a over `bytes` from `start` to `end`, as an unsigned 32-bit integer.
 * @example The response memo's key: a query after its two-octet ID
 * ```ts
 * import { fnv1a } from "./hash.ts";
 * const key = fnv1a(new Uint8Array([0xab, 0xcd, 1, 0]), 2);
 * ```
 */
export function fnv1a(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  let hash = OFFSET_BASIS;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, PRIME);
  return hash >>> 0;
}

/**
 * FNV-1a over the UTF-16 code units of `text`, as an unsigned 32-bit integer: for ASCII text, the
 * same as {@link fnv1a} over its octets.
 */
export function fnv1aText(text: string): number {
  let hash = OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), PRIME);
  return hash >>> 0;
}
