/**
 * A zone in memory: nodes by name key, each holding its RRsets, with empty non-terminals made
 * explicit so "the name exists" is one map lookup (RFC 1034 section 4.3.2, RFC 8020).
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
  typeCode,
} from "../proto/mod.ts";
import type { ParsedRecords } from "./zone_parser.ts";
import { indexDenial, isSigned, type ZoneDnssec } from "./zone_dnssec.ts";
import { packNodes, type ZoneNodes } from "./packed_nodes.ts";

/** The records of one name and type. */
export interface RRset {
  /** The TYPE code. */
  readonly type: number;
  /** The records, in file order. */
  readonly records: readonly ResourceRecord[];
}

/** A name in a zone: its RRsets, none for an empty non-terminal. */
export interface ZoneNode {
  /** The RRsets, in the order their types first appeared. */
  readonly rrsets: readonly RRset[];
}

/** An authoritative zone. */
export interface Zone {
  /** The apex as written in the SOA's owner. */
  readonly apex: string;
  /** The apex as a name key. */
  readonly key: string;
  /** The SOA record, for negative answers (RFC 2308 section 3). */
  readonly soa: ResourceRecord & { readonly data: { readonly type: "SOA" } };
  /** Every name at or below the apex that exists, empty non-terminals included (packed: see packed_nodes.ts). */
  readonly nodes: ZoneNodes;
  /** Names that have at least one name below them (so "is this a leaf" is one lookup). */
  readonly parents: ReadonlySet<string>;
  /** Whether any NS RRset sits below the apex (so lookups check for zone cuts). */
  readonly hasDelegations: boolean;
  /** The number of records. */
  readonly size: number;
  /** For a signed zone (its SOA has an RRSIG), its NSEC and NSEC3 chains; null for an unsigned one. */
  readonly dnssec: ZoneDnssec | null;
}

/** Finds an RRset of a node. */
export function rrsetOf(node: ZoneNode, type: number): RRset | undefined {
  for (const rrset of node.rrsets) if (rrset.type === type) return rrset;
  return undefined;
}

/** Types that may share a name with a CNAME (RFC 2181 section 10.1, RFC 4035 section 2.5). */
export const BESIDE_CNAME: ReadonlySet<number> = new Set<number>([5, 46, 47, 50]); // CNAME, RRSIG, NSEC, NSEC3

interface MutableNode {
  rrsets: { type: number; records: ResourceRecord[] }[];
  /** Whether it has a CNAME, and whether it has a type that may not sit beside one. */
  cname?: boolean;
  other?: boolean;
}

/**
 * Checks parsed records as a zone and indexes them. The apex is the owner of the SOA, which must
 * be there exactly once; with `origin` (from `--zone ORIGIN=FILE`) it must be that name.
 * @throws {ParseError} at the record that breaks a rule (out of zone, second SOA, CNAME and other data)
 */
export function buildZone(parsed: ParsedRecords, file: string, origin?: string): Zone {
  const { records, locations } = parsed;
  const soaIndex = records.findIndex((record) => record.data.type === "SOA");
  const where = (i: number): TextLocation => locations[i] ?? { file, line: 1, column: 1 };
  if (soaIndex < 0) {
    throw new ParseError(
      { file, line: 1, column: 1 },
      "no SOA record: a zone's apex is the owner of its SOA",
    );
  }
  const soa = records[soaIndex]! as Zone["soa"];
  const key = nameKey(soa.name);
  if (origin !== undefined && nameKey(origin) !== key) {
    throw new ParseError(
      where(soaIndex),
      `the SOA is for "${soa.name}", not the origin "${origin}" given for this file`,
    );
  }
  const nodes = new Map<string, MutableNode>();
  const parents = new Set<string>();
  nodes.set(key, { rrsets: [] });
  let hasDelegations = false;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const owner = nameKey(record.name);
    if (!isAtOrBelow(owner, key)) {
      throw new ParseError(where(i), `"${record.name}" is outside the zone "${soa.name}"`);
    }
    const type = typeCode(record.data);
    if (type === RRType.SOA && i !== soaIndex) {
      throw new ParseError(
        where(i),
        owner === key ? "a second SOA record" : `an SOA below the apex, at "${record.name}"`,
      );
    }
    let node = nodes.get(owner);
    if (!node) {
      node = { rrsets: [] };
      nodes.set(owner, node);
      // Every ancestor up to the apex exists too, as an empty non-terminal if nothing else. A name
      // right below the apex (most of a large zone) adds the apex's own string, whose hash V8 keeps,
      // rather than a fresh slice to hash.
      const childOfApex = owner.length > key.length + 1 && owner.endsWith(key) &&
        owner.charCodeAt(owner.length - key.length - 1) === 0x2e && parentName(owner).length === key.length;
      if (childOfApex || owner === key) {
        if (owner !== key) parents.add(key);
      } else {
        for (let up = parentName(owner);; up = parentName(up)) {
          parents.add(up);
          if (up === key || nodes.has(up)) break;
          nodes.set(up, { rrsets: [] });
        }
      }
    }
    const rrset = node.rrsets.find((set) => set.type === type);
    if (rrset) {
      if (type === RRType.CNAME) throw new ParseError(where(i), `a second CNAME at "${record.name}"`);
      rrset.records.push(record);
    } else {
      node.rrsets.push({ type, records: [record] });
    }
    if (type === RRType.CNAME) node.cname = true;
    else if (!BESIDE_CNAME.has(type)) node.other = true;
    if (node.cname && node.other) {
      throw new ParseError(where(i), `CNAME and other data at "${record.name}" (RFC 1034 section 3.6.2)`);
    }
    if (type === RRType.NS && owner !== key) hasDelegations = true;
  }
  const dnssec = isSigned(nodes.get(key)!) ? indexDenial(nodes, key) : null;
  return {
    apex: soa.name,
    key,
    soa,
    nodes: packNodes(nodes),
    parents,
    hasDelegations,
    size: records.length,
    dnssec,
  };
}
