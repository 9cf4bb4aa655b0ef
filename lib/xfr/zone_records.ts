/**
 * A zone's records in transfer order: the SOA, then every other record name by name (RFC 5936
 * section 2.2: the SOA first and last, the rest in any order). And the key that tells two records
 * apart, for the journal's differences.
 * @module
 */
import { formatRData, nameKey, type ResourceRecord, RRType } from "../proto/mod.ts";
import type { Zone } from "../zone/mod.ts";

/** Every record of `zone` but its SOA, name by name. */
export function* recordsBesideSoa(zone: Zone): Generator<ResourceRecord> {
  for (const node of zone.nodes.values()) {
    for (const rrset of node.rrsets) {
      if (rrset.type === RRType.SOA) continue;
      yield* rrset.records;
    }
  }
}

/** A record's identity: owner (any case), class, TTL and RDATA. A TTL change is a change. */
export function recordKey(record: ResourceRecord): string {
  return `${nameKey(record.name)} ${record.class} ${record.ttl} ${formatRData(record.data)}`;
}
