/**
 * All local data behind one lookup: authoritative zones, plus the flat names of hosts files and
 * `mappings.ts`. Built whole and never changed, so a reload swaps one value (see sources.ts).
 * @module
 */
import { DataError, nameKey, parentName, type ResourceRecord, typeCode } from "../proto/mod.ts";
import type { Zone, ZoneNode } from "./zone.ts";

/** Local data, read-only. */
export interface LocalData {
  /** Zones by apex key. */
  readonly zones: ReadonlyMap<string, Zone>;
  /** Names from hosts files and mappings.ts (hosts first), by key. */
  readonly names: ReadonlyMap<string, ZoneNode>;
  /**
   * Every ancestor of those names, by key: inside a zone, one that holds nothing itself is an empty
   * non-terminal (NODATA, RFC 8020), not a name that does not exist.
   */
  readonly namesAbove: ReadonlySet<string>;
  /** The number of records in all. */
  readonly size: number;
}

/** The sources of local data, in precedence order: zones, then hosts files, then mappings.ts. */
export interface LocalSources {
  /** Parsed zones. */
  readonly zones: readonly Zone[];
  /** Records from hosts files. */
  readonly hosts: readonly ResourceRecord[];
  /** Records from mappings.ts. */
  readonly mappings: readonly ResourceRecord[];
}

function addFlat(
  names: Map<string, { rrsets: { type: number; records: ResourceRecord[] }[] }>,
  record: ResourceRecord,
) {
  const key = nameKey(record.name);
  let node = names.get(key);
  if (!node) names.set(key, node = { rrsets: [] });
  const type = typeCode(record.data);
  const rrset = node.rrsets.find((set) => set.type === type);
  if (rrset) rrset.records.push(record);
  else node.rrsets.push({ type, records: [record] });
}

/**
 * Combines the sources. A name in a hosts file hides the same name in mappings.ts entirely.
 * @throws {DataError} when two zone files have the same apex
 */
export function buildLocalData(sources: LocalSources): LocalData {
  const zones = new Map<string, Zone>();
  let size = 0;
  for (const zone of sources.zones) {
    if (zones.has(zone.key)) throw new DataError(`zone "${zone.apex}" is loaded twice`);
    zones.set(zone.key, zone);
    size += zone.size;
  }
  const names = new Map<string, { rrsets: { type: number; records: ResourceRecord[] }[] }>();
  for (const record of sources.hosts) addFlat(names, record);
  const fromHosts = new Set(names.keys());
  for (const record of sources.mappings) {
    if (!fromHosts.has(nameKey(record.name))) addFlat(names, record);
  }
  size += sources.hosts.length + sources.mappings.length;
  const namesAbove = new Set<string>();
  for (const key of names.keys()) {
    for (let above = parentName(key); above !== "" && !namesAbove.has(above); above = parentName(above)) {
      namesAbove.add(above);
    }
  }
  return { zones, names, namesAbove, size };
}

/** The zone whose apex is the closest enclosing name of `key`, if any. */
export function findZone(data: LocalData, key: string): Zone | undefined {
  if (data.zones.size === 0) return undefined;
  for (let name = key;; name = parentName(name)) {
    const zone = data.zones.get(name);
    if (zone) return zone;
    if (name === "") return undefined;
  }
}

/** Local data that never changes, from the given sources (tests, benchmarks, the library API). */
export function fixedData(sources: Partial<LocalSources>): () => LocalData {
  const data = buildLocalData({ zones: [], hosts: [], mappings: [], ...sources });
  return () => data;
}

/**
 * `data` with more zones beside its own (secondary zones, transferred): a zone of the same apex as
 * one of `data`'s replaces it.
 */
export function withZones(data: LocalData, zones: readonly Zone[]): LocalData {
  const merged = new Map(data.zones);
  let size = data.size;
  for (const zone of zones) {
    size += zone.size - (merged.get(zone.key)?.size ?? 0);
    merged.set(zone.key, zone);
  }
  return { ...data, zones: merged, size };
}
