/**
 * Zone-file text to records, for the DNSSEC tests: the zone parser over an in-memory file.
 * @module
 */
import type { ResourceRecord } from "../../lib/proto/mod.ts";
import { parseZoneFile } from "../../lib/zone/mod.ts";

/** The records of zone-file `text` (absolute names, or relative to `origin`). */
export async function records(text: string, origin?: string): Promise<ResourceRecord[]> {
  const parsed = await parseZoneFile("memory.zone", {
    read: () => Promise.resolve(text),
    ...(origin === undefined ? {} : { origin }),
  });
  return [...parsed.records];
}
