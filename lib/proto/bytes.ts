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
