/**
 * The validator's public types: the verdict on an answer, the injected fetch and clock, and the
 * options a validator is made with.
 * @module
 */
import type { Message, Question, ResourceRecord } from "../proto/mod.ts";

/** RFC 4033 section 5: the four security states of an answer. */
export type Security = "secure" | "insecure" | "bogus" | "indeterminate";

/** The outcome of validating one answer. */
export interface Verdict {
  /** Its security state. */
  readonly security: Security;
  /**
   * Extended DNS Error code for bogus (RFC 8914): 6 DNSSEC Bogus, 7 Signature Expired, 8 Signature Not Yet
   * Valid, 9 DNSKEY Missing, 10 RRSIGs Missing, 12 NSEC Missing, 22 No Reachable Authority; 1 Unsupported
   * DNSKEY Algorithm / 2 Unsupported DS Digest Type may be reported with insecure.
   */
  readonly ede?: number;
  /** One line for logs and `explain`: why (e.g. "RRSIG for example.com/A expired at 2026-01-01T00:00:00Z"). */
  readonly why: string;
}

/** Asks the upstreams `name`/`type` with DO=1 and CD=1; resolves to the decoded response (throws when none). */
export type DnssecFetch = (name: string, type: number) => Promise<Message>;

/** How a validator is made. */
export interface ValidatorOptions {
  /** DS or DNSKEY records of the trust anchors (zone-file lines, as unbound's trust-anchor-file). */
  readonly anchors: readonly ResourceRecord[];
  /** Where DNSKEY and DS records come from. */
  readonly fetch: DnssecFetch;
  /** Seconds since the epoch (injected clock). */
  readonly now: () => number;
  /** Most zones whose validated DNSKEY sets are kept (default 10,000); entries expire with their TTL. */
  readonly maxKeyEntries?: number;
}

/** Validates forwarded answers. */
export interface Validator {
  /** The security of `response`, the upstream's answer (sent with DO=1, CD=1) to `question`. */
  validate(question: Question, response: Message): Promise<Verdict>;
}

/** Extended DNS Error codes the validator reports (RFC 8914 section 4). */
export const Ede = {
  UNSUPPORTED_DNSKEY_ALGORITHM: 1,
  UNSUPPORTED_DS_DIGEST: 2,
  BOGUS: 6,
  SIGNATURE_EXPIRED: 7,
  SIGNATURE_NOT_YET_VALID: 8,
  DNSKEY_MISSING: 9,
  RRSIGS_MISSING: 10,
  NSEC_MISSING: 12,
  NO_REACHABLE_AUTHORITY: 22,
} as const;
