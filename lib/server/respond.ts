/**
 * The pure core of the server: request bytes in, response bytes (or silence) out. Every failure
 * becomes its RCODE here and nowhere else.
 * @module
 */
import type { ByteArena } from "../proto/mod.ts";
import type { ResponseMemo } from "../resolve/mod.ts";
import { decodeMessage, encodeMessage, HEADER_SIZE } from "../proto/mod.ts";
import {
  BadVersion,
  DecodeError,
  FormatError,
  NotImplemented,
  NotReady,
  QueryFailure,
  Refused,
  UpstreamError,
  UpstreamTimeout,
} from "../proto/mod.ts";
import { EdeCode, type ExtendedError, withEde } from "../proto/mod.ts";
import { headerOnlyReply, reply, responseEdns, udpLimit } from "../proto/mod.ts";
import type { Resolve } from "../resolve/mod.ts";
import { type Message, Opcode, Rcode, RRType } from "../proto/mod.ts";
import { WireResponse } from "../proto/mod.ts";

/** Receives errors that are not an expected part of DNS (bugs, broken invariants). */
export type Report = (error: unknown) => void;

/**
 * The RCODE, and the Extended DNS Error (RFC 8914) when one helps, for a failure. The single place
 * where errors become RCODEs: everything else throws a typed error and lets this decide.
 */
export function failureCode(error: unknown): { readonly rcode: number; readonly ede?: ExtendedError } {
  if (error instanceof DecodeError || error instanceof FormatError) return { rcode: Rcode.FORMERR };
  if (error instanceof NotImplemented) {
    return { rcode: Rcode.NOTIMP, ede: { code: EdeCode.NOT_SUPPORTED, text: error.message } };
  }
  if (error instanceof BadVersion) return { rcode: Rcode.BADVERS };
  if (error instanceof Refused) {
    return { rcode: Rcode.REFUSED, ede: { code: EdeCode.PROHIBITED, text: error.message } };
  }
  if (error instanceof NotReady) {
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NOT_READY, text: error.message } };
  }
  if (error instanceof UpstreamTimeout) {
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: error.message } };
  }
  if (error instanceof UpstreamError) {
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NETWORK_ERROR, text: error.message } };
  }
  return { rcode: Rcode.SERVFAIL }; // a bug: reported, and never explained to the client
}

/** The response to `request` for a failure, with its EDE when the client speaks EDNS. */
export function failureReply(request: Message, error: unknown): Message {
  const { rcode, ede } = failureCode(error);
  return reply(request, { rcode, edns: withEde(responseEdns(request), ede) });
}

/** Options for {@link respond}. */
export interface RespondOptions {
  /** Where response bytes are carved from (see {@link ByteArena}); a fresh buffer each when absent. */
  readonly arena?: ByteArena;
  /** The largest response to send; defaults to the client's UDP limit. Over TCP: 65,535. */
  readonly limit?: number;
  /** Keeps encoded responses that stages marked as reusable (see {@link ResponseMemo}). */
  readonly memo?: ResponseMemo;
}

/** Fits a UDP response to the client's limit: TC=1 with the question only, never part of an RRset. */
function fitUdp(response: Message, limit: number, arena: ByteArena | undefined): Uint8Array {
  // An upstream answer kept as bytes is written by patching them; when it does not fit, as any other.
  const wire = WireResponse.of(response)?.encode(limit, arena);
  if (wire) return wire;
  const bytes = encodeMessage(response, arena);
  if (bytes.length <= limit) return bytes;
  const truncated: Message = { ...response, truncated: true, answers: [], authorities: [], additionals: [] };
  const cut = encodeMessage(truncated, arena);
  // Only an error reply echoing several questions (FORMERR, NOTIMP) can still be too long.
  return cut.length <= limit ? cut : encodeMessage({ ...truncated, questions: [] }, arena);
}

/**
 * Answers one UDP query. Junk (under 12 octets) and responses (QR=1) get no reply, since any
 * reply could be used to amplify; an undecodable body gets FORMERR with the same ID; an opcode
 * other than QUERY gets NOTIMP; a QDCOUNT other than 1 gets FORMERR; an EDNS version above 0 gets
 * BADVERS.
 * @returns the response to send, or null to stay silent
 */
export async function respond(
  query: Uint8Array,
  resolve: Resolve,
  report: Report,
  options: RespondOptions = {},
): Promise<Uint8Array | null> {
  const { arena } = options;
  if (query.length < HEADER_SIZE || (query[2]! & 0x80) !== 0) return null;
  let request: Message;
  try {
    request = decodeMessage(query);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return headerOnlyReply(query, failureCode(error).rcode);
  }
  try {
    if (request.opcode !== Opcode.QUERY) {
      throw new NotImplemented(`opcode ${request.opcode} is not implemented`);
    }
    if (request.questions.length !== 1) throw new FormatError(`${request.questions.length} questions`);
    // RFC 6891 section 6.1.3: a version we do not implement gets BADVERS, with our version (0) in the OPT.
    if (request.edns && request.edns.version > 0) {
      throw new BadVersion(`EDNS version ${request.edns.version}`);
    }
    // Zone transfers (RFC 5936, RFC 1995) are not served: refuse them rather than answer as a query.
    const type = request.questions[0]!.type;
    if (type === RRType.AXFR || type === RRType.IXFR) throw new Refused("zone transfers are not served");
    const response = await resolve(request);
    const bytes = fitUdp(response, options.limit ?? udpLimit(request), arena);
    options.memo?.remember(query, response, bytes);
    return bytes;
  } catch (error) {
    if (!(error instanceof QueryFailure)) report(error); // expected failures are not noise
    return fitUdp(failureReply(request, error), options.limit ?? udpLimit(request), arena);
  }
}
