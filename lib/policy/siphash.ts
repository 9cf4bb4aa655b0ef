/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash RFC 9018 uses for interoperable DNS
 * server cookies. No npm package of it runs on Deno without Node's Buffer or BigInt costs, so it is
 * written here over 32-bit halves: each 64-bit word is a high and a low unsigned 32-bit number.
 * Checked against the 64 reference vectors of the SipHash paper (tests/policy/siphash_test.ts).
 * @module
 */

/** Reads the little-endian 32-bit word at `at` of `bytes`. */
function le32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * The SipHash-2-4 of `message` under a 128-bit `key`: 8 octets, in the little-endian order of the
 * reference implementation.
 * @throws {RangeError} when the key is not 16 octets
 */
export function siphash24(key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new RangeError(`a SipHash key is 16 octets, not ${key.length}`);
  const k0l = le32(key, 0), k0h = le32(key, 4), k1l = le32(key, 8), k1h = le32(key, 12);
  // v0..v3 as high and low halves.
  let v0h = (k0h ^ 0x736f6d65) >>> 0, v0l = (k0l ^ 0x70736575) >>> 0;
  let v1h = (k1h ^ 0x646f7261) >>> 0, v1l = (k1l ^ 0x6e646f6d) >>> 0;
  let v2h = (k0h ^ 0x6c796765) >>> 0, v2l = (k0l ^ 0x6e657261) >>> 0;
  let v3h = (k1h ^ 0x74656462) >>> 0, v3l = (k1l ^ 0x79746573) >>> 0;

  function round(): void {
    let lo: number, th: number, tl: number;
    // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    lo = (v0l + v1l) >>> 0;
    v0h = (v0h + v1h + (lo < v0l ? 1 : 0)) >>> 0;
    v0l = lo;
    th = ((v1h << 13) | (v1l >>> 19)) >>> 0;
    tl = ((v1l << 13) | (v1h >>> 19)) >>> 0;
    v1h = (th ^ v0h) >>> 0;
    v1l = (tl ^ v0l) >>> 0;
    [v0h, v0l] = [v0l, v0h];
    // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
    lo = (v2l + v3l) >>> 0;
    v2h = (v2h + v3h + (lo < v2l ? 1 : 0)) >>> 0;
    v2l = lo;
    th = ((v3h << 16) | (v3l >>> 16)) >>> 0;
    tl = ((v3l << 16) | (v3h >>> 16)) >>> 0;
    v3h = (th ^ v2h) >>> 0;
    v3l = (tl ^ v2l) >>> 0;
    // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
    lo = (v0l + v3l) >>> 0;
    v0h = (v0h + v3h + (lo < v0l ? 1 : 0)) >>> 0;
    v0l = lo;
    th = ((v3h << 21) | (v3l >>> 11)) >>> 0;
    tl = ((v3l << 21) | (v3h >>> 11)) >>> 0;
    v3h = (th ^ v0h) >>> 0;
    v3l = (tl ^ v0l) >>> 0;
    // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    lo = (v2l + v1l) >>> 0;
    v2h = (v2h + v1h + (lo < v2l ? 1 : 0)) >>> 0;
    v2l = lo;
    th = ((v1h << 17) | (v1l >>> 15)) >>> 0;
    tl = ((v1l << 17) | (v1h >>> 15)) >>> 0;
    v1h = (th ^ v2h) >>> 0;
    v1l = (tl ^ v2l) >>> 0;
    [v2h, v2l] = [v2l, v2h];
  }

  function compress(mh: number, ml: number): void {
    v3h = (v3h ^ mh) >>> 0;
    v3l = (v3l ^ ml) >>> 0;
    round();
    round();
    v0h = (v0h ^ mh) >>> 0;
    v0l = (v0l ^ ml) >>> 0;
  }

  const length = message.length;
  const whole = length - (length % 8);
  for (let at = 0; at < whole; at += 8) compress(le32(message, at + 4), le32(message, at));
  // The last block: the remaining octets, and the length's low octet in the top octet.
  const tail = new Uint8Array(8);
  tail.set(message.subarray(whole));
  tail[7] = length & 0xff;
  compress(le32(tail, 4), le32(tail, 0));
  v2l = (v2l ^ 0xff) >>> 0;
  for (let i = 0; i < 4; i++) round();
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, (v0l ^ v1l ^ v2l ^ v3l) >>> 0, true);
  view.setUint32(4, (v0h ^ v1h ^ v2h ^ v3h) >>> 0, true);
  return out;
}
