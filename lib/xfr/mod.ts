/**
 * Zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) served from the loaded zones and a journal
 * of their changes, NOTIFY (RFC 1996) sent and received, and secondary zones kept in step with
 * their primaries, all signed with TSIG (lib/tsig) when keys are set.
 * @module
 */
export { serialNewer } from "./serial.ts";
export { differenceOf, Journal } from "./journal.ts";
export type { ZoneDifference } from "./journal.ts";
export { Notifier } from "./notify_out.ts";
export type { NotifyOptions } from "./notify_out.ts";
export { transferHandler } from "./transfer_out.ts";
export type { TransferServing, WriteTransfer } from "./transfer_out.ts";
export { ZoneTransfers } from "./transfers.ts";
export type { SecondaryZoneSet, TransferConfig } from "./transfers.ts";
export { ZoneVersions } from "./zone_versions.ts";
export { pendingZones } from "./pending_stage.ts";
export type { ZoneNotReady } from "./pending_stage.ts";
