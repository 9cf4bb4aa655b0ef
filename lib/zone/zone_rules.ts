/**
 * The rules a zone's records must keep, record by record in file order, shared by the two ways a
 * zone is built (`buildZone` from all its records, `ZoneStream` as its file is read), so both
 * report the same first error: the SOA's owner is the origin given, every record at or below the
 * apex and only one SOA there (RFC 1035 section 5.2), one CNAME at a name and nothing beside it
 * but DNSSEC's own records (RFC 1034 section 3.6.2, RFC 2181 section 10.1, RFC 4035 section 2.5).
 * @module
 */
import {
  isAtOrBelow,
  nameKey,
  parentName,
  ParseError,
  type ResourceRecord,
  RRType,
  type TextLocation,
  typeName,
} from "../proto/mod.ts";
import type { Zone } from "./zone.ts";

/** Types that may share a name with a CNAME (RFC 2181 section 10.1, RFC 4035 section 2.5). */
const BESIDE_CNAME: ReadonlySet<number> = new Set<number>([5, 46, 47, 50]); // CNAME, RRSIG, NSEC, NSEC3

/** The error when `soa` is not for the `origin` given for its file (`--zone ORIGIN=FILE`), or null. */
export function originError(
  soa: ResourceRecord,
  key: string,
  origin: string | undefined,
  at: TextLocation,
): ParseError | null {
  if (origin === undefined || nameKey(origin) === key) return null;
  return new ParseError(at, `the SOA is for "${soa.name}", not the origin "${origin}" given for this file`);
}

/**
 * The error when `record` (its owner's key `owner`, its TYPE `type`) may not stand in the zone of
 * `soa` (apex key `key`): outside it, or an SOA other than `soa`; null when it may.
 */
export function placementError(
  record: ResourceRecord,
  owner: string,
  type: number,
  zone: { readonly key: string; readonly soa: Zone["soa"] },
  at: TextLocation,
): ParseError | null {
  if (!isAtOrBelow(owner, zone.key)) {
    return new ParseError(at, `"${record.name}" is outside the zone "${zone.soa.name}"`);
  }
  if (type === RRType.SOA && record !== zone.soa) {
    return new ParseError(
      at,
      owner === zone.key ? "a second SOA record" : `an SOA below the apex, at "${record.name}"`,
    );
  }
  return null;
}

/** A DNAME as a zone is built: its owner's key, the record, and where it was written. */
export interface DnameAt {
  readonly key: string;
  readonly record: ResourceRecord;
  readonly at: TextLocation;
}

/**
 * The error for a DNAME with names below its owner: a DNAME redirects every name below it, so
 * they could never be answered (RFC 6672 section 2.4 lets a server refuse such a zone, and NSD
 * does). Checked once the whole zone is in; `parents` holds every name with a name below it.
 */
export function occludedError(dnames: readonly DnameAt[], parents: ReadonlySet<string>): ParseError | null {
  for (const { key, record, at } of dnames) {
    if (parents.has(key)) {
      return new ParseError(
        at,
        `DNAME at "${record.name}" has names below it, which it would hide (RFC 6672)`,
      );
    }
  }
  return null;
}

/** One name's RRsets as its records come, with the CNAME rules kept. */
export class NameRecords {
  /** The RRsets, in the order their types first appeared. */
  readonly rrsets: { readonly type: number; readonly records: ResourceRecord[] }[] = [];
  #cname = false;
  #other = false;

  /** Adds `record` (of TYPE `type`): the error when it breaks a CNAME rule, else null. */
  add(record: ResourceRecord, type: number, at: TextLocation): ParseError | null {
    const rrset = this.rrsets.find((set) => set.type === type);
    if (rrset) {
      // Each redirects a whole name (or the names below it), so there is one (RFC 6672 section 2.4).
      if (type === RRType.CNAME || type === RRType.DNAME) {
        return new ParseError(at, `a second ${typeName(type)} at "${record.name}"`);
      }
      rrset.records.push(record);
    } else {
      this.rrsets.push({ type, records: [record] });
    }
    if (type === RRType.CNAME) this.#cname = true;
    else if (!BESIDE_CNAME.has(type)) this.#other = true;
    if (this.#cname && this.#other) {
      return new ParseError(at, `CNAME and other data at "${record.name}" (RFC 1034 section 3.6.2)`);
    }
    return null;
  }
}

/**
 * Makes the ancestors of a new name `owner` exist, up to the apex `key`: each is a parent, and
 * one that is not a name yet becomes an empty non-terminal (`addEmpty`), until one that is. The
 * apex goes in as `key` itself, a string whose hash V8 keeps, not a fresh slice to hash.
 */
export function addAncestors(
  owner: string,
  key: string,
  parents: Set<string>,
  exists: (name: string) => boolean,
  addEmpty: (name: string) => void,
): void {
  for (let up = parentName(owner);; up = parentName(up)) {
    const apex = up === key;
    parents.add(apex ? key : up);
    if (apex || exists(up)) return;
    addEmpty(up);
  }
}
