/**
 * Authoritative answers from local data (RFC 1034 section 4.3.2): exact matches, CNAME chains,
 * wildcards (RFC 4592), referrals at zone cuts, NODATA and NXDOMAIN with the SOA (RFC 2308).
 * @module
 */
import { findZone, type LocalData, rrsetOf, signaturesAt, type Zone, type ZoneNode } from "../zone/mod.ts";
import {
  type Message,
  nameKey,
  negativeTtl,
  parentName,
  type Question,
  Rcode,
  Refused,
  reply,
  type ResourceRecord,
  RRClass,
  RRType,
  typeCode,
} from "../proto/mod.ts";
import type { Request, Resolve, Stage } from "./request.ts";
import {
  delegationRecords,
  type Denial,
  denialRecords,
  named,
  type Origin,
  signaturesFor,
  soaSignatures,
  wildcardOf,
} from "./signed_answer.ts";
import type { ResponseMemo } from "./response_memo.ts";
import { dnameAbove, type Redirect, synthesizedCname } from "./dname_redirect.ts";

/** How many CNAMEs a chain may follow inside local data before dnsd stops (as BIND does). */
export const MAX_CNAME_CHAIN = 16;

/** What local data says about a question. */
export interface LocalAnswer {
  /** The response code (RFC 6604: that of the last name in a CNAME chain). */
  readonly rcode: number;
  /** AA: set for data from a zone or from hosts/mappings; clear on a referral. */
  readonly authoritative: boolean;
  /** The answer section. */
  readonly answers: readonly ResourceRecord[];
  /** The authority section: the SOA of a negative answer, or the NS of a referral. */
  readonly authorities: readonly ResourceRecord[];
  /** The additional section: addresses of NS, MX and SRV targets held locally, and glue. */
  readonly additionals: readonly ResourceRecord[];
  /** A CNAME chain that leaves local data: the name still to resolve (by forwarding, when RD=1). */
  readonly external?: string;
}

/** One name's lookup; `origin` says where in a zone it was found, for what DO=1 adds. */
type Step =
  | { readonly kind: "miss" }
  | {
    readonly kind: "records";
    readonly records: readonly ResourceRecord[];
    readonly origin: Origin | undefined;
  }
  | {
    readonly kind: "cname";
    readonly record: ResourceRecord;
    readonly target: string;
    readonly origin: Origin | undefined;
    /** The DNAME the CNAME was made from (RFC 6672 section 3.2): it goes in the answer first. */
    readonly dname?: Redirect;
  }
  /** A DNAME's substitute for the name would be over 255 octets (RFC 6672 section 2.2). */
  | { readonly kind: "yxdomain"; readonly dname: Redirect }
  | { readonly kind: "nodata"; readonly zone: Zone | undefined; readonly origin: Origin | undefined }
  | { readonly kind: "nxdomain"; readonly zone: Zone; readonly origin: Origin }
  | {
    readonly kind: "referral";
    readonly ns: readonly ResourceRecord[];
    /** The NS targets' addresses held locally: glue below the cut, or signed data beside it. */
    readonly glue: readonly ResourceRecord[];
    readonly origin: Origin;
  };

/** Answers from one node: the asked RRset, or its CNAME, or NODATA. `owner` is the name as asked. */
function fromNode(
  node: ZoneNode,
  owner: string,
  type: number,
  zone: Zone | undefined,
  origin?: Origin,
): Step {
  if (type === RRType.ANY) {
    // RFC 8482 allows a minimal answer; dnsd gives every RRset of the name, which is as cheap here.
    return { kind: "records", records: named(node.rrsets.flatMap((rrset) => rrset.records), owner), origin };
  }
  const rrset = rrsetOf(node, type);
  if (rrset) return { kind: "records", records: named(rrset.records, owner), origin };
  const cname = type === RRType.CNAME ? undefined : rrsetOf(node, RRType.CNAME)?.records[0];
  if (cname?.data.type === "CNAME") {
    return { kind: "cname", record: { ...cname, name: owner }, target: cname.data.target, origin };
  }
  return { kind: "nodata", zone, origin };
}

/** The topmost zone cut between the apex (excluded) and `key` (included, except for DS): its name and node. */
function findCut(zone: Zone, key: string, type: number): { key: string; node: ZoneNode } | undefined {
  let cut: { key: string; node: ZoneNode } | undefined;
  for (let name = key; name !== zone.key && name !== ""; name = parentName(name)) {
    const node = zone.nodes.get(name);
    // DS sits on the parent side of the cut (RFC 4035 section 3.1.4.1).
    if (node && rrsetOf(node, RRType.NS) && !(name === key && type === RRType.DS)) cut = { key: name, node };
  }
  return cut;
}

/** The closest encloser of a name that does not exist: its nearest ancestor that does (RFC 4592 section 3.3.1). */
function closestEncloser(zone: Zone, key: string): string {
  let encloser = parentName(key);
  while (encloser !== zone.key && !zone.nodes.has(encloser)) encloser = parentName(encloser);
  return encloser;
}

/**
 * Whether `key` (with `node`) is an NSEC3 owner name that must answer as if it did not exist: nothing but
 * NSEC3 (and its RRSIGs) there or below (RFC 5155 section 7.2.8, erratum 4622).
 */
function isHiddenNsec3Owner(zone: Zone, key: string, node: ZoneNode): boolean {
  if (!rrsetOf(node, RRType.NSEC3)) return false;
  const nsec3Only = node.rrsets.every(({ type, records }) =>
    type === RRType.NSEC3 ||
    records.every(({ data }) => data.type === "RRSIG" && data.typeCovered === RRType.NSEC3)
  );
  if (!nsec3Only) return false;
  return !zone.parents.has(key);
}

/**
 * A/AAAA records held locally for `target`, for the additional section; with `dnssecOk`, with their
 * RRSIGs (a signer signs no glue, so a delegation's addresses come without).
 */
function addressesOf(data: LocalData, target: string, dnssecOk: boolean): ResourceRecord[] {
  const key = nameKey(target);
  const zone = findZone(data, key);
  const node = zone?.nodes.get(key) ?? data.names.get(key);
  if (!node) return [];
  const signed = dnssecOk && zone?.dnssec ? signaturesAt : undefined;
  return [RRType.A, RRType.AAAA].flatMap((type) => {
    const records = rrsetOf(node, type)?.records ?? [];
    return signed && records.length > 0 ? [...records, ...signed(node, type)] : records;
  });
}

/**
 * The zone that answers `key`: the closest enclosing one, but for DS at a zone's apex the parent
 * zone when dnsd holds that too, since DS is the parent's data (RFC 4035 section 3.1.4.1).
 */
function answeringZone(data: LocalData, key: string, type: number): Zone | undefined {
  const zone = findZone(data, key);
  if (type !== RRType.DS || !zone || zone.key !== key || key === "") return zone;
  return findZone(data, parentName(key)) ?? zone;
}

function lookupOne(data: LocalData, name: string, type: number, dnssecOk: boolean): Step {
  const key = nameKey(name);
  const zone = answeringZone(data, key, type);
  const flat = data.names.get(key);
  if (!zone) return flat ? fromNode(flat, name, type, undefined) : { kind: "miss" };
  const cut = zone.hasDelegations ? findCut(zone, key, type) : undefined;
  if (zone.hasDnames) {
    const dname = dnameAbove(zone, key, cut?.key);
    if (dname) {
      const cname = synthesizedCname(name, dname);
      // Made here, so unsigned: a validator checks it against the signed DNAME (RFC 6672 5.3.3).
      if (cname) return { kind: "cname", record: cname, target: cname.data.target, origin: undefined, dname };
      return { kind: "yxdomain", dname };
    }
  }
  if (cut) {
    const ns = rrsetOf(cut.node, RRType.NS)!.records;
    // Glue below the cut is unsigned, so only an address beside it (in the zone) brings RRSIGs.
    const glue = ns.flatMap((record) =>
      record.data.type === "NS" ? addressesOf(data, record.data.host, dnssecOk) : []
    );
    return { kind: "referral", ns, glue, origin: { zone, key: cut.key, node: cut.node } };
  }
  const found = zone.nodes.get(key);
  const node = found && isHiddenNsec3Owner(zone, key, found) ? undefined : found;
  if (node && node.rrsets.length > 0) return fromNode(node, name, type, zone, { zone, key, node });
  // A hosts or mappings name inside a zone: its NODATA carries the zone's SOA like any other.
  if (flat) return fromNode(flat, name, type, zone);
  // An empty non-terminal exists (RFC 8020): in the zone, or above a hosts or mappings name in it.
  if (node || data.namesAbove.has(key)) return { kind: "nodata", zone, origin: { zone, key } };
  const encloser = closestEncloser(zone, key);
  const wildcard = zone.nodes.get(wildcardOf(encloser));
  // A wildcard, even an empty non-terminal, answers for the names it covers (RFC 4592 sections 3.3.1, 4.2).
  if (wildcard) {
    const origin = { zone, key, node: wildcard, encloser };
    return wildcard.rrsets.length > 0
      ? fromNode(wildcard, name, type, zone, origin)
      : { kind: "nodata", zone, origin };
  }
  return { kind: "nxdomain", zone, origin: { zone, key, encloser } };
}

/** The SOA for a negative answer, with TTL min(SOA TTL, MINIMUM) (RFC 2308 section 3). */
function negativeSoa(zone: Zone): ResourceRecord {
  return { ...zone.soa, ttl: negativeTtl(zone.soa.ttl, zone.soa.data.minimum) };
}

function additionalsFor(
  data: LocalData,
  records: readonly ResourceRecord[],
  dnssecOk: boolean,
): readonly ResourceRecord[] {
  // One type per RRset, but an ANY answer holds every RRset of the name: check them all.
  if (!records.some(({ data: { type } }) => type === "MX" || type === "NS" || type === "SRV")) return [];
  const additionals: ResourceRecord[] = [];
  for (const record of records) {
    const d = record.data;
    const target = d.type === "MX"
      ? d.exchange
      : d.type === "NS"
      ? d.host
      : d.type === "SRV"
      ? d.target
      : undefined;
    if (target !== undefined) additionals.push(...addressesOf(data, target, dnssecOk));
  }
  return additionals;
}

/**
 * Resolves a question against local data, following CNAMEs inside it. With `dnssecOk` (DO=1), an
 * answer from a signed zone carries its RRSIGs and proofs of denial (see signed_answer.ts).
 * @returns the answer, or null when the name is not local data's to answer
 */
export function resolveLocal(
  data: LocalData,
  qname: string,
  qtype: number,
  dnssecOk = false,
): LocalAnswer | null {
  let step = lookupOne(data, qname, qtype, dnssecOk);
  // The common case, one name and no CNAME, allocates nothing more.
  if (step.kind === "miss") return null;
  if (step.kind !== "cname") return finish(data, step, [], [], dnssecOk);
  const answers: ResourceRecord[] = [];
  const proofs: ResourceRecord[] = [];
  const seen = new Set<string>([nameKey(qname)]);
  while (step.kind === "cname") {
    if (step.dname) pushDname(answers, step.dname, dnssecOk);
    answers.push(step.record);
    if (dnssecOk && step.origin) {
      answers.push(...signaturesFor(step.origin, RRType.CNAME, step.record.name));
      if (step.origin.encloser !== undefined) proofs.push(...denialRecords(step.origin, "wildcard"));
    }
    // A CNAME asked for is the answer: the synthesized one, like one in the zone, is not followed.
    if (qtype === RRType.CNAME) return answer(Rcode.NOERROR, answers, proofs);
    const target = nameKey(step.target);
    // A loop or an over-long chain ends here, with what was found (as BIND and NSD do).
    // `seen` holds the name asked and each target followed: stop once MAX_CNAME_CHAIN were followed.
    if (seen.has(target) || seen.size > MAX_CNAME_CHAIN) return answer(Rcode.NOERROR, answers, proofs);
    seen.add(target);
    const next = lookupOne(data, step.target, qtype, dnssecOk);
    // The chain leaves local data: the rest is for forwarding.
    if (next.kind === "miss") return { ...answer(Rcode.NOERROR, answers, proofs), external: step.target };
    // It enters a zone delegated away: the rest is for forwarding too, and what a client that does
    // not recurse gets is the referral beside the CNAMEs (RFC 1034 section 4.3.2 step 3b, as NSD).
    if (next.kind === "referral") {
      const referral = referralAnswer(next, dnssecOk);
      return {
        ...answer(Rcode.NOERROR, answers, [...proofs, ...referral.authorities], referral.additionals),
        external: step.target,
      };
    }
    step = next;
  }
  return finish(data, step, answers, proofs, dnssecOk);
}

/** A referral: the cut's NS (with its DS or proof of none when DO=1) and their addresses; AA=0. */
function referralAnswer(step: Extract<Step, { kind: "referral" }>, dnssecOk: boolean): LocalAnswer {
  const ns = dnssecOk ? [...step.ns, ...delegationRecords(step.origin)] : step.ns;
  return { ...answer(Rcode.NOERROR, [], ns, step.glue), authoritative: false };
}

/** A DNAME for the answer section, with its RRSIGs when DO=1. */
function pushDname(answers: ResourceRecord[], dname: Redirect, dnssecOk: boolean): void {
  answers.push(dname.record);
  if (dnssecOk) answers.push(...signaturesFor(dname.origin, RRType.DNAME, dname.record.name));
}

function answer(
  rcode: number,
  answers: readonly ResourceRecord[],
  authorities: readonly ResourceRecord[] = [],
  additionals: readonly ResourceRecord[] = [],
): LocalAnswer {
  return { rcode, authoritative: true, answers, authorities, additionals };
}

/** The SOA of a negative answer, with its RRSIGs and the proof of `denial` when DO=1 asks for them. */
function negative(zone: Zone | undefined, origin: Origin | undefined, denial: Denial, dnssecOk: boolean) {
  if (!zone) return [];
  if (!dnssecOk || !zone.dnssec || !origin) return [negativeSoa(zone)];
  const soa = negativeSoa(zone);
  // The SOA's RRSIGs get the SOA's negative TTL too, as NSD and Knot serve them (RFC 4035 3.1.3).
  const signatures = soaSignatures(zone).map((record) => ({ ...record, ttl: soa.ttl }));
  return [soa, ...signatures, ...denialRecords(origin, denial)];
}

/**
 * The answer for the last step of a chain (`answers` holds the CNAMEs before it, with their RRSIGs
 * when DO=1; `proofs`, the wildcard proofs of those CNAMEs).
 */
function finish(
  data: LocalData,
  step: Exclude<Step, { kind: "miss" | "cname" }>,
  answers: ResourceRecord[],
  proofs: readonly ResourceRecord[],
  dnssecOk: boolean,
): LocalAnswer {
  const origin = step.kind === "yxdomain" ? step.dname.origin : step.origin;
  switch (step.kind) {
    case "referral":
      return referralAnswer(step, dnssecOk);
    case "records": {
      let records = step.records;
      let authorities = proofs;
      if (dnssecOk && origin?.zone.dnssec && records.length > 0) {
        const type = typeCode(records[0]!.data);
        // ANY already holds the name's RRSIGs as one of its RRsets.
        const signatures = step.records.some((r) => typeCode(r.data) !== type)
          ? []
          : signaturesFor(origin, type, records[0]!.name);
        records = [...records, ...signatures];
        if (origin.encloser !== undefined) authorities = [...proofs, ...denialRecords(origin, "wildcard")];
      }
      return answer(
        Rcode.NOERROR,
        answers.length === 0 ? records : [...answers, ...records],
        authorities,
        additionalsFor(data, step.records, dnssecOk),
      );
    }
    case "nodata": {
      const denial = origin?.encloser !== undefined ? "wildcard-nodata" : "nodata";
      return answer(Rcode.NOERROR, answers, [...proofs, ...negative(step.zone, origin, denial, dnssecOk)]);
    }
    case "yxdomain":
      pushDname(answers, step.dname, dnssecOk);
      return answer(Rcode.YXDOMAIN, answers, proofs);
    case "nxdomain":
      return answer(Rcode.NXDOMAIN, answers, [
        ...proofs,
        ...negative(step.zone, origin, "nxdomain", dnssecOk),
      ]);
  }
}

const REDIRECTS: ReadonlySet<number> = new Set<number>([RRType.DNAME, RRType.CNAME, RRType.RRSIG]);

/** The type an RRSIG covers, or the record's own type. */
function coveredType(record: ResourceRecord): number {
  return record.data.type === "RRSIG" ? record.data.typeCovered : typeCode(record.data);
}

/**
 * An ANY answer cut to the name's first RRset (RFC 8482 section 4.1): what a UDP client gets, so
 * that ANY over UDP does not amplify; its additional records go too. The whole set is for TCP.
 * With `dnssecOk` the RRset keeps its RRSIGs, as any signed answer must (RFC 4035 section 3.1.1).
 */
export function minimalAny(local: LocalAnswer, qname: string, dnssecOk: boolean): LocalAnswer {
  // A DNAME above the name and the CNAME made from it (with their RRSIGs) lead to the name whose
  // RRsets ANY asks for: they stay, and the cut is made after them. A DNAME at the name itself is
  // one of its RRsets like any other.
  let start = 0;
  const head = local.answers[0];
  if (head && typeCode(head.data) === RRType.DNAME && nameKey(head.name) !== nameKey(qname)) {
    while (start < local.answers.length && REDIRECTS.has(typeCode(local.answers[start]!.data))) start++;
  }
  // The first RRset proper: an RRSIG is kept beside the RRset it covers, never chosen on its own.
  const first = local.answers.slice(start).find(({ data }) => data.type !== "RRSIG");
  if (!first) return local;
  const type = typeCode(first.data);
  const answers = local.answers.filter((record, i) =>
    i < start || typeCode(record.data) === type ||
    (dnssecOk && record.data.type === "RRSIG" && coveredType(record) === type)
  );
  if (answers.length === local.answers.length) return local;
  return { ...local, answers, additionals: [] };
}

/** Whether a question's class is one local data answers (IN, and ANY, which matches it). */
function isLocalClass(rrClass: number): boolean {
  return rrClass === RRClass.IN || rrClass === RRClass.ANY;
}

/** The response that gives `local` as it is: what local data alone says about the question. */
function localReply(query: Message, question: Question, local: LocalAnswer): Message {
  return reply(query, {
    rcode: local.rcode,
    // For QCLASS ANY no server holds every class, so no answer is authoritative (as NSD answers).
    authoritative: local.authoritative && question.class !== RRClass.ANY,
    answers: local.answers,
    authorities: local.authorities,
    additionals: local.additionals,
  });
}

/**
 * The stage that answers from local data. A CNAME chain that leaves local data is completed
 * through `next` (forwarding) when RD=1, with AA cleared since part of the answer is not ours; a
 * client that may not recurse (the rest is REFUSED) gets the local part, as with RD=0.
 * Names outside local data go to `next` unchanged.
 */
export function authoritative(data: () => LocalData, options: { readonly memo?: ResponseMemo } = {}): Stage {
  const { memo } = options;
  /** A CNAME chain that leaves local data: the rest is asked of `next`, and AA is cleared. */
  async function completed(request: Request, next: Resolve, local: LocalAnswer, external: string) {
    const query = request.message;
    const question = query.questions[0]!;
    let rest: Message;
    try {
      rest = await next({ ...request, message: { ...query, questions: [{ ...question, name: external }] } });
    } catch (error) {
      // The recursion gate (or the chain's end) refused the rest: the CNAMEs are still this
      // server's data to give, as an authoritative-only server gives them (RFC 1034 4.3.2 step 3a).
      if (error instanceof Refused) return localReply(query, question, local);
      throw error;
    }
    return reply(query, {
      rcode: rest.rcode,
      truncated: rest.truncated,
      answers: [...local.answers, ...rest.answers],
      authorities: rest.authorities,
      additionals: rest.additionals,
    });
  }
  // Not async: most queries pass through to `next`, and an async function would wrap its promise.
  return function authoritative(request, next) {
    const query = request.message;
    const question = query.questions[0];
    if (!question || !isLocalClass(question.class)) return next(request);
    let local: LocalAnswer | null;
    try {
      local = resolveLocal(data(), question.name, question.type, query.edns?.dnssecOk === true);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!local) return next(request);
    const dnssecOk = query.edns?.dnssecOk === true;
    if (question.type === RRType.ANY && request.transport === "udp") {
      local = minimalAny(local, question.name, dnssecOk);
    }
    if (local.external !== undefined && query.recursionDesired) {
      return completed(request, next, local, local.external);
    }
    const response = localReply(query, question, local);
    // Local data answers the same until it is swapped: its bytes can be kept as they are.
    return Promise.resolve(memo ? memo.mark(response, Infinity) : response);
  };
}
