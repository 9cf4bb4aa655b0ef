/**
 * NSEC denial (RFC 4035 section 5.4, RFC 6840 section 4): what validated NSEC records prove about a
 * name: it does not exist (a covering NSEC, plus one covering the wildcard at the closest encloser),
 * it exists without a type (a matching NSEC without the type and without CNAME), or whether it is a
 * delegation with no DS (NS set, DS and SOA clear).
 * @module
 */
import { nameKey, parentName, RRType } from "../proto/mod.ts";
import { compareLabels, labelsFromRoot } from "./canonical_order.ts";

/** One NSEC record, names as keys. */
export interface Nsec {
  readonly owner: string;
  readonly next: string;
  readonly types: readonly number[];
}

/** Whether `nsec` says `name` does not exist: owner < name < next, the last NSEC wrapping to the apex. */
export function nsecCovers(nsec: Nsec, name: string): boolean {
  const owner = labelsFromRoot(nsec.owner);
  const target = labelsFromRoot(name);
  const next = labelsFromRoot(nsec.next);
  if (compareLabels(owner, target) >= 0) return false;
  return compareLabels(target, next) < 0 || compareLabels(next, owner) <= 0;
}

/** The ancestor of `name` (itself included) with `labels` labels. */
export function ancestorWith(name: string, labels: number): string {
  let result = nameKey(name);
  for (let count = labelsFromRoot(result).length; count > labels; count--) result = parentName(result);
  return result;
}

function commonLabels(a: string, b: string): number {
  const x = labelsFromRoot(a);
  const y = labelsFromRoot(b);
  let count = 0;
  while (count < x.length && count < y.length && compareLabels([x[count]!], [y[count]!]) === 0) count++;
  return count;
}

/**
 * The closest encloser of `name` from an NSEC covering it (RFC 4035 section 5.4): the longest
 * ancestor `name` shares with the NSEC's owner or next name.
 */
export function nsecClosestEncloser(nsec: Nsec, name: string): string {
  return ancestorWith(name, Math.max(commonLabels(name, nsec.owner), commonLabels(name, nsec.next)));
}

/** The NSEC at `name`, if any. */
export function nsecAt(nsecs: readonly Nsec[], name: string): Nsec | undefined {
  const key = nameKey(name);
  return nsecs.find((nsec) => nsec.owner === key);
}

/** Whether the NSEC records prove `name` does not exist, and nor does a wildcard that would cover it. */
export function nsecProvesNxdomain(nsecs: readonly Nsec[], name: string): string | null {
  const cover = nsecs.find((nsec) => nsecCovers(nsec, name));
  if (!cover) return `no NSEC covers ${name}`;
  const wildcard = joinWildcard(nsecClosestEncloser(cover, name));
  if (!nsecs.some((nsec) => nsecCovers(nsec, wildcard))) return `no NSEC covers ${wildcard}`;
  return null;
}

/**
 * Whether the NSEC records prove `name` has no `type`: the name's NSEC lacks the type and CNAME (and at
 * a delegation only DS may be denied, RFC 6840 section 4.1); an empty non-terminal (an NSEC covering the
 * name whose next name is below it); or a wildcard NODATA (the name covered, the wildcard's NSEC without
 * the type).
 */
export function nsecProvesNodata(nsecs: readonly Nsec[], name: string, type: number): string | null {
  const key = nameKey(name);
  const match = nsecAt(nsecs, key);
  if (match) return nodataAt(match, type, key);
  const cover = nsecs.find((nsec) => nsecCovers(nsec, key));
  if (!cover) return `no NSEC matches or covers ${key}`;
  if (nameKey(cover.next).endsWith(`.${key}`)) return null; // empty non-terminal (RFC 4035 section 3.1.3.2)
  const wildcard = joinWildcard(nsecClosestEncloser(cover, key));
  const wild = nsecAt(nsecs, wildcard);
  return wild ? nodataAt(wild, type, wildcard) : `no NSEC for ${wildcard}`;
}

function nodataAt(nsec: Nsec, type: number, name: string): string | null {
  if (nsec.types.includes(type)) return `the NSEC at ${name} lists the type asked`;
  if (nsec.types.includes(RRType.CNAME)) return `the NSEC at ${name} lists CNAME`;
  const delegation = nsec.types.includes(RRType.NS) && !nsec.types.includes(RRType.SOA);
  if (delegation && type !== RRType.DS) return `the NSEC at ${name} is a delegation's`;
  if (type === RRType.DS && nsec.types.includes(RRType.SOA) && name !== "") {
    return `the NSEC at ${name} is the child's`;
  }
  return null;
}

/** What NSEC records say of a DS asked at `name`, one label below a secure zone. */
export type CutProof = "insecure-delegation" | "no-cut" | { readonly failed: string };

/** Whether `name` is a delegation without DS (insecure), not a zone cut at all, or neither is proven. */
export function nsecCutProof(nsecs: readonly Nsec[], name: string): CutProof {
  const key = nameKey(name);
  const match = nsecAt(nsecs, key);
  if (match) {
    if (match.types.includes(RRType.DS)) return { failed: `the NSEC at ${key} lists DS` };
    if (match.types.includes(RRType.SOA)) return { failed: `the NSEC at ${key} is the child zone's` };
    return match.types.includes(RRType.NS) ? "insecure-delegation" : "no-cut";
  }
  return nsecs.some((nsec) => nsecCovers(nsec, key))
    ? "no-cut"
    : { failed: `no NSEC matches or covers ${key}` };
}

/** `*.` before `name`. */
export function joinWildcard(name: string): string {
  return name === "" ? "*" : `*.${name}`;
}
