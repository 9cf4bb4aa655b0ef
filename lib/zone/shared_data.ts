/**
 * Local data as a worker is sent it (lib/workers): each zone's packed names are moved into shared
 * memory (packed_nodes.ts), so every worker reads the one copy the main thread loaded; the rest
 * (each zone's SOA, its names with children, a signed zone's denial chains, and the hosts and
 * mappings.ts names) is small beside them and copied by the structured clone that posts it.
 * @module
 */
import type { LocalData } from "./local_data.ts";
import { PackedNodes, type PackedParts, packNodes } from "./packed_nodes.ts";
import type { Zone, ZoneNode } from "./zone.ts";

/** A zone with its names as {@link PackedParts}: what posting it to a worker keeps whole. */
export interface SharedZone extends Omit<Zone, "nodes"> {
  /** The packed names' arrays, in shared memory. */
  readonly parts: PackedParts;
}

/** {@link LocalData} as posted to a worker. */
export interface SharedLocalData {
  /** Zones by apex key. */
  readonly zones: ReadonlyMap<string, SharedZone>;
  /** Names from hosts files and mappings.ts, by key (copied). */
  readonly names: ReadonlyMap<string, ZoneNode>;
  /** Their ancestors (copied). */
  readonly namesAbove: ReadonlySet<string>;
  /** The number of records in all. */
  readonly size: number;
}

/** The parts of `zone`'s names; a zone whose names are not packed (none dnsd builds) is packed now. */
function partsOf(zone: Zone): PackedParts {
  if (zone.nodes instanceof PackedNodes) return zone.nodes.share();
  const nodes = new Map<string, ZoneNode>();
  for (const key of zone.nodes.keys()) nodes.set(key, zone.nodes.get(key)!);
  return packNodes(nodes).share();
}

/** `data` ready to post to a worker: no zone's names are copied by the posting. */
export function shareLocalData(data: LocalData): SharedLocalData {
  const zones = new Map<string, SharedZone>();
  for (const [key, zone] of data.zones) {
    const { nodes: _nodes, ...rest } = zone;
    zones.set(key, { ...rest, parts: partsOf(zone) });
  }
  return { zones, names: data.names, namesAbove: data.namesAbove, size: data.size };
}

/** Local data as a worker reads it, over the shared arrays of `shared`. */
export function localDataFromShared(shared: SharedLocalData): LocalData {
  const zones = new Map<string, Zone>();
  for (const [key, zone] of shared.zones) {
    const { parts, ...rest } = zone;
    zones.set(key, { ...rest, nodes: new PackedNodes(parts) });
  }
  return { zones, names: shared.names, namesAbove: shared.namesAbove, size: shared.size };
}
