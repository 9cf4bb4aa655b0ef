/**
 * The errors of zone transfers, typed so the secondary can tell "try AXFR instead" from "the
 * primary is unreachable", and the server can map a NOTIFY it does not take to its RCODE.
 * @module
 */

/** Why a transfer (or its SOA query) failed. */
export type TransferReason =
  /** The deadline passed. */
  | "timeout"
  /** No connection, or it failed before any reply. */
  | "network"
  /** The connection closed before the transfer was complete. */
  | "incomplete"
  /** The reply carried an RCODE other than NOERROR (see `rcode`). */
  | "rcode"
  /** A message that is not part of a well-formed transfer of the zone asked for. */
  | "malformed"
  /** The answer's TSIG failed its check, or was missing. */
  | "tsig"
  /** The transfer passed the size limit. */
  | "too-large"
  /** An IXFR diff that does not apply to the zone held (a delete of a missing record, serials that do not chain). */
  | "diff"
  /** The records do not make a zone (buildZone refused them). */
  | "zone";

/** A transfer or SOA query that failed: nothing it brought is used. */
export class TransferError extends Error {
  /** The error class name. */
  override readonly name = "TransferError";
  /**
   * @param reason a stable reason code
   * @param message what went wrong, for the log
   * @param rcode the RCODE the primary answered with, for reason `rcode`
   */
  constructor(
    readonly reason: TransferReason,
    message: string,
    readonly rcode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
