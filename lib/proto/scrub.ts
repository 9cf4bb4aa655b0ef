/**
 * Scrubbing a forwarded reply, as unbound does for a forward zone (iterator/iter_scrub.c:
 * scrub_normalize, scrub_sanitize): only records that answer the question, or that the answer needs,
 * are kept, so an upstream (or whoever spoofs it) cannot slip unrelated records into the cache and
 * into every later reply. The kept-bytes walk (`scanAnswer`) accepts only replies these rules
 * leave whole; the rest are decoded and scrubbed here. Pure: no I/O, no clock.
 *
 * - **Answer:** the CNAME chain from the question name (DNAME records whose owner is above the
 *   current name ride along; the upstream's synthesized CNAME carries the chain on, RFC 6672
 *   section 5.3), then the records of the final name of the type asked (any type for ANY), and the
 *   RRSIGs of kept sets.
 * - **Authority:** SOA and NS records of a zone at or above the final name; DS, NSEC and NSEC3 records
 *   inside such a zone (or inside the signer's zone of a kept answer RRSIG); RRSIGs of kept sets.
 * - **Additional:** A and AAAA records of the names kept NS, MX and SRV records point to, and their
 *   RRSIGs. (The OPT record is not a record here: the codec keeps EDNS apart.)
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
 * cover a kept record's owner and type (unless `rrsigs` says they are what was asked for).
 */
function sift(
  records: readonly ResourceRecord[],
  keep: (record: ResourceRecord, owner: string, type: number) => boolean,
  rrsigs: "covering" | "asked" = "covering",
): boolean[] {
  const signed = new Set<string>();
  const kept = records.map((record) => {
    const type = typeCode(record.data);
    // Decided below, once every set is known.
    if (type === RRType.RRSIG && rrsigs === "covering") return false;
    const owner = nameKey(record.name);
    if (!keep(record, owner, type)) return false;
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

/**
 * `reply` with only what answers `question` (the rules above); the same object when nothing is
 * removed and no TTL changes, which is the usual case. `reply` is a decoded message (a spread copy
 * is returned, which would leave a `WireResponse`'s getters behind).
 */
export function scrubReply(reply: Message, question: Question): Message {
  let current = nameKey(question.name);
  const anyType = question.type === RRType.ANY;
  const answerKept = sift(reply.answers, (record, owner, type) => {
    // A DNAME above the current name redirects it; the synthesized CNAME that follows moves it on.
    // One at the name itself redirects nothing: it stays only as the answer to DNAME (or ANY).
    if (type === RRType.DNAME) {
      return owner === current ? anyType || question.type === RRType.DNAME : isAtOrBelow(current, owner);
    }
    if (owner !== current) return false;
    if (record.data.type === "CNAME") {
      current = nameKey(record.data.target);
      return true;
    }
    return anyType || type === question.type;
  }, question.type === RRType.RRSIG ? "asked" : "covering");
  const final = current;
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
    return AUTHORITY_PROOFS.has(type) && zones.some((zone) => isAtOrBelow(owner, zone));
  });
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
  );
  const answers = keptOf(reply.answers, answerKept);
  const authorities = keptOf(reply.authorities, authorityKept);
  const additionals = keptOf(reply.additionals, additionalKept);
  if (answers === reply.answers && authorities === reply.authorities && additionals === reply.additionals) {
    return reply;
  }
  return { ...reply, answers, authorities, additionals };
}
