/**
 * Typed errors. Each domain condition a caller catches has its own class and a stable
 * `reason`, so tests and the server can branch on it without reading message text.
 * @module
 */

/** Why a message could not be decoded. */
export type DecodeReason =
  | "truncated"
  | "bad-label"
  | "bad-pointer"
  | "label-too-long"
  | "name-too-long"
  | "rdata-length"
  | "trailing-bytes"
  | "bad-opt"
  | "multiple-opt"
  | "misplaced-opt";

/** Raised by the decoder for any malformed input; never a RangeError. */
export class DecodeError extends Error {
  /** The error class name. */
  override name = "DecodeError";
  /**
   * Creates the error for a message that cannot be decoded.
   * @param reason a stable reason code
   * @param offset the byte offset where decoding failed
   */
  constructor(readonly reason: DecodeReason, readonly offset: number) {
    super(`Cannot decode message: ${reason} at offset ${offset}`);
  }
}

/** Why a value could not be encoded. */
export type EncodeReason =
  | "bad-name"
  | "label-too-long"
  | "name-too-long"
  | "bad-address"
  | "bad-value"
  | "message-too-long"
  | "needs-edns";

/** Raised by the encoder when a typed value cannot be written to the wire. */
export class EncodeError extends Error {
  /** The error class name. */
  override name = "EncodeError";
  /**
   * Creates the error for a value that cannot be encoded.
   * @param reason a stable reason code
   * @param detail what was wrong, for people
   */
  constructor(readonly reason: EncodeReason, detail: string) {
    super(`Cannot encode message: ${detail}`);
  }
}

/**
 * A query dnsd answers with an error code, as the protocol expects: not a bug, so not reported.
 * Each subclass maps to one RCODE (and Extended DNS Error) in respond.ts `failureCode()`.
 */
export class QueryFailure extends Error {
  /** The error class name. */
  override name = "QueryFailure";
}

/** The request is well formed on the wire but not as a query (QDCOUNT other than 1): FORMERR. */
export class FormatError extends QueryFailure {
  /** The error class name. */
  override name = "FormatError";
}

/** An OPCODE dnsd does not implement: NOTIMP. */
export class NotImplemented extends QueryFailure {
  /** The error class name. */
  override name = "NotImplemented";
}

/** An EDNS version above 0: BADVERS (RFC 6891 section 6.1.3). */
export class BadVersion extends QueryFailure {
  /** The error class name. */
  override name = "BadVersion";
}

/** A query dnsd will not serve, such as recursion with RD=0: REFUSED, EDE Prohibited. */
export class Refused extends QueryFailure {
  /** The error class name. */
  override name = "Refused";
}

/**
 * The server is not authoritative for the zone a transfer or NOTIFY names (RFC 5936 section 2.2.1,
 * RFC 1996): NOTAUTH.
 */
export class NotAuthoritative extends QueryFailure {
  /** The error class name. */
  override name = "NotAuthoritative";
}

/** The server cannot answer right now (it is shutting down): SERVFAIL, EDE Not Ready. */
export class NotReady extends QueryFailure {
  /** The error class name. */
  override name = "NotReady";
}

/** An upstream exchange failed in an expected way (network error, bad reply): SERVFAIL, EDE Network Error. */
export class UpstreamError extends QueryFailure {
  /** The error class name. */
  override name = "UpstreamError";
}

/** No acceptable upstream reply arrived before the deadline: SERVFAIL, EDE No Reachable Authority. */
export class UpstreamTimeout extends UpstreamError {
  /** The error class name. */
  override name = "UpstreamTimeout";
}

/**
 * A forwarded answer failed DNSSEC validation (RFC 4035 section 5.5): SERVFAIL, with the Extended
 * DNS Error that says why (RFC 8914 codes 6-12). An upstream failure: the cache remembers it for
 * the failure TTL, and a stale answer may stand in for it.
 */
export class DnssecBogus extends UpstreamError {
  /** The error class name. */
  override name = "DnssecBogus";
  /** The EDE INFO-CODE. */
  readonly ede: number;

  /**
   * @param message why, for the log and the EDE's EXTRA-TEXT
   * @param ede the EDE INFO-CODE (6 DNSSEC Bogus when nothing narrower fits)
   */
  constructor(message: string, ede: number) {
    super(message);
    this.ede = ede;
  }
}

/** Local data (mappings, zone or hosts files) is invalid; the message names the entry. */
export class DataError extends Error {
  /** The error class name. */
  override name = "DataError";
}

/** Where in a text file something was found: 1-based line and column. */
export interface TextLocation {
  /** The file's path as given by the operator. */
  readonly file: string;
  /** The 1-based line. */
  readonly line: number;
  /** The 1-based column. */
  readonly column: number;
}

/** A data file (zone or hosts) could not be read; the message starts with `file:line:column`. */
export class ParseError extends DataError {
  /** The error class name. */
  override name = "ParseError";
  /**
   * Makes the error, its message starting with `file:line:column`.
   * @param location where the problem is
   * @param reason what is wrong, for people
   */
  constructor(readonly location: TextLocation, readonly reason: string) {
    super(`${location.file}:${location.line}:${location.column}: ${reason}`);
  }
}
