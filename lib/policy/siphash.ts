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
 * Runs `count` SipRounds over the state `v` (v0..v3, each as high then low half), after XORing the
 * message word into v3, and XORs it into v0 after (`mh`, `ml`: the word's halves; 0 for none).
 */
function rounds(v: Int32Array, count: number, mh: number, ml: number): void {
  let v0h = v[0]! | 0, v0l = v[1]! | 0, v1h = v[2]! | 0, v1l = v[3]! | 0, v2h = v[4]! | 0, v2l = v[5]! | 0;
  let v3h = (v[6]! ^ mh) >>> 0, v3l = (v[7]! ^ ml) | 0;
  let lo: number, th: number, tl: number;
  for (let i = 0; i < count; i++) {
    // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    lo = (v0l + v1l) | 0;
    v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
    v0l = lo;
    th = (v1h << 13) | (v1l >>> 19);
    tl = (v1l << 13) | (v1h >>> 19);
    v1h = (th ^ v0h) | 0;
    v1l = (tl ^ v0l) | 0;
    th = v0h;
    v0h = v0l;
    v0l = th;
    // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
    lo = (v2l + v3l) | 0;
    v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
    v2l = lo;
    th = ((v3h << 16) | (v3l >>> 16)) | 0;
    tl = ((v3l << 16) | (v3h >>> 16)) | 0;
    v3h = (th ^ v2h) | 0;
    v3l = (tl ^ v2l) | 0;
    // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
    lo = (v0l + v3l) | 0;
    v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
    v0l = lo;
    th = ((v3h << 21) | (v3l >>> 11)) | 0;
    tl = ((v3l << 21) | (v3h >>> 11)) | 0;
    v3h = (th ^ v0h) | 0;
    v3l = (tl ^ v0l) | 0;
    // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    lo = (v2l + v1l) | 0;
    v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
    v2l = lo;
    th = ((v1h << 17) | (v1l >>> 15)) | 0;
    tl = ((v1l << 17) | (v1h >>> 15)) | 0;
    v1h = (th ^ v2h) | 0;
    v1l = (tl ^ v2l) | 0;
    th = v2h;
    v2h = v2l;
    v2l = th;
  }
  v[0] = v0h ^ mh;
  v[1] = v0l ^ ml;
  v[2] = v1h;
  v[3] = v1l;
  v[4] = v2h;
  v[5] = v2l;
  v[6] = v3h;
  v[7] = v3l;
}

/**
 * The SipHash-2-4 of `message` under a 128-bit `key`: 8 octets, in the little-endian order of the
 * reference implementation.
 * @throws {RangeError} when the key is not 16 octets
 */
export function siphash24(key: Uint8Array, message: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  siphash24Into(key, message, message.length, out, 0, new Int32Array(8));
  return out;
}

/**
 * The SipHash-2-4 of the first `length` octets of `message` under `key`, written at `out[at]` (8
 * octets): the same as {@link siphash24}, allocating nothing, for the server cookies made and
 * checked on every query that carries one. `state` is the caller's scratch (8 words).
 * @throws {RangeError} when the key is not 16 octets
 */
export function siphash24Into(
  key: Uint8Array,
  message: Uint8Array,
  length: number,
  out: Uint8Array,
  at: number,
  state: Int32Array,
): void {
  if (key.length !== 16) throw new RangeError(`a SipHash key is 16 octets, not ${key.length}`);
  const k0l = le32(key, 0), k0h = le32(key, 4), k1l = le32(key, 8), k1h = le32(key, 12);
  const v = state;
  v[0] = k0h ^ 0x736f6d65;
  v[1] = k0l ^ 0x70736575;
  v[2] = k1h ^ 0x646f7261;
  v[3] = k1l ^ 0x6e646f6d;
  v[4] = k0h ^ 0x6c796765;
  v[5] = k0l ^ 0x6e657261;
  v[6] = k1h ^ 0x74656462;
  v[7] = k1l ^ 0x79746573;
  const whole = length - (length % 8);
  for (let from = 0; from < whole; from += 8) {
    rounds(v, 2, le32(message, from + 4) | 0, le32(message, from) | 0);
  }
  // The last block: the remaining octets, and the length's low octet in the top octet.
  let low = 0, high = (length & 0xff) << 24;
  for (let i = whole; i < length; i++) {
    const shift = ((i - whole) & 3) * 8;
    if (i - whole < 4) low |= message[i]! << shift;
    else high |= message[i]! << shift;
  }
  rounds(v, 2, high, low);
  v[5] = v[5]! ^ 0xff;
  rounds(v, 4, 0, 0);
  const resultLow = v[1]! ^ v[3]! ^ v[5]! ^ v[7]!;
  const resultHigh = v[0]! ^ v[2]! ^ v[4]! ^ v[6]!;
  for (let i = 0; i < 4; i++) {
    out[at + i] = (resultLow >>> (8 * i)) & 0xff;
    out[at + 4 + i] = (resultHigh >>> (8 * i)) & 0xff;
  }
}
