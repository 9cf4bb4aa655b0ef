/**
 * Turns the `mappings.ts` table into validated records.
 * @module
 */
import { DataError, EncodeError } from "./errors.ts";
import { formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
import type { ResourceRecord } from "./types.ts";
import { RRClass } from "./types.ts";
import { Writer } from "./wire.ts";

/** The shape of `mappings.ts`: a name and the IPv4 or IPv6 address it answers with. */
export type Mappings = Readonly<Record<string, string>>;

/** The TTL of records from `mappings.ts`. */
export const MAPPING_TTL = 300;

function checkName(name: string): void {
  try {
    new Writer().name(name, false);
  } catch (error) {
    if (error instanceof EncodeError) throw new DataError(`Cannot load mapping "${name}": ${error.message}`);
    throw error;
  }
}

/**
 * Validates the table and returns one A or AAAA record per entry.
 * @throws {DataError} naming the first bad entry, e.g. `Cannot load mapping "nas": "999.1.1.1" is not an IPv4 or IPv6 address`
 */
export function mappingRecords(table: Mappings, ttl: number = MAPPING_TTL): ResourceRecord[] {
  return Object.entries(table).map(([name, address]) => {
    checkName(name);
    if (parseIPv4(address)) return { name, class: RRClass.IN, ttl, data: { type: "A", address } };
    const v6 = parseIPv6(address);
    if (v6) return { name, class: RRClass.IN, ttl, data: { type: "AAAA", address: formatIPv6(v6) } };
    throw new DataError(`Cannot load mapping "${name}": "${address}" is not an IPv4 or IPv6 address`);
  });
}
