/**
 * One refresh of a secondary zone (RFC 1034 section 4.3.5): ask the primary's SOA; when its serial
 * is newer (RFC 1982), transfer: IXFR from the version held, falling back to AXFR once when the
 * IXFR is refused or does not apply; AXFR when nothing is held. The result is a new `Zone`, or
 * nothing: a failure anywhere leaves the zone held as it was.
 * @module
 */
import { ParseError, type ResourceRecord } from "../proto/mod.ts";
import { buildZone, type Zone } from "../zone/mod.ts";
import { TransferError, type TransferReason } from "./errors.ts";
import { applyIxfr, zoneRecords } from "./ixfr_apply.ts";
import { serialNewer } from "../proto/mod.ts";
import { querySoa, requestTransfer, type TransferClientOptions } from "./transfer_client.ts";
import type { Transfer } from "./transfer_stream.ts";

/** How the zone came: the names the log line shows. */
export type TransferKind = "AXFR" | "IXFR" | "IXFR as AXFR" | "AXFR after IXFR";

/** What a refresh found. */
export type RefreshOutcome =
  | { readonly kind: "up-to-date"; readonly serial: number }
  | { readonly kind: "loaded"; readonly zone: Zone; readonly transfer: TransferKind };

/** Runs one step (a query or a transfer) with its own deadline and request ID. */
export type RunStep = <T>(step: (options: TransferClientOptions) => Promise<T>) => Promise<T>;

/** IXFR failures an AXFR may cure: not an unreachable primary, a deadline, a key or a size. */
const AXFR_CURES: ReadonlySet<TransferReason> = new Set(["malformed", "rcode", "incomplete", "diff", "zone"]);

/** The file name a transferred zone is built under, for error messages. */
export function pseudoFile(zone: string): string {
  return `secondary:${zone || "."}`;
}

/**
 * Indexes transferred records as a zone.
 * @throws {TransferError} `zone` when they break a zone's rules (a CNAME beside other data...)
 */
export function zoneOf(zone: string, records: readonly ResourceRecord[]): Zone {
  try {
    return buildZone({ records, locations: [] }, pseudoFile(zone), zone);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    throw new TransferError("zone", `the records are not a valid zone: ${error.reason}`);
  }
}

function loaded(zone: string, transfer: Transfer, current: Zone | null, kind: TransferKind): RefreshOutcome {
  switch (transfer.kind) {
    case "up-to-date":
      return { kind: "up-to-date", serial: transfer.soa.data.serial };
    case "full":
      return { kind: "loaded", zone: zoneOf(zone, transfer.records), transfer: kind };
    case "incremental": {
      if (!current) throw new TransferError("malformed", "an incremental answer to an AXFR");
      const records = applyIxfr(zoneRecords(current), current.soa, {
        diffs: transfer.diffs,
        newest: transfer.soa,
      });
      return { kind: "loaded", zone: zoneOf(zone, records), transfer: kind };
    }
  }
}

/**
 * Refreshes `zone` (a name key) from `primary`.
 * @param current the zone held, or null
 * @param onFallback told why an IXFR failed before the AXFR that follows it
 * @throws {TransferError} when the primary could not be asked, or gave nothing usable
 */
export async function refreshZone(
  primary: Deno.NetAddr,
  zone: string,
  current: Zone | null,
  run: RunStep,
  onFallback: (error: TransferError) => void = () => {},
): Promise<RefreshOutcome> {
  if (current) {
    const soa = await run((options) => querySoa(primary, zone, options));
    const held = current.soa.data.serial;
    if (!serialNewer(soa.data.serial, held)) return { kind: "up-to-date", serial: held };
    try {
      const transfer = await run((options) =>
        requestTransfer(primary, zone, { kind: "ixfr", soa: current.soa }, options)
      );
      return loaded(zone, transfer, current, transfer.kind === "full" ? "IXFR as AXFR" : "IXFR");
    } catch (error) {
      if (!(error instanceof TransferError) || !AXFR_CURES.has(error.reason)) throw error;
      onFallback(error);
    }
  }
  const transfer = await run((options) => requestTransfer(primary, zone, { kind: "axfr" }, options));
  return loaded(zone, transfer, current, current ? "AXFR after IXFR" : "AXFR");
}
