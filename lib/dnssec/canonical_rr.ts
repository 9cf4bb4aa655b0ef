/**
 * The canonical form of records and RRsets (RFC 4034 sections 6.2-6.3) and the octets an RRSIG
 * signs (RFC 4034 section 3.1.8.1): RRSIG RDATA without its signature, then each record with the
 * owner in canonical form (a wildcard's, from the RRSIG labels field, RFC 4035 section 5.3.2), the
 * original TTL, and the records sorted by canonical RDATA with duplicates dropped.
 * @module
 */
import {
  canonicalName,
  concatBytes,
  type RData,
  rdataOctets,
  type ResourceRecord,
  RRType,
  typeCode,
} from "../proto/mod.ts";

type RRSIGData = Extract<RData, { type: "RRSIG" }>;

/**
 * The RDATA of a record in canonical form. The RFC 1035 types are written here by hand, since the codec
 * compresses their names (an SOA's RNAME against its MNAME); their names, SRV's and RRSIG's are
 * lower-cased, as are those of RP, AFSDB, NAPTR and DNAME (RFC 4034 section 6.2 item 3). NSEC's next name
 * keeps its case (RFC 6840 section 5.1).
 * Every other type goes through the codec, which never compresses names of later types (RFC 3597 section 4).
 */
export function canonicalRData(data: RData): Uint8Array {
  switch (data.type) {
    case "NS":
      return canonicalName(data.host);
    case "CNAME":
    case "PTR":
      return canonicalName(data.target);
    case "MX":
      return concatBytes([u16(data.preference), canonicalName(data.exchange)]);
    case "SRV":
      return concatBytes([u16(data.priority), u16(data.weight), u16(data.port), canonicalName(data.target)]);
    case "SOA":
      return concatBytes([
        canonicalName(data.mname),
        canonicalName(data.rname),
        u32(data.serial),
        u32(data.refresh),
        u32(data.retry),
        u32(data.expire),
        u32(data.minimum),
      ]);
    case "DNAME":
      return canonicalName(data.target);
    case "RP":
      return concatBytes([canonicalName(data.mailbox), canonicalName(data.text)]);
    case "AFSDB":
      return concatBytes([u16(data.subtype), canonicalName(data.host)]);
    case "NAPTR":
      return concatBytes([
        rdataOctets({ ...data, replacement: "" }).slice(0, -1),
        canonicalName(data.replacement),
      ]);
    case "RRSIG":
      return concatBytes([rrsigHeader(data), data.signature]);
    default:
      return rdataOctets(data);
  }
}

/** RRSIG RDATA up to (not including) the signature, with the signer's name in canonical form. */
export function rrsigHeader(sig: RRSIGData): Uint8Array {
  const fixed = new Uint8Array(18);
  const view = new DataView(fixed.buffer);
  view.setUint16(0, sig.typeCovered);
  fixed[2] = sig.algorithm;
  fixed[3] = sig.labels;
  view.setUint32(4, sig.originalTtl);
  view.setUint32(8, sig.expiration);
  view.setUint32(12, sig.inception);
  view.setUint16(16, sig.keyTag);
  return concatBytes([fixed, canonicalName(sig.signerName)]);
}

/** The number of labels of a name, the root not counted (RFC 4034 section 3.1.3). */
export function labelCount(name: string): number {
  const wire = canonicalName(name);
  let count = 0;
  for (let pos = 0; wire[pos]! !== 0; pos += wire[pos]! + 1) count++;
  return count;
}

/** The owner name's canonical wire form as signed: `*.` and its last `labels` labels when expanded. */
export function signedOwner(owner: string, labels: number): Uint8Array {
  const wire = canonicalName(owner);
  let pos = 0;
  let count = labelCount(owner);
  if (labels >= count) return wire;
  while (count > labels) {
    pos += wire[pos]! + 1;
    count--;
  }
  return concatBytes([Uint8Array.of(1, 0x2a), wire.subarray(pos)]);
}

/**
 * The octets `sig` signs over `rrset` (records of one owner, class and type): RFC 4034 section 3.1.8.1
 * with the canonical order of section 6.3.
 */
export function signedData(rrset: readonly ResourceRecord[], sig: RRSIGData): Uint8Array {
  const first = rrset[0];
  if (!first) return rrsigHeader(sig);
  const owner = signedOwner(first.name, sig.labels);
  const fixed = new Uint8Array(8);
  const view = new DataView(fixed.buffer);
  view.setUint16(0, typeCode(first.data));
  view.setUint16(2, first.class);
  view.setUint32(4, sig.originalTtl);
  const rdatas = rrset.map((record) => canonicalRData(record.data)).sort(compareOctets);
  const parts: Uint8Array[] = [rrsigHeader(sig)];
  let previous: Uint8Array | undefined;
  for (const rdata of rdatas) {
    if (previous && compareOctets(previous, rdata) === 0) continue; // RFC 4034 section 6.3: no duplicates
    previous = rdata;
    parts.push(owner, fixed, u16(rdata.length), rdata);
  }
  return concatBytes(parts);
}

/** Octet order, the shorter first when one is a prefix of the other (RFC 4034 section 6.3). */
export function compareOctets(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The DNSKEY RDATA on the wire (flags, protocol, algorithm, key): what key tags and DS digests cover. */
export function dnskeyRData(data: Extract<RData, { type: "DNSKEY" }>): Uint8Array {
  return concatBytes([u16(data.flags), Uint8Array.of(data.protocol, data.algorithm), data.publicKey]);
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >>> 8, value & 0xff);
}

function u32(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

/** Whether `type` is RRSIG (records that are never signed as an RRset of their own). */
export function isRRSIG(record: ResourceRecord): boolean {
  return record.data.type === "RRSIG" || typeCode(record.data) === RRType.RRSIG;
}
