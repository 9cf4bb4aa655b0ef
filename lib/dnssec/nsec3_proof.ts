/**
 * NSEC3 denial (RFC 5155 section 8): the closest encloser proof (an ancestor whose hash an NSEC3
 * matches, the next closer name's hash covered), NXDOMAIN (plus the wildcard at the closest encloser
 * covered), NODATA (a matching NSEC3 without the type and CNAME; for DS, opt-out covering the next closer
 * name, section 8.6), wildcard answers (the next closer name covered, section 8.8). Hash parameters
 * come from the records; a hash algorithm other than SHA-1 or more than 150 iterations makes the zone
 * insecure (RFC 9276 section 3.2 allows that, and unbound and Knot do it at 150).
 * @module
 */
import { nameKey, parentName, type RData, RRType } from "../proto/mod.ts";
import { compareHashes, labelsFromRoot } from "./canonical_order.ts";
import { NSEC3_SHA1, nsec3Hash, ownerHash } from "./nsec3_hash.ts";
import { ancestorWith, type CutProof, joinWildcard } from "./nsec_proof.ts";

/** NSEC3 iterations above which a zone is treated as insecure (RFC 9276 section 3.2). */
export const MAX_NSEC3_ITERATIONS = 150;

/** One NSEC3 record: its owner's hash and its data. */
export interface Nsec3 {
  readonly hash: Uint8Array;
  readonly data: Extract<RData, { type: "NSEC3" }>;
}

/** NSEC3 records of one zone with their parameters, and a hash memo. */
export interface Nsec3Set {
  readonly records: readonly Nsec3[];
  readonly salt: Uint8Array;
  readonly iterations: number;
}

/** Why NSEC3 records cannot prove anything here (insecure), or null when their parameters are usable. */
export function nsec3Unusable(set: Nsec3Set): string | null {
  const first = set.records[0];
  if (first && first.data.hashAlgorithm !== NSEC3_SHA1) {
    return `NSEC3 hash algorithm ${first.data.hashAlgorithm}`;
  }
  if (set.iterations > MAX_NSEC3_ITERATIONS) {
    return `NSEC3 with ${set.iterations} iterations (over 150, RFC 9276)`;
  }
  return null;
}

/** Collects NSEC3 records (owner, data) that share the first one's parameters. */
export function nsec3Set(records: readonly { name: string; data: RData }[]): Nsec3Set | null {
  const out: Nsec3[] = [];
  let params: Extract<RData, { type: "NSEC3" }> | undefined;
  for (const record of records) {
    if (record.data.type !== "NSEC3") continue;
    const hash = ownerHash(record.name);
    if (!hash) continue;
    params ??= record.data;
    if (record.data.iterations !== params.iterations || record.data.hashAlgorithm !== params.hashAlgorithm) {
      continue;
    }
    if (compareHashes(record.data.salt, params.salt) !== 0) continue;
    out.push({ hash, data: record.data });
  }
  return params ? { records: out, salt: params.salt, iterations: params.iterations } : null;
}

function hashOf(set: Nsec3Set, name: string): Uint8Array {
  return nsec3Hash(name, set.salt, set.iterations);
}

/** The NSEC3 whose owner hash is `name`'s. */
export function nsec3Match(set: Nsec3Set, name: string): Nsec3 | undefined {
  const hash = hashOf(set, name);
  return set.records.find((record) => compareHashes(record.hash, hash) === 0);
}

/** The NSEC3 whose span covers `name`'s hash (strictly between owner and next, wrapping at the end). */
export function nsec3Cover(set: Nsec3Set, name: string): Nsec3 | undefined {
  const hash = hashOf(set, name);
  return set.records.find((record) => {
    const owner = record.hash;
    const next = record.data.nextHashedOwnerName;
    if (compareHashes(owner, next) < 0) {
      return compareHashes(owner, hash) < 0 && compareHashes(hash, next) < 0;
    }
    return compareHashes(owner, hash) < 0 || compareHashes(hash, next) < 0; // the last one wraps
  });
}

/** The closest encloser proof (RFC 5155 section 8.3) for `name` within `zone`. */
export function closestEncloser(
  set: Nsec3Set,
  name: string,
  zone: string,
): { readonly encloser: string; readonly nextCloser: string; readonly optOut: boolean } | null {
  const key = nameKey(name);
  const zoneLabels = labelsFromRoot(zone).length;
  for (let candidate = key, labels = labelsFromRoot(key).length; labels >= zoneLabels; labels--) {
    const parent = parentName(candidate);
    if (labels > zoneLabels && nsec3Match(set, parent)) {
      const cover = nsec3Cover(set, candidate);
      if (!cover) return null;
      return { encloser: parent, nextCloser: candidate, optOut: (cover.data.flags & 1) !== 0 };
    }
    candidate = parent;
  }
  return null;
}

/** The outcome of an NSEC3 proof: proven, proven only with opt-out (insecure), or failed. */
export type Nsec3Outcome = "proven" | "opt-out" | { readonly failed: string };

/** NXDOMAIN: the closest encloser proof, and the wildcard at the encloser covered. */
export function nsec3ProvesNxdomain(set: Nsec3Set, name: string, zone: string): Nsec3Outcome {
  const proof = closestEncloser(set, name, zone);
  if (!proof) return { failed: `no NSEC3 closest encloser proof for ${name}` };
  if (!nsec3Cover(set, joinWildcard(proof.encloser))) {
    return { failed: `no NSEC3 covers *.${proof.encloser}` };
  }
  return proof.optOut ? "opt-out" : "proven";
}

/** NODATA (RFC 5155 section 8.5-8.7): a match without the type, or a wildcard's, or opt-out for DS. */
export function nsec3ProvesNodata(set: Nsec3Set, name: string, type: number, zone: string): Nsec3Outcome {
  const key = nameKey(name);
  const match = nsec3Match(set, key);
  if (match) {
    const types = match.data.types;
    if (types.includes(type) || types.includes(RRType.CNAME)) {
      return { failed: `the NSEC3 of ${key} lists the type` };
    }
    if (type !== RRType.DS && types.includes(RRType.NS) && !types.includes(RRType.SOA)) {
      return { failed: `the NSEC3 of ${key} is a delegation's` };
    }
    return "proven";
  }
  const proof = closestEncloser(set, key, zone);
  if (!proof) return { failed: `no NSEC3 matches ${key} and no closest encloser proof` };
  if (type === RRType.DS) return proof.optOut ? "opt-out" : { failed: `no NSEC3 matches ${key}` };
  const wild = nsec3Match(set, joinWildcard(proof.encloser));
  if (!wild) return { failed: `no NSEC3 matches ${key} or *.${proof.encloser}` };
  const types = wild.data.types;
  if (types.includes(type) || types.includes(RRType.CNAME)) {
    return { failed: `the wildcard's NSEC3 lists the type` };
  }
  return "proven";
}

/** A wildcard answer (RFC 5155 section 8.8): the next closer name of `name` under the encloser is covered. */
export function nsec3ProvesWildcard(set: Nsec3Set, name: string, encloserLabels: number): Nsec3Outcome {
  const nextCloser = ancestorWith(name, encloserLabels + 1);
  const cover = nsec3Cover(set, nextCloser);
  if (!cover) return { failed: `no NSEC3 covers ${nextCloser}` };
  return (cover.data.flags & 1) !== 0 ? "opt-out" : "proven";
}

/** What NSEC3 records say of a DS asked at `name`, one label below a secure zone `zone`. */
export function nsec3CutProof(set: Nsec3Set, name: string, zone: string): CutProof {
  const key = nameKey(name);
  const match = nsec3Match(set, key);
  if (match) {
    const types = match.data.types;
    if (types.includes(RRType.DS)) return { failed: `the NSEC3 of ${key} lists DS` };
    if (types.includes(RRType.SOA)) return { failed: `the NSEC3 of ${key} is the child zone's` };
    return types.includes(RRType.NS) ? "insecure-delegation" : "no-cut";
  }
  const proof = closestEncloser(set, key, zone);
  if (!proof) return { failed: `no NSEC3 matches ${key} and no closest encloser proof` };
  // Opt-out over the next closer name: an unsigned delegation may hide there (RFC 5155 section 8.6).
  if (proof.optOut) return "insecure-delegation";
  return "no-cut";
}
