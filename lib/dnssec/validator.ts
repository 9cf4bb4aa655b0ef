/**
 * Validation of a forwarded answer (RFC 4035 section 5): every RRset of the answer section checked
 * under the zone that signed it (the signer at or above the owner), a wildcard expansion with the
 * proof that the name asked does not exist, and NXDOMAIN or NODATA (at the end of any CNAME chain)
 * with the validated SOA and NSEC or NSEC3 records that prove it. An RRset without RRSIG is insecure
 * only below a proven unsigned delegation; in a signed zone it is bogus.
 * @module
 */
import {
  isAtOrBelow,
  type Message,
  nameKey,
  type Question,
  Rcode,
  type ResourceRecord,
  RRType,
  typeCode,
  typeName,
} from "../proto/mod.ts";
import { labelCount } from "./canonical_rr.ts";
import { synthesizedFromDname } from "./dname.ts";
import { nsecCovers, nsecProvesNodata, nsecProvesNxdomain } from "./nsec_proof.ts";
import {
  type Nsec3Outcome,
  nsec3ProvesNodata,
  nsec3ProvesNxdomain,
  nsec3ProvesWildcard,
  nsec3Set,
  nsec3Unusable,
} from "./nsec3_proof.ts";
import { sigsFor } from "./rrsig_check.ts";
import { SignatureVerifier } from "./signature.ts";
import { type Budget, type ChainFailure, newBudget, TrustChain, type ZoneState } from "./trust_chain.ts";
import { Ede, type Validator, type ValidatorOptions, type Verdict } from "./types.ts";

/** Most validated DNSKEY sets kept when the options name no number. */
export const DEFAULT_MAX_KEY_ENTRIES = 10_000;
/** The types whose RRSIGs in the authority section name the zone of a denial. */
const DENIAL_TYPES: ReadonlySet<number> = new Set([RRType.SOA, RRType.NSEC, RRType.NSEC3]);
/** Most CNAMEs followed in one answer. */
const MAX_CHAIN = 16;

type Secure = ZoneState & { kind: "secure" };

const secure = (why: string): Verdict => ({ security: "secure", why });
const insecure = (why: string, ede?: number): Verdict =>
  ede === undefined ? { security: "insecure", why } : { security: "insecure", ede, why };
const fromFailure = (failure: ChainFailure): Verdict => ({
  security: "bogus",
  ede: failure.ede,
  why: failure.why,
});
const bogus = (ede: number, why: string): Verdict => ({ security: "bogus", ede, why });

function show(name: string): string {
  return nameKey(name) || ".";
}

/** The answer's RRsets in order, RRSIGs left out. */
function rrsets(records: readonly ResourceRecord[]): ResourceRecord[][] {
  const sets = new Map<string, ResourceRecord[]>();
  for (const record of records) {
    if (record.data.type === "RRSIG") continue;
    const id = `${nameKey(record.name)}/${typeCode(record.data)}/${record.class}`;
    const set = sets.get(id);
    if (set) set.push(record);
    else sets.set(id, [record]);
  }
  return [...sets.values()];
}

/** Makes a validator over the given trust anchors, fetch and clock. */
export function createValidator(options: ValidatorOptions): Validator {
  const chain = new TrustChain({
    anchors: options.anchors,
    fetch: options.fetch,
    now: options.now,
    verifier: new SignatureVerifier(options.maxKeyEntries ?? DEFAULT_MAX_KEY_ENTRIES),
    maxEntries: options.maxKeyEntries ?? DEFAULT_MAX_KEY_ENTRIES,
  });
  return {
    validate(question, response) {
      return validateAnswer(chain, question, response, newBudget());
    },
  };
}

async function validateAnswer(chain: TrustChain, question: Question, response: Message, budget: Budget) {
  if (response.rcode !== Rcode.NOERROR && response.rcode !== Rcode.NXDOMAIN) {
    return { security: "indeterminate", why: `rcode ${response.rcode} is not validated` } satisfies Verdict;
  }
  let verdict: Verdict | undefined;
  for (const rrset of rrsets(response.answers)) {
    // A CNAME synthesized from a DNAME is unsigned by design: the DNAME's own check covers it.
    const first = rrset[0]!;
    if (
      first.data.type === "CNAME" &&
      sigsFor(response.answers, nameKey(first.name), RRType.CNAME).length === 0 &&
      synthesizedFromDname(response.answers, first)
    ) continue;
    const result = await checkAnswerRRset(chain, rrset, response, budget);
    if (result.security === "bogus") return result;
    if (result.security === "insecure") verdict ??= result;
  }
  // Follow the CNAME chain from the name asked; its end either holds the type asked or needs a denial.
  let name = nameKey(question.name);
  for (let hops = 0; hops < MAX_CHAIN; hops++) {
    const cname = response.answers.find((record) =>
      record.data.type === "CNAME" && nameKey(record.name) === name
    );
    if (!cname || question.type === RRType.CNAME || cname.data.type !== "CNAME") break;
    name = nameKey(cname.data.target);
  }
  const answered = response.answers.some((record) =>
    nameKey(record.name) === name && (typeCode(record.data) === question.type || question.type === RRType.ANY)
  );
  if (!answered || response.rcode === Rcode.NXDOMAIN) {
    const denial = await checkDenial(chain, name, question.type, response, budget);
    if (denial.security === "bogus") return denial;
    if (denial.security === "insecure") verdict ??= denial;
    return verdict ?? denial;
  }
  return verdict ?? secure(`${show(question.name)}/${typeName(question.type)} validated`);
}

async function checkAnswerRRset(
  chain: TrustChain,
  rrset: ResourceRecord[],
  response: Message,
  budget: Budget,
) {
  const first = rrset[0]!;
  const owner = nameKey(first.name);
  const type = typeCode(first.data);
  const what = `${show(owner)}/${typeName(type)}`;
  const sigs = sigsFor(response.answers, owner, type);
  if (sigs.length === 0) {
    const zone = await chain.zoneFor(owner, budget);
    if (zone.kind === "bogus") return fromFailure(zone);
    if (zone.kind === "insecure") return insecure(`${what}: ${zone.why}`, zone.ede);
    return bogus(Ede.RRSIGS_MISSING, `no RRSIG for ${what} in signed zone ${show(zone.zone)}`);
  }
  const signer = nameKey(sigs[0]!.signerName);
  if (!isAtOrBelow(owner, signer)) return bogus(Ede.BOGUS, `${what} signed by ${show(signer)}, not above it`);
  const zone = await chain.zoneFor(signer, budget);
  if (zone.kind === "bogus") return fromFailure(zone);
  if (zone.kind === "insecure") return insecure(`${what}: ${zone.why}`, zone.ede);
  if (zone.zone !== signer) {
    return bogus(Ede.BOGUS, `${what} signed by ${show(signer)}, which is no zone apex`);
  }
  const check = await chain.checkWith(rrset, response.answers, zone);
  if (!check.ok) return bogus(check.ede, check.why);
  if (check.labels < labelCount(owner)) {
    return await checkWildcard(chain, owner, check.labels, response, zone);
  }
  return secure(`${what} validated`);
}

/** A wildcard expansion (RFC 4035 section 5.3.4): the name itself must be proven not to exist. */
async function checkWildcard(
  chain: TrustChain,
  owner: string,
  labels: number,
  response: Message,
  zone: Secure,
) {
  const proof = await chain.verifiedDenial(response.authorities, zone);
  if ("kind" in proof) return fromFailure(proof);
  if (proof.nsecs.some((nsec) => nsecCovers(nsec, owner))) {
    return secure(`${show(owner)}: wildcard validated`);
  }
  const set = nsec3Set(proof.nsec3);
  if (set) {
    const unusable = nsec3Unusable(set);
    if (unusable) return insecure(`${show(owner)}: ${unusable}`);
    return outcomeVerdict(nsec3ProvesWildcard(set, owner, labels), `${show(owner)}: wildcard`);
  }
  // DNSSEC Bogus, not NSEC Missing: RFC 8914 gives 12 to a denial whose proof is missing, and here
  // the data is present (unbound says 6 too).
  return bogus(Ede.BOGUS, `wildcard answer for ${show(owner)} without proof that the name does not exist`);
}

function outcomeVerdict(outcome: Nsec3Outcome, what: string): Verdict {
  if (outcome === "proven") return secure(`${what} validated`);
  if (outcome === "opt-out") return insecure(`${what}: NSEC3 opt-out span (RFC 5155 section 9.2)`);
  return bogus(Ede.BOGUS, `${what}: ${outcome.failed}`);
}

/** NXDOMAIN or NODATA for `name`/`type`: the SOA and the NSEC or NSEC3 records of the authority section. */
async function checkDenial(chain: TrustChain, name: string, type: number, response: Message, budget: Budget) {
  const nxdomain = response.rcode === Rcode.NXDOMAIN;
  const what = `${nxdomain ? "NXDOMAIN" : "NODATA"} for ${show(name)}/${typeName(type)}`;
  const authority = response.authorities;
  // The zone that denies: the deepest signer above the name of the SOA or of an NSEC or NSEC3.
  let apex: string | undefined;
  for (const record of authority) {
    if (record.data.type !== "RRSIG" || !DENIAL_TYPES.has(record.data.typeCovered)) continue;
    const signer = nameKey(record.data.signerName);
    if (isAtOrBelow(name, signer) && (apex === undefined || labelCount(signer) > labelCount(apex))) {
      apex = signer;
    }
  }
  if (apex === undefined) {
    const zone = await chain.zoneFor(name, budget);
    if (zone.kind === "bogus") return fromFailure(zone);
    if (zone.kind === "insecure") return insecure(`${what}: ${zone.why}`, zone.ede);
    const denial = authority.some((r) => r.data.type === "NSEC" || r.data.type === "NSEC3");
    return bogus(
      denial ? Ede.RRSIGS_MISSING : Ede.NSEC_MISSING,
      `${what} in signed zone ${show(zone.zone)} ${denial ? "has no RRSIG" : "has no NSEC or NSEC3"}`,
    );
  }
  const zone = await chain.zoneFor(apex, budget);
  if (zone.kind === "bogus") return fromFailure(zone);
  if (zone.kind === "insecure") return insecure(`${what}: ${zone.why}`, zone.ede);
  if (zone.zone !== apex) return bogus(Ede.BOGUS, `${what} signed by ${show(apex)}, which is no zone apex`);
  const soa = authority.filter((record) => record.data.type === "SOA" && nameKey(record.name) === apex);
  if (soa.length > 0) {
    const check = await chain.checkWith(soa, authority, zone);
    if (!check.ok) return bogus(check.ede, check.why);
  }
  const proof = await chain.verifiedDenial(authority, zone);
  if ("kind" in proof) return fromFailure(proof);
  const set = nsec3Set(proof.nsec3);
  if (set) {
    const unusable = nsec3Unusable(set);
    if (unusable) return insecure(`${what}: ${unusable}`);
    const outcome = nxdomain
      ? nsec3ProvesNxdomain(set, name, zone.zone)
      : nsec3ProvesNodata(set, name, type, zone.zone);
    return outcomeVerdict(outcome, what);
  }
  if (proof.nsecs.length === 0) return bogus(Ede.NSEC_MISSING, `${what} has no NSEC or NSEC3`);
  const failed = nxdomain ? nsecProvesNxdomain(proof.nsecs, name) : nsecProvesNodata(proof.nsecs, name, type);
  return failed === null ? secure(`${what} validated`) : bogus(Ede.BOGUS, `${what}: ${failed}`);
}
