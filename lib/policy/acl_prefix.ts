/**
 * Address prefixes (CIDR) parsed once into numbers, and a set of them that tells whether an
 * address lies inside any: what `--allow`, `--deny` and `--allow-recursion` are made of. Matching
 * reads the address text as it comes (`Deno.NetAddr.hostname`) into numbers held by the set, so a
 * check on the hot path allocates nothing.
 * @module
 */
import { ipv4Number, parseIPv6 } from "../proto/mod.ts";
import { SocketPeer } from "../net/mod.ts";

/** A client as the servers know it: Deno's address, or the batched sockets' `SocketPeer`. */
export type ClientAddress = { readonly hostname: string };

/** A CIDR that cannot be read, with the text and why. */
export class PrefixError extends Error {
  /** The error's name. */
  override name = "PrefixError";
  /**
   * @param text the CIDR as written
   * @param reason why it cannot be read
   */
  constructor(readonly text: string, readonly reason: string) {
    super(`Cannot read prefix "${text}": ${reason}`);
  }
}

/** One prefix: IPv4 as a 32-bit number, IPv6 as four 32-bit words; host bits are cleared. */
export type Prefix =
  | { readonly family: 4; readonly network: number; readonly length: number }
  | {
    readonly family: 6;
    readonly words: readonly [number, number, number, number];
    readonly length: number;
  };

/** The mask of the first `length` bits of a 32-bit word (0 ≤ length ≤ 32), unsigned. */
function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** Whether every address of `inner` lies in `outer` (same family, no shorter, same first bits). */
export function prefixWithin(inner: Prefix, outer: Prefix): boolean {
  if (inner.family !== outer.family || inner.length < outer.length) return false;
  if (inner.family === 4 && outer.family === 4) {
    return ((inner.network & maskOf(outer.length)) >>> 0) === outer.network;
  }
  if (inner.family !== 6 || outer.family !== 6) return false;
  for (let w = 0; w < 4; w++) {
    const mask = maskOf(Math.max(0, Math.min(32, outer.length - 32 * w)));
    if (((inner.words[w]! & mask) >>> 0) !== outer.words[w]) return false;
  }
  return true;
}

/**
 * Parses `ADDRESS` or `ADDRESS/LENGTH`, IPv4 or IPv6 (an address alone is a /32 or a /128). Bits
 * past the length are cleared, as BIND and unbound read `10.1.2.3/8`.
 * @throws {PrefixError} when the address or the length is not valid
 */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const v4 = ipv4Number(address);
  const max = v4 >= 0 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const digits = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(digits) || Number(digits) > max) {
      throw new PrefixError(text, `the length must be 0 to ${max}`);
    }
    length = Number(digits);
  }
  if (v4 >= 0) return { family: 4, network: (v4 & maskOf(length)) >>> 0, length };
  const octets = address.includes(":") ? parseIPv6(address) : null;
  if (!octets) throw new PrefixError(text, "not an IPv4 or IPv6 address");
  const view = new DataView(octets.buffer);
  const word = (i: number) =>
    (view.getUint32(4 * i) & maskOf(Math.max(0, Math.min(32, length - 32 * i)))) >>> 0;
  // An IPv4-mapped prefix (::ffff:a.b.c.d/96 or longer) is the IPv4 one: clients reached over a
  // dual-stack socket are matched as IPv4, so the rule must be too, or it would never match.
  if (length >= 96 && word(0) === 0 && word(1) === 0 && word(2) === 0xffff) {
    return { family: 4, network: word(3), length: length - 96 };
  }
  return { family: 6, words: [word(0), word(1), word(2), word(3)], length };
}

/** Reads hex digits of `text` from `start` to `end` as a number, or -1 when not 1 to 4 hex digits. */
function hexGroup(text: string, start: number, end: number): number {
  if (end <= start || end - start > 4) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) | 0x20; // folds A-F to a-f
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * A set of prefixes, IPv4 and IPv6. IPv4 prefixes are kept by length, each length a `Set` of
 * networks, so a check is one `has()` per distinct length; IPv6 ones in a flat `Uint32Array`
 * (four words and a length each), scanned in turn. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
 * as a dual-stack socket reports IPv4 clients) is matched as the IPv4 address it is.
 */
export class PrefixSet {
  readonly #v4 = new Map<number, Set<number>>();
  readonly #v4Lengths: number[] = [];
  readonly #v6: Uint32Array;
  /** Where an IPv6 address being matched is read into: reused, so matching allocates nothing. */
  readonly #groups = new Uint16Array(8);
  /** How many prefixes the set holds. */
  readonly size: number;

  /** @param prefixes the prefixes, parsed (see {@link parsePrefix}) */
  constructor(prefixes: readonly Prefix[]) {
    const v6: number[] = [];
    for (const prefix of prefixes) {
      if (prefix.family === 4) {
        let networks = this.#v4.get(prefix.length);
        if (!networks) this.#v4.set(prefix.length, networks = new Set());
        networks.add(prefix.network);
      } else {
        v6.push(...prefix.words, prefix.length);
      }
    }
    // Longest first: the more specific a prefix, the likelier it names the clients asking.
    this.#v4Lengths = [...this.#v4.keys()].sort((a, b) => b - a);
    this.#v6 = Uint32Array.from(v6);
    this.size = prefixes.length;
  }

  /** Parses each CIDR of `texts` (see {@link parsePrefix}) into a set. @throws {PrefixError} */
  static parse(texts: readonly string[]): PrefixSet {
    return new PrefixSet(texts.map(parsePrefix));
  }

  /** Whether the IPv4 address `address` (a 32-bit number) lies in one of the IPv4 prefixes. */
  hasV4(address: number): boolean {
    for (const length of this.#v4Lengths) {
      if (this.#v4.get(length)!.has((address & maskOf(length)) >>> 0)) return true;
    }
    return false;
  }

  /**
   * Whether `client`'s address lies in one of the prefixes. A sender of the batched sockets is read
   * from its struct sockaddr as it came: asked on every query (memo hits included), the check would
   * otherwise write the address as text and read it back.
   */
  hasClient(client: ClientAddress): boolean {
    if (this.size === 0) return false;
    if (client instanceof SocketPeer) {
      const raw = SocketPeer.raw(client);
      if (raw.length === 16) {
        return this.hasV4(((raw[4]! << 24) | (raw[5]! << 16) | (raw[6]! << 8) | raw[7]!) >>> 0);
      }
    }
    return this.has(client.hostname);
  }

  /**
   * Whether the address written `text` (as `Deno.NetAddr.hostname` gives it, IPv4 or IPv6, with
   * no zone or brackets) lies in one of the prefixes; an address that cannot be read is in none.
   */
  has(text: string): boolean {
    if (this.size === 0) return false;
    if (!text.includes(":")) {
      const v4 = ipv4Number(text);
      return v4 >= 0 && this.hasV4(v4);
    }
    const groups = this.#groups;
    const mapped = this.#readV6(text, groups);
    if (mapped === -2) return false;
    if (mapped >= 0) return this.hasV4(mapped);
    const v6 = this.#v6;
    for (let at = 0; at < v6.length; at += 5) {
      let inside = true;
      const length = v6[at + 4]!;
      for (let w = 0; w < 4 && inside; w++) {
        const word = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
        const mask = maskOf(Math.max(0, Math.min(32, length - 32 * w)));
        inside = ((word & mask) >>> 0) === v6[at + w];
      }
      if (inside) return true;
    }
    return false;
  }

  /**
   * Reads IPv6 text into `groups` (eight 16-bit groups). Returns -1 when read, the IPv4 address as
   * a number when it is IPv4-mapped (`::ffff:0:0/96`), or -2 when it cannot be read.
   */
  #readV6(text: string, groups: Uint16Array): number {
    groups.fill(0);
    let count = 0;
    let gap = -1; // the group index where "::" stands
    let start = 0;
    let tail = -1; // a dotted IPv4 tail, as a number
    if (text.startsWith("::")) {
      gap = 0;
      start = 2;
    }
    while (start < text.length) {
      let end = text.indexOf(":", start);
      if (end < 0) end = text.length;
      if (text.indexOf(".", start) >= 0 && end === text.length) {
        tail = ipv4Number(text.slice(start)); // rare: only IPv4 written inside IPv6 text
        if (tail < 0 || count > 6) return -2;
        groups[count++] = tail >>> 16;
        groups[count++] = tail & 0xffff;
        break;
      }
      const group = hexGroup(text, start, end);
      if (group < 0 || count >= 8) return -2;
      groups[count++] = group;
      start = end + 1;
      if (text.charCodeAt(start) === 0x3a) {
        if (gap >= 0) return -2;
        gap = count;
        start++;
      }
    }
    if (gap >= 0) {
      if (count > 7) return -2;
      const moved = count - gap;
      for (let i = 0; i < moved; i++) groups[7 - i] = groups[count - 1 - i]!;
      for (let i = gap; i < 8 - moved; i++) groups[i] = 0;
    } else if (count !== 8) {
      return -2;
    }
    const isMapped = groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 &&
      groups[4] === 0 && groups[5] === 0xffff;
    return isMapped ? ((groups[6]! << 16) | groups[7]!) >>> 0 : -1;
  }
}
