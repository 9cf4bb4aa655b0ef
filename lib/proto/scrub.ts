/**
 * Scrubbing a forwarded reply, as unbound does for a forward zone (iterator/iter_scrub.c:
 * scrub_normalize, scrub_sanitize): only records that answer the question, or that the answer needs,
 * are kept, so an upstream (or whoever spoofs it) cannot slip unrelated records into the cache and
 * into every later reply. The kept-bytes walk (`scanAnswer`) accepts only replies these rules
 * leave whole; the rest are decoded and scrubbed here. Pure: no I/O, no clock.
 *
 * - **Answer:** the CNAME chain from the question name, followed in whatever order the records
 *   come (nothing requires chain order, and some upstreams list the target first); DNAME records
 *   whose owner is above a name of the chain ride along (the upstream's synthesized CNAME carries
 *   the chain on, RFC 6672 section 5.3); then the records of the final name of the type asked (any
 *   type for ANY), and the RRSIGs of kept sets. They go to the client in the chain's order.
 * - **Authority:** SOA and NS records of a zone at or above the final name; DS, NSEC and NSEC3 records
 *   inside such a zone (or inside the signer's zone of a kept answer RRSIG); RRSIGs of kept sets.
 * - **Additional:** A and AAAA records of the names kept NS, MX and SRV records point to, and their
 *   RRSIGs. (The OPT record is not a record here: the codec keeps EDNS apart.)
 * - **DNSSEC records** (RRSIG, NSEC, NSEC3, and DS in authority) only when the query sent upstream
 *   had DO=1 or asked for that type: an upstream that adds them to a DO=0 query is stripped, as
 *   RFC 4035 section 3.2.1 asks of a resolver, so no DO=0 client gets them.
 * - **TTLs** with the top bit set are read as 0 (RFC 2181 section 8).
 * @module
 */
import { isAtOrBelow, nameKey } from "./name.ts";
import { typeCode } from "./rdata.ts";
import { type Message, type Question, type ResourceRecord, RRType } from "./types.ts";
import { receivedTtl } from "./wire_answer.ts";

/** Record types an authority section may hold besides SOA and NS: the DNSSEC proofs. */
const AUTHORITY_PROOFS: ReadonlySet<number> = new Set([RRType.DS, RRType.NSEC, RRType.NSEC3]);

/** A kept record's owner (as a key) and type: what an RRSIG must cover to be kept. */
function signedKey(owner: string, type: number): string {
  return `${type} ${owner}`;
}

/** The name a kept record points to for additional-section processing (RFC 1035 section 3.3). */
function additionalTarget(record: ResourceRecord): string | null {
  const data = record.data;
  if (data.type === "NS") return data.host;
  if (data.type === "MX") return data.exchange;
  if (data.type === "SRV") return data.target;
  return null;
}

/**
 * Which records of `records` to keep: `keep` decides for all but RRSIGs, which are kept when they
 * cover a kept record's owner and type (`covering`), never (`none`, for a DO=0 query), or as any
 * record when they are what was asked for (`asked`).
 */
function sift(
  records: readonly ResourceRecord[],
  keep: (record: ResourceRecord, owner: string, type: number, index: number) => boolean,
  rrsigs: "covering" | "asked" | "none",
): boolean[] {
  const signed = new Set<string>();
  const kept = records.map((record, index) => {
    const type = typeCode(record.data);
    // Decided below, once every set is known.
    if (type === RRType.RRSIG && rrsigs !== "asked") return false;
    const owner = nameKey(record.name);
    if (!keep(record, owner, type, index)) return false;
    signed.add(signedKey(owner, type));
    return true;
  });
  records.forEach((record, i) => {
    if (record.data.type === "RRSIG" && rrsigs === "covering") {
      kept[i] = signed.has(signedKey(nameKey(record.name), record.data.typeCovered));
    }
  });
  return kept;
}

/** The kept records with their TTLs read per RFC 2181; `records` itself when nothing changes. */
function keptOf(records: readonly ResourceRecord[], kept: readonly boolean[]): readonly ResourceRecord[] {
  let out: ResourceRecord[] | null = null;
  records.forEach((record, i) => {
    const ttl = receivedTtl(record.ttl);
    if (kept[i] && ttl === record.ttl) {
      out?.push(record);
      return;
    }
    out ??= records.slice(0, i);
    if (kept[i]) out.push({ ...record, ttl });
  });
  return out ?? records;
}

/** The CNAME chain from a name through a reply's answers: the names it reaches, in order, and its CNAMEs. */
interface Chain {
  /** The question's name, then each CNAME's target; the last is the final name. */
  readonly names: readonly string[];
  /** The indexes of the CNAME records that make it. */
  readonly links: ReadonlySet<number>;
}

/**
 * Follows CNAMEs from `start` (a key) through `answers`, whatever their order: at each name, its
 * first CNAME. A loop ends it. Linear: each owner is looked up once in a map built once.
 */
function cnameChain(answers: readonly ResourceRecord[], start: string): Chain {
  const cnameAt = new Map<string, number>();
  answers.forEach((record, i) => {
    if (record.data.type !== "CNAME") return;
    const owner = nameKey(record.name);
    if (!cnameAt.has(owner)) cnameAt.set(owner, i);
  });
  const names = [start];
  const seen = new Set(names);
  const links = new Set<number>();
  for (let at = cnameAt.get(start); at !== undefined;) {
    links.add(at);
    const data = answers[at]!.data;
    const target = nameKey(data.type === "CNAME" ? data.target : "");
    if (seen.has(target)) break;
    seen.add(target);
    names.push(target);
    at = cnameAt.get(target);
  }
  return { names, links };
}

/**
 * `answers` (the kept ones) in the chain's order: each CNAME (a DNAME just before the name it
 * redirects) before what its target has, the final name's records last, each RRSIG with the set it
 * covers; `answers` itself when they already are. Stable: the upstream's order within a name.
 */
function inChainOrder(
  answers: readonly ResourceRecord[],
  names: readonly string[],
): readonly ResourceRecord[] {
  const rank = new Map(names.map((name, i) => [name, i]));
  const positions = answers.map((record) => {
    const owner = nameKey(record.name);
    const data = record.data;
    const at = rank.get(owner);
    if (at !== undefined) return at;
    const type = data.type === "RRSIG" ? data.typeCovered : typeCode(data);
    // Kept only above a name of the chain (see scrubReply): it comes just before that name.
    if (type === RRType.DNAME) return names.findIndex((name) => isAtOrBelow(name, owner)) - 0.5;
    return names.length;
  });
  if (positions.every((position, i) => i === 0 || positions[i - 1]! <= position)) return answers;
  return answers.map((record, i) => ({ record, position: positions[i]! }))
    .sort((a, b) => a.position - b.position)
    .map(({ record }) => record);
}

/** Types a DO=0 query gets only when it asked for them (RFC 4035 section 3.2.1). */
const AUTHENTICATING: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3]);

/**
 * `reply` with only what answers `question` (the rules above); the same object when nothing is
 * removed and no TTL changes, which is the usual case. `reply` is a decoded message (a spread copy
 * is returned, which would leave a `WireResponse`'s getters behind).
 * @param dnssecOk whether the query sent upstream had DO=1: with false, DNSSEC records go
 */
export function scrubReply(reply: Message, question: Question, dnssecOk = true): Message {
  const anyType = question.type === RRType.ANY;
  const signatures = dnssecOk ? "covering" : "none";
  const chain = cnameChain(reply.answers, nameKey(question.name));
  const onChain = new Set(chain.names);
  const final = chain.names.at(-1)!;
  /** Whether a record of `type` may go to the client at all. */
  const shown = (type: number) => dnssecOk || !AUTHENTICATING.has(type) || type === question.type;
  const answerKept = sift(reply.answers, (record, owner, type, index) => {
    if (!shown(type)) return false;
    // A DNAME above a name of the chain redirects it; the synthesized CNAME after it moves it on.
    // One at a name itself redirects nothing: it stays only as the answer to DNAME (or ANY).
    if (type === RRType.DNAME) {
      if (onChain.has(owner)) return owner === final && (anyType || question.type === RRType.DNAME);
      return chain.names.some((name) => isAtOrBelow(name, owner));
    }
    if (record.data.type === "CNAME" && chain.links.has(index)) return true;
    // The type asked, at the final name (or beside a CNAME, as the walk in wire_answer.ts keeps it).
    return onChain.has(owner) && (anyType || type === question.type);
  }, question.type === RRType.RRSIG ? "asked" : signatures);
  const zones: string[] = [];
  reply.answers.forEach((record, i) => {
    if (answerKept[i] && record.data.type === "RRSIG") zones.push(nameKey(record.data.signerName));
  });
  for (const record of reply.authorities) {
    const type = typeCode(record.data);
    const owner = nameKey(record.name);
    if ((type === RRType.SOA || type === RRType.NS) && isAtOrBelow(final, owner)) zones.push(owner);
  }
  const authorityKept = sift(reply.authorities, (_, owner, type) => {
    if (type === RRType.SOA || type === RRType.NS) return isAtOrBelow(final, owner);
    if (!dnssecOk) return false; // the proofs (DS, NSEC, NSEC3) are for DO=1
    return AUTHORITY_PROOFS.has(type) && zones.some((zone) => isAtOrBelow(owner, zone));
  }, signatures);
  const targets = new Set<string>();
  for (const [records, kept] of [[reply.answers, answerKept], [reply.authorities, authorityKept]] as const) {
    records.forEach((record, i) => {
      const target = kept[i] ? additionalTarget(record) : null;
      if (target !== null) targets.add(nameKey(target));
    });
  }
  const additionalKept = sift(
    reply.additionals,
    (_, owner, type) => (type === RRType.A || type === RRType.AAAA) && targets.has(owner),
    signatures,
  );
  const answers = inChainOrder(keptOf(reply.answers, answerKept), chain.names);
  const authorities = keptOf(reply.authorities, authorityKept);
  const additionals = keptOf(reply.additionals, additionalKept);
  if (answers === reply.answers && authorities === reply.authorities && additionals === reply.additionals) {
    return reply;
  }
  return { ...reply, answers, authorities, additionals };
}
