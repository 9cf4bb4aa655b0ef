/**
 * The stage that answers blocked names, placed after local data (which wins) and before the cache
 * and forwarding. What it answers, by mode:
 * - `null`: A `0.0.0.0`, AAAA `::` (both for ANY), NODATA for other types; TTL 60 (Pi-hole's
 *   NULL mode; blocky's `zeroIp`);
 * - `nxdomain`: NXDOMAIN; `refused`: REFUSED.
 * AA is clear: dnsd holds no zone for the name (as blocky). Negative answers carry no SOA, as
 * unbound's `always_nxdomain` and blocky: there is no zone to take one from, and without a SOA a
 * client does not cache the negative answer past the query (RFC 2308 section 5), so an edit of the
 * lists shows at once. With EDNS, every blocked answer carries Extended DNS Error 15, Blocked (RFC
 * 8914 section 4.16). These answers are not kept in the response memo: they are cheap to make, and
 * a blocked name is asked for again seldom enough that keeping them would only take the memo's room.
 * @module
 */
import {
  EdeCode,
  type Message,
  Rcode,
  reply,
  type ResourceRecord,
  responseEdns,
  RRClass,
  RRType,
  withEde,
} from "../proto/mod.ts";
import { type BlockPolicy, isBlocked } from "./blocklist.ts";

/** The TTL of a `null` mode answer: short, so an unblocked name works again within a minute. */
export const BLOCKED_TTL = 60;

const BLOCKED_EDE = { code: EdeCode.BLOCKED, text: "blocked by a blocklist" } as const;

/** The request shape the stage needs (lib/resolve's `Request` has it; block may not import resolve). */
export interface BlockRequest {
  /** The query. */
  readonly message: Message;
}

/** The answer records of `null` mode for a question. */
function nullRecords(name: string, type: number, rrClass: number): ResourceRecord[] {
  const records: ResourceRecord[] = [];
  const klass = rrClass === RRClass.ANY ? RRClass.IN : rrClass;
  if (type === RRType.A || type === RRType.ANY) {
    records.push({ name, class: klass, ttl: BLOCKED_TTL, data: { type: "A", address: "0.0.0.0" } });
  }
  if (type === RRType.AAAA || type === RRType.ANY) {
    records.push({ name, class: klass, ttl: BLOCKED_TTL, data: { type: "AAAA", address: "::" } });
  }
  return records;
}

/**
 * The response to a query for a blocked name.
 * @param query the query (its one question is the blocked name)
 */
export function blockedResponse(query: Message, mode: BlockPolicy["mode"]): Message {
  const question = query.questions[0]!;
  const edns = withEde(responseEdns(query), BLOCKED_EDE);
  if (mode === "nxdomain") return reply(query, { rcode: Rcode.NXDOMAIN, edns });
  if (mode === "refused") return reply(query, { rcode: Rcode.REFUSED, edns });
  return reply(query, { answers: nullRecords(question.name, question.type, question.class), edns });
}

/**
 * Makes the blocking stage.
 * @param policy the lists and mode in force, read for every query (a reload swaps them whole)
 */
export function blocking<R extends BlockRequest>(
  policy: () => BlockPolicy,
): (request: R, next: (request: R) => Promise<Message>) => Promise<Message> {
  return function blocking(request, next) {
    const question = request.message.questions[0];
    // Lists name Internet names: class IN (and ANY, which matches it); CHAOS and others pass.
    if (!question || (question.class !== RRClass.IN && question.class !== RRClass.ANY)) return next(request);
    const { lists, mode } = policy();
    if (!isBlocked(lists, question.name)) return next(request);
    return Promise.resolve(blockedResponse(request.message, mode));
  };
}
