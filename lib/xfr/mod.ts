/**
 * Zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) served from the loaded zones and a journal
 * of their changes, NOTIFY (RFC 1996) sent and received, and secondary zones kept in step with
 * their primaries, all signed with TSIG (lib/tsig) when keys are set.
 * @module
 */
export { serialNewer } from "../proto/mod.ts";
export { differenceOf, Journal } from "./journal.ts";
export type { ZoneDifference } from "./journal.ts";
export { Notifier } from "./notify_out.ts";
export type { NotifyOptions } from "./notify_out.ts";
export { transferHandler } from "./transfer_out.ts";
export type { TransferServing, WriteTransfer } from "./transfer_out.ts";
export { ZoneTransfers } from "./transfers.ts";
export type { TransferConfig } from "./transfers.ts";
export { ZoneVersions } from "./zone_versions.ts";
export { pendingZones } from "./pending_stage.ts";
export type { ZoneNotReady } from "./pending_stage.ts";
export { TransferError } from "./errors.ts";
export type { TransferReason } from "./errors.ts";
export { Secondaries } from "./secondaries.ts";
export type { SecondariesOptions, SecondaryZoneConfig, SetTimer } from "./secondaries.ts";
export { applyIxfr, zoneRecords } from "./ixfr_apply.ts";
export { TransferCollector } from "./transfer_stream.ts";
export type { IxfrDiff, SoaRecord, Transfer } from "./transfer_stream.ts";
export { querySoa, requestTransfer } from "./transfer_client.ts";
export type { TransferAsk, TransferClientOptions } from "./transfer_client.ts";
export { refreshZone } from "./refresh.ts";
export type { RefreshOutcome, RunStep, TransferKind } from "./refresh.ts";
export { connectTcp } from "./tcp_stream.ts";
export type { Connect, Stream } from "./tcp_stream.ts";
export { formatZoneFile, readZoneFile, writeZoneFile, zoneFileName } from "./zone_file.ts";
export { soaTimers } from "./secondary_timers.ts";
export type { SoaTimers } from "./secondary_timers.ts";
