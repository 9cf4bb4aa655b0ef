/**
 * An incremental transfer applied to the records held (pure): each step's deletions must all be
 * there and its serials must chain from ours to the newest, or the whole diff is refused and the
 * secondary asks for the zone whole instead (RFC 1995 section 4 leaves that choice to the client).
 * @module
 */
import { canonicalRData } from "../dnssec/mod.ts";
import { nameKey, type ResourceRecord, RRType, typeCode } from "../proto/mod.ts";
import type { Zone } from "../zone/mod.ts";
import { TransferError } from "./errors.ts";
import { type IxfrDiff, serialOf, type SoaRecord } from "./transfer_stream.ts";

/**
 * The identity of a record within a zone: owner, type and canonical RDATA (RFC 4034 section 6.2,
 * so names inside RDATA compare without case). The TTL is not part of it: RFC 2181 section 5.2
 * makes an RRset's TTL one value, and a diff that changes only a TTL deletes and adds the record.
 */
function identity(record: ResourceRecord): string {
  let octets = "";
  for (const octet of canonicalRData(record.data)) octets += octet.toString(16).padStart(2, "0");
  return `${nameKey(record.name)} ${typeCode(record.data)} ${octets}`;
}

/** Every record of a zone, the SOA first. */
export function zoneRecords(zone: Zone): ResourceRecord[] {
  const records: ResourceRecord[] = [zone.soa];
  for (const node of zone.nodes.values()) {
    for (const rrset of node.rrsets) {
      if (rrset.type === RRType.SOA) continue; // the apex's one SOA, first already
      for (const record of rrset.records) records.push(record);
    }
  }
  return records;
}

/**
 * Applies the steps of an incremental transfer to `records` (which hold `soa`), without changing them.
 * @returns the new version's records, its SOA first
 * @throws {TransferError} `diff` when a step does not start where the last ended, deletes a record
 * that is not there, or the steps do not end at `newest`
 */
export function applyIxfr(
  records: readonly ResourceRecord[],
  soa: SoaRecord,
  change: { readonly diffs: readonly IxfrDiff[]; readonly newest: SoaRecord },
): ResourceRecord[] {
  const held = new Map<string, ResourceRecord>();
  for (const record of records) if (record.data.type !== "SOA") held.set(identity(record), record);
  let serial = serialOf(soa);
  for (const diff of change.diffs) {
    if (serialOf(diff.from) !== serial) {
      throw new TransferError(
        "diff",
        `a step from serial ${serialOf(diff.from)} where ${serial} was expected`,
      );
    }
    for (const record of diff.deleted) {
      if (!held.delete(identity(record))) {
        throw new TransferError(
          "diff",
          `serial ${serialOf(diff.to)} deletes a record not held: ${record.name}`,
        );
      }
    }
    for (const record of diff.added) held.set(identity(record), record);
    serial = serialOf(diff.to);
  }
  if (serial !== serialOf(change.newest)) {
    throw new TransferError("diff", `the steps end at serial ${serial}, not ${serialOf(change.newest)}`);
  }
  return [change.newest, ...held.values()];
}
