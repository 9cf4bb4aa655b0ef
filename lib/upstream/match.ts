/**
 * Wire-level checks that an upstream datagram answers the query we sent (RFC 5452 section 9.1):
 * same ID, QR set, one question, and the question octet for octet (letters compared without case);
 * or, with the same ID, an error reply that has no question.
 * @module
 */
import { foldOctet, HEADER_SIZE, headerFlags } from "../proto/mod.ts";

/** Why a datagram was not accepted as the reply. */
export type Mismatch = "short" | "not-response" | "wrong-id" | "wrong-question";

/** The end offset of the question section of a query we encoded ourselves (uncompressed, one question). */
function questionEnd(query: Uint8Array): number {
  let pos = HEADER_SIZE;
  while (pos < query.length && query[pos] !== 0) pos += query[pos]! + 1;
  return pos + 5; // root octet, TYPE, CLASS
}

/** FORMERR, SERVFAIL, NOTIMP and REFUSED: the RCODEs a server may give without the question. */
const BARE_ERRORS: ReadonlySet<number> = new Set([1, 2, 4, 5]);

/**
 * Whether a reply is an error with no question and no records (an OPT at most): NSD, Knot and BIND
 * answer so to a query they cannot read or will not serve. It is the upstream's answer (the next
 * upstream is asked, or the query again without EDNS), not a stray datagram to wait past: waiting
 * would hold the client for the whole timeout. It carries nothing that could be cached as data.
 */
function isBareError(reply: Uint8Array): boolean {
  return reply[4] === 0 && reply[5] === 0 && reply[6] === 0 && reply[7] === 0 && reply[8] === 0 &&
    reply[9] === 0 && BARE_ERRORS.has(reply[3]! & 0x0f);
}

/**
 * Checks a candidate reply against our query.
 * @param exactCase require the question's case to match exactly (for 0x20 randomisation)
 * @returns null when the reply is acceptable, else why not
 */
export function replyMismatch(query: Uint8Array, reply: Uint8Array, exactCase = false): Mismatch | null {
  if (reply.length < HEADER_SIZE) return "short";
  if (!headerFlags((reply[2]! << 8) | reply[3]!).response) return "not-response";
  if (reply[0] !== query[0] || reply[1] !== query[1]) return "wrong-id";
  if (isBareError(reply)) return null;
  const end = questionEnd(query);
  if (reply.length < end) return "short";
  if (reply[4] !== 0 || reply[5] !== 1) return "wrong-question";
  const nameEnd = end - 4; // TYPE and CLASS are numbers: compared exactly
  for (let i = HEADER_SIZE; i < end; i++) {
    const ours = query[i]!;
    const theirs = reply[i]!;
    if (ours === theirs) continue;
    if (exactCase || i >= nameEnd || foldOctet(ours) !== foldOctet(theirs)) return "wrong-question";
  }
  return null;
}
