/**
 * The pure core of the server: request bytes in, response bytes (or silence) out. Every failure
 * becomes its RCODE here and nowhere else.
 * @module
 */
import type { ByteArena } from "./arena.ts";
import { decodeMessage, encodeMessage, HEADER_SIZE } from "./codec.ts";
import { DecodeError, UpstreamError } from "./errors.ts";
import { headerOnlyReply, reply, udpLimit } from "./message.ts";
import type { Resolve } from "./resolver.ts";
import { type Message, Opcode, Rcode } from "./types.ts";

/** Receives errors that are not an expected part of DNS (bugs, broken invariants). */
export type Report = (error: unknown) => void;

/** The RCODE a failure of resolution maps to. The single place where errors become RCODEs. */
export function rcodeFor(error: unknown): number {
  if (error instanceof DecodeError) return Rcode.FORMERR;
  return Rcode.SERVFAIL; // upstream timeouts and errors, and anything unexpected
}

/** Options for {@link respond}. */
export interface RespondOptions {
  /** Where response bytes are carved from (see {@link ByteArena}); a fresh buffer each when absent. */
  readonly arena?: ByteArena;
}

/** Fits a UDP response to the client's limit: TC=1 with the question only, never part of an RRset. */
function fitUdp(response: Message, limit: number, arena: ByteArena | undefined): Uint8Array {
  const bytes = encodeMessage(response, arena);
  if (bytes.length <= limit) return bytes;
  return encodeMessage(
    { ...response, truncated: true, answers: [], authorities: [], additionals: [] },
    arena,
  );
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
    return headerOnlyReply(query, rcodeFor(error));
  }
  if (request.opcode !== Opcode.QUERY) return encodeMessage(reply(request, { rcode: Rcode.NOTIMP }));
  if (request.questions.length !== 1) return encodeMessage(reply(request, { rcode: Rcode.FORMERR }));
  // RFC 6891 section 6.1.3: a version we do not implement gets BADVERS, with our version (0) in the OPT.
  if (request.edns && request.edns.version > 0) {
    return encodeMessage(reply(request, { rcode: Rcode.BADVERS }));
  }
  try {
    const response = await resolve(request);
    return fitUdp(response, udpLimit(request), arena);
  } catch (error) {
    if (!(error instanceof UpstreamError)) report(error); // expected failures are not noise
    return encodeMessage(reply(request, { rcode: rcodeFor(error) }));
  }
}
