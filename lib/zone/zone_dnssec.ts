/**
 * What a signed zone needs to answer with DNSSEC (RFC 4035 section 3.1, RFC 5155 section 7.2): its
 * NSEC owners in canonical order and its NSEC3 owners in hash order, so the record that matches or
 * covers a name is a binary search away. Built once per load, only for a signed zone.
 * @module
 */
import {
  compareHashes,
  compareLabels,
  labelsFromRoot,
  NSEC3_SHA1,
  nsec3Hash,
  ownerHash,
} from "../dnssec/mod.ts";
import { type ResourceRecord, RRType } from "../proto/mod.ts";
import type { ZoneNode } from "./zone.ts";

/** An NSEC owner: its name key and its labels from the root, the order's sort key. */
export interface NsecOwner {
  /** The owner's name key. */
  readonly key: string;
  /** Its labels from the root, lower-cased: the sort key (see `compareLabels`). */
  readonly labels: readonly Uint8Array[];
}

/** An NSEC3 owner: its name key and the hash its first label carries. */
export interface Nsec3Owner {
  /** The owner's name key. */
  readonly key: string;
  /** The hash its first label carries, the sort key. */
  readonly hash: Uint8Array;
}

/** The NSEC3 parameters the zone hashes names with (its NSEC3PARAM, RFC 5155 section 4). */
export interface Nsec3Parameters {
  /** The salt, empty for none. */
  readonly salt: Uint8Array;
  /** The additional iterations of the hash. */
  readonly iterations: number;
}

/** The denial chains of a signed zone. */
export interface ZoneDnssec {
  /** NSEC owners in canonical order (RFC 4034 section 6.1). */
  readonly nsec: readonly NsecOwner[];
  /** NSEC3 owners in hash order. */
  readonly nsec3: readonly Nsec3Owner[];
  /** The parameters names are hashed with for `nsec3`; null when the zone has no NSEC3 chain. */
  readonly nsec3Parameters: Nsec3Parameters | null;
}

/** The RRSIGs at `node` that cover `type`. */
export function signaturesAt(node: ZoneNode, type: number): readonly ResourceRecord[] {
  for (const rrset of node.rrsets) {
    if (rrset.type !== RRType.RRSIG) continue;
    return rrset.records.filter(({ data }) => data.type === "RRSIG" && data.typeCovered === type);
  }
  return [];
}

/** Whether the zone is signed: its SOA carries an RRSIG (as NSD decides). */
export function isSigned(apex: ZoneNode): boolean {
  return signaturesAt(apex, RRType.SOA).length > 0;
}

/** Indexes the NSEC and NSEC3 owners of a signed zone. */
export function indexDenial(nodes: ReadonlyMap<string, ZoneNode>, apexKey: string): ZoneDnssec {
  const nsec: NsecOwner[] = [];
  const nsec3: Nsec3Owner[] = [];
  let fromRecords: Nsec3Parameters | null = null;
  for (const [key, node] of nodes) {
    for (const rrset of node.rrsets) {
      if (rrset.type === RRType.NSEC) nsec.push({ key, labels: labelsFromRoot(key) });
      if (rrset.type !== RRType.NSEC3) continue;
      const hash = ownerHash(key);
      const data = rrset.records[0]!.data;
      if (!hash || data.type !== "NSEC3" || data.hashAlgorithm !== NSEC3_SHA1) continue;
      nsec3.push({ key, hash });
      fromRecords ??= { salt: data.salt, iterations: data.iterations };
    }
  }
  nsec.sort((a, b) => compareLabels(a.labels, b.labels));
  nsec3.sort((a, b) => compareHashes(a.hash, b.hash));
  const param = nodes.get(apexKey)?.rrsets.find((rrset) => rrset.type === RRType.NSEC3PARAM)?.records
    .map(({ data }) => data)
    .find((data) => data.type === "NSEC3PARAM" && data.hashAlgorithm === NSEC3_SHA1 && data.flags === 0);
  const nsec3Parameters = param?.type === "NSEC3PARAM"
    ? { salt: param.salt, iterations: param.iterations }
    : fromRecords;
  return { nsec, nsec3, nsec3Parameters };
}

/** The last index whose entry sorts at or before the target (`order(i)` <= 0), or -1. */
function lastAtOrBefore(length: number, order: (i: number) => number): number {
  let low = 0;
  let high = length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (order(middle) <= 0) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/**
 * The owner of the NSEC that matches or covers `key` (RFC 4035 section 3.1.3): the last owner at or
 * before it in canonical order, the chain's last one when none is (it wraps round to the apex).
 */
export function nsecOwnerFor(dnssec: ZoneDnssec, key: string): string | undefined {
  const { nsec } = dnssec;
  if (nsec.length === 0) return undefined;
  const labels = labelsFromRoot(key);
  const at = lastAtOrBefore(nsec.length, (i) => compareLabels(nsec[i]!.labels, labels));
  return nsec[at < 0 ? nsec.length - 1 : at]!.key;
}

/**
 * The owner of the NSEC3 for `key`'s hash (RFC 5155 section 7.2): with `match`, the one whose hash is
 * the name's or undefined; otherwise the one that covers it, the last hash before it (wrapping round).
 */
export function nsec3OwnerFor(dnssec: ZoneDnssec, key: string, match: boolean): string | undefined {
  const { nsec3, nsec3Parameters } = dnssec;
  if (nsec3.length === 0 || !nsec3Parameters) return undefined;
  const hash = nsec3Hash(key, nsec3Parameters.salt, nsec3Parameters.iterations);
  const at = lastAtOrBefore(nsec3.length, (i) => compareHashes(nsec3[i]!.hash, hash));
  if (match) return at >= 0 && compareHashes(nsec3[at]!.hash, hash) === 0 ? nsec3[at]!.key : undefined;
  // A covering record's hash is strictly before the name's: an exact match covers nothing.
  const before = at >= 0 && compareHashes(nsec3[at]!.hash, hash) === 0 ? at - 1 : at;
  return nsec3[before < 0 ? nsec3.length - 1 : before]!.key;
}
