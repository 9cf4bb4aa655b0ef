/**
 * What DO=1 adds to an answer from a signed zone (RFC 4035 section 3.1, RFC 5155 section 7.2), as
 * NSD and Knot serve it: each RRset's RRSIGs, the SOA's on a negative answer, and the NSEC or NSEC3
 * records (with theirs) that prove a name or type absent, a wildcard answer right, or a delegation
 * unsigned. Without DO none of it is added (section 3.1: only when asked for by type).
 * @module
 */
import { nsec3OwnerFor, nsecOwnerFor, rrsetOf, signaturesAt, type Zone, type ZoneNode } from "../zone/mod.ts";
import { parentName, type ResourceRecord, RRType } from "../proto/mod.ts";

/** Where a step's data came from in its zone: what its proofs are built from. */
export interface Origin {
  readonly zone: Zone;
  /** The name asked (or the zone cut of a referral), as a key. */
  readonly key: string;
  /** The node the records came from: the wildcard's for a synthesized answer; none for a missing name. */
  readonly node?: ZoneNode;
  /** The closest encloser, when the name asked does not exist (NXDOMAIN or a wildcard's answer). */
  readonly encloser?: string;
}

/** The proofs of denial, by what they prove. */
export type Denial = "nodata" | "nxdomain" | "wildcard" | "wildcard-nodata";

/** `*.` + the closest encloser: the wildcard that would have matched (RFC 4592 section 3.3.1). */
export function wildcardOf(encloser: string): string {
  return encloser === "" ? "*" : `*.${encloser}`;
}

/** The name one label below `encloser` on the way to `key` (RFC 5155 section 1.3, "next closer name"). */
function nextCloser(key: string, encloser: string): string {
  let name = key;
  while (parentName(name) !== encloser && name !== "") name = parentName(name);
  return name;
}

/** The records with `owner` as their name (the name as asked); no copy when it already is. */
export function named(records: readonly ResourceRecord[], owner: string): readonly ResourceRecord[] {
  return records.every((record) => record.name === owner)
    ? records
    : records.map((r) => ({ ...r, name: owner }));
}

/** The RRSIGs covering `type` at the step's node, named as asked. */
export function signaturesFor(origin: Origin, type: number, owner: string): readonly ResourceRecord[] {
  if (!origin.zone.dnssec || !origin.node) return [];
  return named(signaturesAt(origin.node, type), owner);
}

/** The SOA's RRSIGs, for a negative answer. */
export function soaSignatures(zone: Zone): readonly ResourceRecord[] {
  const apex = zone.nodes.get(zone.key);
  return apex ? signaturesAt(apex, RRType.SOA) : [];
}

/** The NSEC3 owners of a closest-encloser proof (RFC 5155 section 7.2.1) for a name with no NSEC3 of its own. */
function closestEncloserProof(zone: Zone, key: string): string[] {
  const dnssec = zone.dnssec!;
  for (let encloser = parentName(key);; encloser = parentName(encloser)) {
    const match = nsec3OwnerFor(dnssec, encloser, true);
    if (match) return [match, nsec3OwnerFor(dnssec, nextCloser(key, encloser), false)!];
    if (encloser === zone.key || encloser === "") return [];
  }
}

function nsecOwners(zone: Zone, denial: Denial, key: string, encloser: string): (string | undefined)[] {
  const dnssec = zone.dnssec!;
  switch (denial) {
    case "nodata": {
      // The name's own NSEC; an empty non-terminal has none, and the one before it covers it.
      const node = zone.nodes.get(key);
      return [node && rrsetOf(node, RRType.NSEC) ? key : nsecOwnerFor(dnssec, key)];
    }
    case "nxdomain":
      return [nsecOwnerFor(dnssec, key), nsecOwnerFor(dnssec, wildcardOf(encloser))];
    case "wildcard":
      return [nsecOwnerFor(dnssec, key)];
    case "wildcard-nodata":
      return [nsecOwnerFor(dnssec, key), wildcardOf(encloser)];
  }
}

function nsec3Owners(zone: Zone, denial: Denial, key: string, encloser: string): (string | undefined)[] {
  const dnssec = zone.dnssec!;
  switch (denial) {
    case "nodata": {
      // Without a matching NSEC3 (a DS asked at an opt-out delegation), the closest provable encloser.
      const match = nsec3OwnerFor(dnssec, key, true);
      return match ? [match] : closestEncloserProof(zone, key);
    }
    case "nxdomain":
      return [
        nsec3OwnerFor(dnssec, encloser, true),
        nsec3OwnerFor(dnssec, nextCloser(key, encloser), false),
        nsec3OwnerFor(dnssec, wildcardOf(encloser), false),
      ];
    case "wildcard":
      return [nsec3OwnerFor(dnssec, nextCloser(key, encloser), false)];
    case "wildcard-nodata":
      return [
        nsec3OwnerFor(dnssec, encloser, true),
        nsec3OwnerFor(dnssec, nextCloser(key, encloser), false),
        nsec3OwnerFor(dnssec, wildcardOf(encloser), true),
      ];
  }
}

/** The NSEC or NSEC3 records, each with its RRSIGs, that prove `denial` for `origin`. */
export function denialRecords(origin: Origin, denial: Denial): ResourceRecord[] {
  const { zone, key } = origin;
  if (!zone.dnssec) return [];
  const encloser = origin.encloser ?? key;
  const owners = zone.dnssec.nsec.length > 0
    ? nsecOwners(zone, denial, key, encloser)
    : nsec3Owners(zone, denial, key, encloser);
  const records: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const owner of owners) {
    if (owner === undefined || seen.has(owner)) continue;
    seen.add(owner);
    const node = zone.nodes.get(owner);
    if (!node) continue;
    for (const type of [RRType.NSEC, RRType.NSEC3]) {
      const rrset = rrsetOf(node, type);
      if (rrset) records.push(...rrset.records, ...signaturesAt(node, type));
    }
  }
  return records;
}

/** At a referral: the DS RRset with its RRSIGs, or the proof that the cut has none (section 3.1.4.1). */
export function delegationRecords(origin: Origin): ResourceRecord[] {
  const cut = origin.node;
  if (!origin.zone.dnssec || !cut) return [];
  const ds = rrsetOf(cut, RRType.DS);
  return ds ? [...ds.records, ...signaturesAt(cut, RRType.DS)] : denialRecords(origin, "nodata");
}
