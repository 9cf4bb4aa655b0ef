/**
 * Test helpers: resource records built in one line, for tables of upstream answers.
 * @module
 */
import { type ResourceRecord, RRClass } from "../lib/proto/types.ts";

/** An A record. */
export function a(name: string, ttl: number, address = "192.0.2.1"): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data: { type: "A", address } };
}

/** An SOA record for `zone` with the given TTL and MINIMUM (the two that set a negative TTL). */
export function soa(zone: string, ttl: number, minimum: number): ResourceRecord {
  return {
    name: zone,
    class: RRClass.IN,
    ttl,
    data: {
      type: "SOA",
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 900,
      expire: 604800,
      minimum,
    },
  };
}
