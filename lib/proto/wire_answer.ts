/**
 * Upstream answers kept as the bytes they came in. Decoding a reply into records and encoding them
 * again for the client is most of what a forwarded query costs; a forwarder only has to put back
 * the client's ID, flags, question case and OPT record, and count the TTLs down. One walk over the
 * reply checks it and notes where those fields are; {@link scanAnswer} hands anything it does not
 * fully check (an unusual type, an extended RCODE, an OPT record that is not last, a record that
 * scrubbing would remove, a TTL with the top bit set) back to the decoder. Pure: no I/O, no clock.
 * @module
 */
import { HEADER_SIZE, headerFlags } from "./codec.ts";
import { negativeTtl } from "./message.ts";
import { foldOctet } from "./name.ts";
import { RRType } from "./types.ts";
import { labelsAt, MAX_LABEL as LABEL_LIMIT, MAX_NAME as NAME_LIMIT, pointerTarget } from "./wire.ts";

// The limits as this module's own constants: V8 checks an imported binding on every read, which costs
// this walk about 8% (bench: scanAnswer of a CNAME reply, 285 ns against 263 ns with these copies).
const MAX_LABEL = LABEL_LIMIT;
const MAX_NAME = NAME_LIMIT;

/** Record types whose RDATA the walk checks as the decoder would: the rest go to the decoder. */
const enum Rdata {
  /** Exactly this many octets. */
  Fixed,
  /** One name, filling the RDATA. */
  Name,
  /** A 16-bit preference and a name. */
  Mx,
  /** Two names and five 32-bit numbers. */
  Soa,
  /** Character strings filling the RDATA. */
  Text,
}

const CHECKED = new Map<number, { kind: Rdata; length?: number }>([
  [RRType.A, { kind: Rdata.Fixed, length: 4 }],
  [RRType.AAAA, { kind: Rdata.Fixed, length: 16 }],
  [RRType.NS, { kind: Rdata.Name }],
  [RRType.CNAME, { kind: Rdata.Name }],
  [RRType.PTR, { kind: Rdata.Name }],
  [RRType.MX, { kind: Rdata.Mx }],
  [RRType.SOA, { kind: Rdata.Soa }],
  [RRType.TXT, { kind: Rdata.Text }],
]);

/** What serving an upstream reply needs, found by one walk over it. */
export interface WireAnswer {
  /** The reply as it came (the caller's own copy: it is kept). */
  readonly bytes: Uint8Array;
  /** Its RCODE (the header's four bits: replies with an extended RCODE are decoded instead). */
  readonly rcode: number;
  /** Where the records end: the OPT record, when there is one, starts here (and is dropped). */
  readonly end: number;
  /** ANCOUNT. */
  readonly answerCount: number;
  /** NSCOUNT. */
  readonly authorityCount: number;
  /** ARCOUNT without the OPT record. */
  readonly additionalCount: number;
  /**
   * The offset of each record's TTL, in order (the OPT record's not among them). Exactly as long as
   * it needs to be: a cache holds one per entry (three count fields instead of an array, too).
   */
  readonly ttlAt: readonly number[];
  /** How many of `ttlAt` belong to the answer and authority sections. */
  readonly ttlsBeforeAdditional: number;
  /** Where each owner name spelling the question starts (for putting the client's case back). */
  readonly questionOwners: readonly number[];
  /**
   * How long it may be cached, in seconds, before clamps: the least TTL of the answer and authority
   * records, or for NXDOMAIN and NODATA min(SOA TTL, SOA MINIMUM); null when it must not be (RFC 2308).
   */
  readonly ttl: number | null;
}

/**
 * The end of the name at `pos` of `bytes` (after its pointer, when compressed), or -1 when the
 * decoder should look at it: pointers only backwards and past the header, plain labels, 255 octets
 * at most.
 */
function nameEnd(bytes: Uint8Array, pos: number, limit: number): number {
  let lowest = pos;
  let resume = -1;
  let wireLength = 1;
  while (true) {
    if (pos >= limit) return -1;
    const length = bytes[pos]!;
    if (length === 0) return resume < 0 ? pos + 1 : resume;
    if ((length & 0xc0) === 0xc0) {
      if (pos + 1 >= limit) return -1;
      const target = pointerTarget(bytes, pos, lowest);
      // Never into the header either, which the response rewrites (a refused pointer's -1 is below it).
      if (target < HEADER_SIZE) return -1;
      if (resume < 0) resume = pos + 2;
      // A prior occurrence ends before the pointer (as Reader.name() reads it).
      limit = pos;
      pos = lowest = target;
      continue;
    }
    if (length > MAX_LABEL) return -1;
    wireLength += length + 1;
    if (wireLength > MAX_NAME || pos + 1 + length > limit) return -1;
    pos += 1 + length;
  }
}

/** Whether the (checked) names at `pos` and `other` are the same, letters compared without case. */
function sameName(bytes: Uint8Array, pos: number, other: number): boolean {
  while (true) {
    pos = labelsAt(bytes, pos);
    other = labelsAt(bytes, other);
    if (pos === other) return true;
    const length = bytes[pos]!;
    if (length !== bytes[other]) return false;
    if (length === 0) return true;
    for (let i = 1; i <= length; i++) {
      if (foldOctet(bytes[pos + i]!) !== foldOctet(bytes[other + i]!)) return false;
    }
    pos += length + 1;
    other += length + 1;
  }
}

/** Whether the RDATA from `pos` to `end` is what the decoder accepts for its kind. */
function rdataOk(
  bytes: Uint8Array,
  kind: Rdata,
  length: number | undefined,
  pos: number,
  end: number,
): boolean {
  switch (kind) {
    case Rdata.Fixed:
      return end - pos === length;
    case Rdata.Name:
      return nameEnd(bytes, pos, end) === end;
    case Rdata.Mx:
      return end - pos > 2 && nameEnd(bytes, pos + 2, end) === end;
    case Rdata.Soa: {
      const mname = nameEnd(bytes, pos, end);
      const rname = mname < 0 ? -1 : nameEnd(bytes, mname, end);
      return rname >= 0 && end - rname === 20;
    }
    case Rdata.Text:
      while (pos < end) pos += 1 + bytes[pos]!;
      return pos === end;
  }
}

/** Where the labels of the (checked) name at `pos` go on after its first label. */
function nextLabel(bytes: Uint8Array, pos: number): number {
  pos = labelsAt(bytes, pos);
  return pos + 1 + bytes[pos]!;
}

/** How many labels the (checked) name at `pos` has. */
function labelCount(bytes: Uint8Array, pos: number): number {
  let count = 0;
  for (pos = labelsAt(bytes, pos); bytes[pos] !== 0; pos = labelsAt(bytes, pos + 1 + bytes[pos]!)) count++;
  return count;
}

/** Whether the (checked) name at `pos` is the one at `ancestor` or below it. */
function atOrBelow(bytes: Uint8Array, pos: number, ancestor: number): boolean {
  let extra = labelCount(bytes, pos) - labelCount(bytes, ancestor);
  if (extra < 0) return false;
  for (; extra > 0; extra--) pos = nextLabel(bytes, pos);
  return sameName(bytes, pos, ancestor);
}

/** Whether the name at `pos` is one of the names at `targets`. */
function isTarget(bytes: Uint8Array, pos: number, targets: readonly number[] | null): boolean {
  if (targets === null) return false;
  for (const target of targets) if (sameName(bytes, pos, target)) return true;
  return false;
}

/**
 * A TTL as a receiver reads it: RFC 2181 section 8 says a value with the top bit set (over
 * 2^31 - 1) is treated as 0, not clamped.
 */
export function receivedTtl(ttl: number): number {
  return ttl > 0x7fffffff ? 0 : ttl;
}

/** No owner spells the question (the usual case: owners are pointers to it). */
const NO_OWNERS: readonly number[] = [];

function u16(bytes: Uint8Array, pos: number): number {
  return (bytes[pos]! << 8) | bytes[pos + 1]!;
}

function u32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0;
}

/**
 * Walks an upstream reply with one question (the pool has checked it against the query sent).
 * @returns what serving it needs, or null when the full decoder must look at it (also for
 * anything malformed, so the decoder's error is the one reported)
 */
export function scanAnswer(bytes: Uint8Array): WireAnswer | null {
  if (bytes.length < HEADER_SIZE || u16(bytes, 4) !== 1) return null;
  const questionEnd = nameEnd(bytes, HEADER_SIZE, bytes.length);
  if (questionEnd < 0 || questionEnd + 4 > bytes.length) return null;
  const answers = u16(bytes, 6);
  const authorities = u16(bytes, 8);
  const additionals = u16(bytes, 10);
  const qtype = u16(bytes, questionEnd);
  // Scrubbing (scrub.ts), checked in place: the name the CNAME chain has reached, and the names
  // kept NS and MX records point to (the only addresses the additional section may hold).
  let current = HEADER_SIZE;
  let targets: number[] | null = null;
  // Sized for every record up front: an array grown by push() keeps room for 16 more.
  const ttlAt = new Array<number>(answers + authorities + additionals);
  let ttls = 0;
  let questionOwners: number[] | null = null;
  let ttlsBeforeAdditional = 0;
  let pos = questionEnd + 4;
  let end = -1; // where an OPT record starts
  let least = Infinity; // the least TTL of the answer and authority records
  let leastAnswer = Infinity;
  let soaTtl = -1;
  for (let section = 0; section < 3; section++) {
    const count = section === 0 ? answers : section === 1 ? authorities : additionals;
    for (let i = 0; i < count; i++) {
      if (end >= 0) return null; // a record after the OPT record
      const owner = pos;
      pos = nameEnd(bytes, pos, bytes.length);
      if (pos < 0 || pos + 10 > bytes.length) return null;
      const type = u16(bytes, pos);
      const ttl = u32(bytes, pos + 4);
      const rdataEnd = pos + 10 + u16(bytes, pos + 8);
      if (rdataEnd > bytes.length) return null;
      if (type === RRType.OPT) {
        // Only the one OPT record, last, with a root owner and no extended RCODE bits.
        if (section !== 2 || bytes[owner] !== 0 || ttl >>> 24 !== 0) return null;
        end = owner;
        pos = rdataEnd;
        continue;
      }
      const checked = CHECKED.get(type);
      if (!checked || !rdataOk(bytes, checked.kind, checked.length, pos + 10, rdataEnd)) return null;
      if (ttl > 0x7fffffff) return null; // read as 0 (receivedTtl): the decoder's path rewrites it
      // A record that scrubbing would remove: the decoder's path removes it.
      if (section === 0) {
        if (!sameName(bytes, owner, current)) return null;
        if (type === RRType.CNAME) current = pos + 10;
        else if (type !== qtype && qtype !== RRType.ANY) return null;
      } else if (section === 1) {
        if ((type !== RRType.SOA && type !== RRType.NS) || !atOrBelow(bytes, current, owner)) return null;
      } else if ((type !== RRType.A && type !== RRType.AAAA) || !isTarget(bytes, owner, targets)) {
        return null;
      }
      if (type === RRType.NS) (targets ??= []).push(pos + 10);
      else if (type === RRType.MX) (targets ??= []).push(pos + 12);
      ttlAt[ttls++] = pos + 4;
      if (section < 2) {
        ttlsBeforeAdditional++;
        least = Math.min(least, ttl);
        if (section === 0) leastAnswer = Math.min(leastAnswer, ttl);
        if (section === 1 && type === RRType.SOA && soaTtl < 0) {
          // MINIMUM, the SOA RDATA's last field, read as a TTL
          soaTtl = negativeTtl(ttl, receivedTtl(u32(bytes, rdataEnd - 4)));
        }
      }
      // An owner that is just a pointer to the question changes with it.
      if (u16(bytes, owner) !== 0xc000 + HEADER_SIZE && sameName(bytes, owner, HEADER_SIZE)) {
        (questionOwners ??= []).push(owner);
      }
      pos = rdataEnd;
    }
  }
  if (pos !== bytes.length) return null; // trailing octets: the decoder's error
  const { rcode, truncated } = headerFlags(u16(bytes, 2));
  const negative = rcode === 3 || (rcode === 0 && answers === 0);
  let ttl: number | null = null;
  if (!truncated && negative) ttl = soaTtl < 0 ? null : Math.min(soaTtl, leastAnswer);
  else if (!truncated && rcode === 0) ttl = least;
  if (ttls < ttlAt.length) ttlAt.length = ttls; // the OPT record's slot
  return {
    bytes,
    rcode,
    end: end < 0 ? bytes.length : end,
    answerCount: answers,
    authorityCount: authorities,
    additionalCount: additionals - (end < 0 ? 0 : 1),
    ttlAt,
    ttlsBeforeAdditional,
    questionOwners: questionOwners ?? NO_OWNERS,
    ttl,
  };
}
