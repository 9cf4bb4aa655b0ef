/**
 * A zone in memory: nodes by name key, each holding its RRsets, with empty non-terminals made
 * explicit so "the name exists" is one map lookup (RFC 1034 section 4.3.2, RFC 8020).
 * @module
 */
import {
  nameKey,
  ParseError,
  type ResourceRecord,
  RRType,
  type TextLocation,
  typeCode,
} from "../proto/mod.ts";
import type { ParsedRecords } from "./zone_parser.ts";
import { indexDenial, isSigned, type ZoneDnssec } from "./zone_dnssec.ts";
import { packNodes, type ZoneNodes } from "./packed_nodes.ts";
import {
  addAncestors,
  type DnameAt,
  NameRecords,
  occludedError,
  originError,
  placementError,
} from "./zone_rules.ts";

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
  /** Whether the zone holds a DNAME (so each lookup looks for one above the name asked). */
  readonly hasDnames: boolean;
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

/**
 * Checks parsed records as a zone and indexes them. The apex is the owner of the SOA, which must
 * be there exactly once; with `origin` (from `--zone ORIGIN=FILE`) it must be that name. With
 * `sharedMemory` (a run with workers) the names are packed in shared memory.
 * @throws {ParseError} at the record that breaks a rule (out of zone, second SOA, CNAME and other data)
 */
export function buildZone(parsed: ParsedRecords, file: string, origin?: string, sharedMemory = false): Zone {
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
  const wrongOrigin = originError(soa, key, origin, where(soaIndex));
  if (wrongOrigin) throw wrongOrigin;
  const nodes = new Map<string, NameRecords>();
  const parents = new Set<string>();
  nodes.set(key, new NameRecords());
  let hasDelegations = false;
  const dnames: DnameAt[] = [];
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const owner = nameKey(record.name);
    const type = typeCode(record.data);
    const misplaced = placementError(record, owner, type, { key, soa }, where(i));
    if (misplaced) throw misplaced;
    let node = nodes.get(owner);
    if (!node) {
      node = new NameRecords();
      nodes.set(owner, node);
      addAncestors(
        owner,
        key,
        parents,
        (name) => nodes.has(name),
        (name) => nodes.set(name, new NameRecords()),
      );
    }
    const broken = node.add(record, type, where(i));
    if (broken) throw broken;
    if (type === RRType.NS && owner !== key) hasDelegations = true;
    if (type === RRType.DNAME) dnames.push({ key: owner, record, at: where(i) });
  }
  const occluded = occludedError(dnames, parents);
  if (occluded) throw occluded;
  const dnssec = isSigned(nodes.get(key)!) ? indexDenial(nodes, key) : null;
  return {
    apex: soa.name,
    key,
    soa,
    nodes: packNodes(nodes, sharedMemory),
    parents,
    hasDelegations,
    hasDnames: dnames.length > 0,
    size: records.length,
    dnssec,
  };
}
