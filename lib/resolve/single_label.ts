/**
 * Single-label names (`nas`, no dot): an A or AAAA query for one is almost always a LAN host name
 * that local data does not hold, or a search-list miss, and sending it upstream leaks it to the
 * Internet for nothing (dnsmasq's `domain-needed`, Pi-hole's default). So it is answered NXDOMAIN
 * here, unless `--forward-single-label`. Other types pass: `com DS`, `. NS` and the like are asked
 * by validators and tools and are real questions about top-level domains.
 * @module
 */
import { nameKey, parentName, Rcode, reply, RRClass, RRType } from "../proto/mod.ts";
import type { Stage } from "./request.ts";

/** Whether a question is one the rule stops: A or AAAA (class IN or ANY) for a name of one label. */
export function isSingleLabelAddressQuery(name: string, type: number, rrClass: number): boolean {
  if (type !== RRType.A && type !== RRType.AAAA) return false;
  if (rrClass !== RRClass.IN && rrClass !== RRClass.ANY) return false;
  // Most names have a dot that ends a label before the end: settled without a copy.
  const dot = name.indexOf(".");
  if (dot >= 0 && dot < name.length - 1 && !name.includes("\\")) return false;
  const key = nameKey(name);
  return key !== "" && parentName(key) === "";
}

/** Options for {@link singleLabel}. */
export interface SingleLabelOptions {
  /** Whether single-label names may be forwarded (`--forward-single-label`); read per query. */
  readonly forward: () => boolean;
  /** Forward zones' domains: a single-label name that is one of them is forwarded all the same. */
  readonly forwardDomains?: readonly string[];
}

/**
 * The stage that answers NXDOMAIN to A and AAAA queries for single-label names. The answer has no
 * SOA, as dnsmasq's has none: no zone of dnsd's holds the name (the root's SOA is not dnsd's to
 * give), and without one a client does not cache the denial (RFC 2308 section 5), so a name added
 * to local data later works at once. AA is clear for the same reason.
 */
export function singleLabel(options: SingleLabelOptions): Stage {
  const forwarded = new Set((options.forwardDomains ?? []).map(nameKey));
  return function singleLabel(request, next) {
    const query = request.message;
    const question = query.questions[0];
    if (!question || !isSingleLabelAddressQuery(question.name, question.type, question.class)) {
      return next(request);
    }
    if (options.forward() || forwarded.has(nameKey(question.name))) return next(request);
    return Promise.resolve(reply(query, { rcode: Rcode.NXDOMAIN }));
  };
}
