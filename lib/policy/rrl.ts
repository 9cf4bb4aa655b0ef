/**
 * Response rate limiting (RRL, as BIND, NSD and Knot have it): a token bucket per client prefix
 * (/24 for IPv4 and /56 for IPv6 by default) refilled at N responses a second with a burst of N.
 * A UDP response over the limit is dropped, except every K-th, which is "slipped": sent truncated
 * (TC=1, no records) so that a real client, whose source address is not forged, retries over TCP.
 *
 * The buckets live in typed arrays of a fixed size, set-associative: a prefix hashes to one set of
 * {@link WAYS} slots, and a new prefix takes the slot of the set seen least recently. A flood from
 * random source addresses only evicts buckets; it cannot grow the memory. One check is one hash and
 * a few array reads and writes, with no allocation.
 * @module
 */
import { parseIPv4, parseIPv6 } from "../proto/mod.ts";
import { SocketPeer } from "../net/mod.ts";

/** What becomes of one response. */
export const RateDecision = {
  /** Within the limit: sent as it is. */
  SEND: 0,
  /** Over the limit: not sent. */
  DROP: 1,
  /** Over the limit, but the K-th such: sent truncated. */
  SLIP: 2,
} as const;

/** One of {@link RateDecision}. */
export type RateDecision = typeof RateDecision[keyof typeof RateDecision];

/** Settings of a {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Responses a second per prefix, and the burst; at least 1 (0 means no limiter at all). */
  readonly perSecond: number;
  /** The IPv4 prefix length clients are grouped by (0 to 32). */
  readonly prefix4: number;
  /** The IPv6 prefix length clients are grouped by (0 to 128; only the first 64 bits count). */
  readonly prefix6: number;
  /** Every `slip`-th response over the limit is sent truncated: 0 drops all, 1 slips all. */
  readonly slip: number;
  /** Buckets kept, rounded up to a multiple of {@link WAYS} (default 65,536). */
  readonly buckets?: number;
}

/** Slots per set: a new prefix evicts the least recently seen of these. */
export const WAYS = 4;
const DEFAULT_BUCKETS = 65_536;
const EMPTY = 0;
const V4 = 4;
const V6 = 6;

/** The network mask of the first `bits` of a 32-bit word. */
function mask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** A 32-bit mix of a prefix key (Murmur3's finaliser over the words). */
function mix(family: number, high: number, low: number): number {
  let h = Math.imul(high ^ Math.imul(family, 0x9e3779b1), 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ low;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Token buckets per client prefix, in a fixed amount of memory. Pure apart from the injected clock.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #slip: number;
  readonly #mask4: number;
  readonly #mask6High: number;
  readonly #mask6Low: number;
  readonly #sets: number;
  readonly #now: () => number;
  readonly #family: Uint8Array;
  readonly #high: Uint32Array;
  readonly #low: Uint32Array;
  readonly #tokens: Float64Array;
  readonly #seen: Float64Array;
  readonly #over: Uint32Array;
  #used = 0;
  #dropped = 0;
  #slipped = 0;

  /**
   * @param options the limit, the prefix lengths, the slip and the number of buckets
   * @param now milliseconds on a monotonic clock
   * @throws {RangeError} for a rate below 1 or a prefix length out of range
   */
  constructor(options: RateLimitOptions, now: () => number = () => performance.now()) {
    const { perSecond, prefix4, prefix6, slip } = options;
    if (!(perSecond >= 1)) throw new RangeError(`rate limit ${perSecond}: at least 1 a second`);
    if (!(prefix4 >= 0 && prefix4 <= 32)) throw new RangeError(`IPv4 prefix /${prefix4}: 0 to 32`);
    if (!(prefix6 >= 0 && prefix6 <= 128)) throw new RangeError(`IPv6 prefix /${prefix6}: 0 to 128`);
    this.#rate = perSecond;
    this.#slip = slip;
    this.#mask4 = mask(prefix4);
    this.#mask6High = mask(prefix6);
    this.#mask6Low = mask(prefix6 - 32);
    this.#sets = Math.max(1, Math.ceil((options.buckets ?? DEFAULT_BUCKETS) / WAYS));
    this.#now = now;
    const slots = this.#sets * WAYS;
    this.#family = new Uint8Array(slots);
    this.#high = new Uint32Array(slots);
    this.#low = new Uint32Array(slots);
    this.#tokens = new Float64Array(slots);
    this.#seen = new Float64Array(slots);
    this.#over = new Uint32Array(slots);
  }

  /** Buckets the limiter can hold: its memory is fixed by this number. */
  get capacity(): number {
    return this.#family.length;
  }

  /** Buckets in use (at most {@link capacity}). */
  get size(): number {
    return this.#used;
  }

  /** Responses dropped and slipped so far. */
  get counts(): { readonly dropped: number; readonly slipped: number } {
    return { dropped: this.#dropped, slipped: this.#slipped };
  }

  /**
   * Takes one response's token from the bucket of `client`'s prefix. An address that is neither
   * IPv4 nor IPv6 text (none reaches a UDP socket) is never limited.
   */
  check(client: Deno.NetAddr): RateDecision {
    if (client instanceof SocketPeer) {
      const raw = SocketPeer.raw(client);
      if (raw.length === 16) return this.take(V4, word(raw, 4), 0);
      return this.#six(raw, 8);
    }
    const hostname = client.hostname;
    if (!hostname.includes(":")) {
      const octets = parseIPv4(hostname);
      return octets ? this.take(V4, word(octets, 0), 0) : RateDecision.SEND;
    }
    const octets = parseIPv6(hostname);
    return octets ? this.#six(octets, 0) : RateDecision.SEND;
  }

  /** An IPv6 address at `start` of `bytes`; one that maps an IPv4 address counts as that address. */
  #six(bytes: Uint8Array, start: number): RateDecision {
    const third = word(bytes, start + 8);
    if (word(bytes, start) === 0 && word(bytes, start + 4) === 0 && third === 0xffff) {
      return this.take(V4, word(bytes, start + 12), 0);
    }
    return this.take(V6, word(bytes, start), word(bytes, start + 4));
  }

  /**
   * The tokens the bucket of `address`'s prefix holds now, refilled to this moment, without taking
   * one or changing anything: the rate when no bucket holds the prefix (a new one starts full),
   * null for text that is not an IP address. For the explain endpoint.
   * @param address an IPv4 or IPv6 address as text
   */
  tokensLeft(address: string): number | null {
    const octets = address.includes(":") ? parseIPv6(address) : parseIPv4(address);
    if (!octets) return null;
    let family: 4 | 6 = V6;
    let high = word(octets, 0);
    let low = octets.length === 16 ? word(octets, 4) : 0;
    if (octets.length === 4) family = V4;
    else if (high === 0 && low === 0 && word(octets, 8) === 0xffff) {
      family = V4;
      high = word(octets, 12);
      low = 0;
    }
    const keyHigh = (family === V4 ? high & this.#mask4 : high & this.#mask6High) >>> 0;
    const keyLow = (family === V4 ? 0 : low & this.#mask6Low) >>> 0;
    const base = (mix(family, keyHigh, keyLow) % this.#sets) * WAYS;
    for (let i = base; i < base + WAYS; i++) {
      if (this.#family[i] === family && this.#high[i] === keyHigh && this.#low[i] === keyLow) {
        const refill = ((this.#now() - this.#seen[i]!) * this.#rate) / 1000;
        return Math.min(this.#rate, this.#tokens[i]! + Math.max(0, refill));
      }
    }
    return this.#rate;
  }

  /**
   * Takes one token for a key: the address's first 32 bits (`high`) and, for IPv6, the next 32
   * (`low`), before masking. Public for tests and for callers that hold the address as numbers.
   */
  take(family: 4 | 6, high: number, low: number): RateDecision {
    const keyHigh = (family === V4 ? high & this.#mask4 : high & this.#mask6High) >>> 0;
    const keyLow = (family === V4 ? 0 : low & this.#mask6Low) >>> 0;
    const base = (mix(family, keyHigh, keyLow) % this.#sets) * WAYS;
    const now = this.#now();
    let slot = -1;
    let oldest = base;
    for (let i = base; i < base + WAYS; i++) {
      if (this.#family[i] === family && this.#high[i] === keyHigh && this.#low[i] === keyLow) {
        slot = i;
        break;
      }
      if (this.#family[i] === EMPTY) {
        if (this.#family[oldest] !== EMPTY) oldest = i;
      } else if (this.#family[oldest] !== EMPTY && this.#seen[i]! < this.#seen[oldest]!) {
        oldest = i;
      }
    }
    if (slot < 0) {
      // A new prefix: a full bucket, in the least recently seen slot of its set.
      slot = oldest;
      if (this.#family[slot] === EMPTY) this.#used++;
      this.#family[slot] = family;
      this.#high[slot] = keyHigh;
      this.#low[slot] = keyLow;
      this.#tokens[slot] = this.#rate;
      this.#over[slot] = 0;
    } else {
      const refill = ((now - this.#seen[slot]!) * this.#rate) / 1000;
      if (refill > 0) this.#tokens[slot] = Math.min(this.#rate, this.#tokens[slot]! + refill);
    }
    this.#seen[slot] = now;
    if (this.#tokens[slot]! >= 1) {
      this.#tokens[slot] = this.#tokens[slot]! - 1;
      return RateDecision.SEND;
    }
    const over = this.#over[slot]! + 1;
    this.#over[slot] = over;
    if (this.#slip > 0 && over % this.#slip === 0) {
      this.#slipped++;
      return RateDecision.SLIP;
    }
    this.#dropped++;
    return RateDecision.DROP;
  }
}

/** The big-endian 32-bit word at `start` of `bytes`. */
function word(bytes: Uint8Array, start: number): number {
  return ((bytes[start]! << 24) | (bytes[start + 1]! << 16) | (bytes[start + 2]! << 8) |
    bytes[start + 3]!) >>> 0;
}

/**
 * The truncated form of a response that slips: its header with TC=1 and its question, with no
 * records (no OPT either), as BIND sends. A response whose question cannot be walked keeps only its
 * header.
 */
export function slipResponse(response: Uint8Array): Uint8Array {
  let end = 12;
  const questions = response.length >= 12 ? (response[4]! << 8) | response[5]! : 0;
  for (let q = 0; q < questions; q++) {
    while (end < response.length) {
      const length = response[end]!;
      if (length === 0) {
        end += 1;
        break;
      }
      if ((length & 0xc0) === 0xc0) {
        end += 2;
        break;
      }
      end += 1 + length;
    }
    end += 4; // QTYPE and QCLASS
  }
  if (end > response.length) end = Math.min(response.length, 12);
  const truncated = response.slice(0, end);
  if (truncated.length < 12) return truncated;
  truncated[2] = truncated[2]! | 0x02; // TC
  if (end === 12) truncated[4] = truncated[5] = 0;
  truncated.fill(0, 6, 12); // ANCOUNT, NSCOUNT, ARCOUNT
  return truncated;
}
