/**
 * Canonical DNS name order (RFC 4034 section 6.1): names compared label by label from the root,
 * each label as lower-cased octets, a shorter label (or name) first when one is a prefix of the
 * other. NSEC chains follow this order; NSEC3 chains follow the order of their hashes instead.
 * @module
 */
import { canonicalName } from "../proto/mod.ts";

/** The labels of a name in canonical wire form, from the root down (lower-cased octets). */
export function labelsFromRoot(name: string): Uint8Array[] {
  const wire = canonicalName(name);
  const labels: Uint8Array[] = [];
  for (let pos = 0; wire[pos]! !== 0; pos += wire[pos]! + 1) {
    labels.push(wire.subarray(pos + 1, pos + 1 + wire[pos]!));
  }
  return labels.reverse();
}

function compareOctets(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Negative when `a` sorts before `b` in canonical order, 0 for the same name, positive after. */
export function compareNames(a: string, b: string): number {
  return compareLabels(labelsFromRoot(a), labelsFromRoot(b));
}

/** {@link compareNames} on names already split by {@link labelsFromRoot}. */
export function compareLabels(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const order = compareOctets(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** Octet order of two hashes (NSEC3 owner hashes, RFC 5155 section 7.1). */
export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  return compareOctets(a, b);
}
