/**
 * Building queries, and responses from requests: the header rules every message shares live here once.
 * @module
 */
import { flagWord, HEADER_SIZE, headerFlags } from "./codec.ts";
import { type Edns, type Message, Opcode, type Question, Rcode, RRClass, RRType } from "./types.ts";

/** The UDP payload size dnsd advertises and will send (DNS Flag Day 2020). */
export const UDP_PAYLOAD_SIZE = 1232;

/** The smallest UDP payload every client accepts (RFC 1035 section 4.2.1). */
export const MIN_UDP_PAYLOAD = 512;

/** The OPT record dnsd sends back to an EDNS client (RFC 6891 section 7; RFC 3225 copies DO). */
export function responseEdns(request: Pick<Message, "edns">): Edns | null {
  if (!request.edns) return null;
  return request.edns.dnssecOk ? OPT_DO : OPT_PLAIN;
}

/** The two OPT records of {@link responseEdns}, shared: every response (and cache entry) holds one. */
const OPT_PLAIN: Edns = Object.freeze({
  udpPayloadSize: UDP_PAYLOAD_SIZE,
  version: 0,
  dnssecOk: false,
  flags: 0,
  options: Object.freeze([]),
});
const OPT_DO: Edns = Object.freeze({ ...OPT_PLAIN, dnssecOk: true });

/**
 * A query as stub resolvers such as dig send it: ID 0, QR=0, OPCODE QUERY, RD=1 (recursion
 * desired), every other flag clear, NOERROR, one question (type A and class IN unless given), no
 * records and no EDNS. `fields` override any of these.
 *
 * @example An AAAA query with its own ID and without recursion
 * ```ts
 * import { encodeMessage } from "./codec.ts";
 * import { query } from "./message.ts";
 * import { RRType } from "./types.ts";
 * const bytes = encodeMessage(query({ name: "example.com", type: RRType.AAAA }, {
 *   id: 0x1234,
 *   recursionDesired: false,
 * }));
 * ```
 */
export function query(
  question: Question | { name: string; type?: number; class?: number },
  fields: Partial<Message> = {},
): Message {
  return {
    id: 0,
    response: false,
    opcode: Opcode.QUERY,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    z: false,
    authenticData: false,
    checkingDisabled: false,
    rcode: Rcode.NOERROR,
    questions: [{
      name: question.name,
      type: question.type ?? RRType.A,
      class: question.class ?? RRClass.IN,
    }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: null,
    ...fields,
  };
}

/**
 * A response to `request`: same ID, OPCODE, question (case as asked), RD and CD; QR and RA set;
 * empty sections unless `fields` fills them.
 */
export function reply(request: Message, fields: Partial<Message> = {}): Message {
  return {
    id: request.id,
    response: true,
    opcode: request.opcode,
    authoritative: false,
    truncated: false,
    recursionDesired: request.recursionDesired,
    recursionAvailable: true,
    z: false,
    authenticData: false,
    checkingDisabled: request.checkingDisabled,
    rcode: Rcode.NOERROR,
    questions: request.questions,
    answers: [],
    authorities: [],
    additionals: [],
    edns: responseEdns(request),
    ...fields,
  };
}

/**
 * A header-only response for a query whose body could not be decoded: the ID, OPCODE and RD are
 * read from the raw header, which the caller has checked is at least 12 octets long.
 */
export function headerOnlyReply(query: Uint8Array, rcode: number): Uint8Array {
  const asked = headerFlags((query[2]! << 8) | query[3]!);
  // QR=1, OPCODE and RD copied; RA=1; everything else zero, counts zero.
  const flags = flagWord({
    response: true,
    opcode: asked.opcode,
    authoritative: false,
    truncated: false,
    recursionDesired: asked.recursionDesired,
    recursionAvailable: true,
    z: false,
    authenticData: false,
    checkingDisabled: false,
    rcode,
  });
  const response = new Uint8Array(HEADER_SIZE);
  response[0] = query[0]!;
  response[1] = query[1]!;
  response[2] = flags >>> 8;
  response[3] = flags & 0xff;
  return response;
}

/**
 * The NOTIMP answer to an opcode dnsd does not know: the header alone, with QR set, the query's ID
 * and OPCODE, and every other flag clear (no RD, RA, AA, AD, CD, TC or Z), as BIND answers and
 * ISC's EDNS compliance tester expects. The caller has checked the query is at least 12 octets.
 */
export function unknownOpcodeReply(query: Uint8Array): Uint8Array {
  const response = new Uint8Array(HEADER_SIZE);
  response[0] = query[0]!;
  response[1] = query[1]!;
  response[2] = 0x80 | (query[2]! & 0x78); // QR, and the OPCODE's four bits
  response[3] = Rcode.NOTIMP;
  return response;
}

/**
 * The TTL of a negative answer (NXDOMAIN, NODATA): the lesser of its SOA record's TTL and the SOA's
 * MINIMUM field (RFC 2308 sections 3 and 5), both for the SOA dnsd sends and for how long it caches one.
 */
export function negativeTtl(soaTtl: number, soaMinimum: number): number {
  return Math.min(soaTtl, soaMinimum);
}

/** The largest UDP response the client will take: its EDNS size, at least 512, at most ours. */
export function udpLimit(request: Message): number {
  if (!request.edns) return MIN_UDP_PAYLOAD;
  return Math.min(UDP_PAYLOAD_SIZE, Math.max(MIN_UDP_PAYLOAD, request.edns.udpPayloadSize));
}
