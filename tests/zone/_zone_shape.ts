/**
 * What the zone tests compare of a zone, so two ways of building one can be held side by side.
 * @module
 */
import type { Zone } from "../../lib/zone/zone.ts";

/** What a test compares of a zone: everything, its names decoded and sorted. */
export function shape(zone: Zone): Record<string, unknown> {
  const keys = [...zone.nodes.keys()].sort();
  return {
    apex: zone.apex,
    key: zone.key,
    soa: zone.soa,
    size: zone.size,
    hasDelegations: zone.hasDelegations,
    dnssec: zone.dnssec,
    parents: [...zone.parents].sort(),
    nodes: keys.map((key) => [key, zone.nodes.get(key)]),
    count: zone.nodes.size,
  };
}
