/**
 * Test helpers for transfers: record sets written as zone-file text, and answers to a transfer
 * request encoded as a primary sends them.
 * @module
 */
import { encodeMessage, type Message, reply, type ResourceRecord } from "../../lib/proto/mod.ts";
import { parseZoneFile } from "../../lib/zone/mod.ts";
import type { SoaRecord } from "../../lib/xfr/mod.ts";

/** The records of zone-file text (relative names against `origin`, `$TTL 3600` unless set). */
export async function recordsOf(text: string, origin = "example.com"): Promise<ResourceRecord[]> {
  const parsed = await parseZoneFile("test.zone", {
    origin,
    read: () => Promise.resolve(`$TTL 3600\n${text}`),
  });
  return [...parsed.records];
}

/** The SOA of example.com at `serial` (refresh 3600, retry 600, expire 86400). */
export function soaAt(serial: number, zone = "example.com"): SoaRecord {
  return {
    name: zone,
    class: 1,
    ttl: 3600,
    data: {
      type: "SOA",
      mname: `ns1.${zone}`,
      rname: `hostmaster.${zone}`,
      serial,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 300,
    },
  };
}

/** The messages answering `request`: one per record list, the question in the first only. */
export function answersTo(request: Message, parts: readonly (readonly ResourceRecord[])[]): Uint8Array[] {
  return parts.map((answers, index) =>
    encodeMessage(
      reply(request, {
        authoritative: true,
        recursionAvailable: false,
        questions: index === 0 ? request.questions : [],
        answers,
        edns: null,
      }),
    )
  );
}

/** `records` cut into messages of at most `size` records. */
export function chunks<T>(records: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < records.length; i += size) parts.push(records.slice(i, i + size));
  return parts;
}
