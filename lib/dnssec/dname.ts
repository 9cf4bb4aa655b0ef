/**
 * The CNAME a server synthesizes from a DNAME (RFC 6672 section 3.3) carries no RRSIG: a validator
 * checks the signed DNAME and that the CNAME is exactly what it substitutes (section 5.3.3).
 * @module
 */
import { canonicalName, type ResourceRecord } from "../proto/mod.ts";

function equalOctets(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((octet, i) => octet === b[i]);
}

/** The offsets where labels start in a wire name. */
function labelStarts(wire: Uint8Array): Set<number> {
  const starts = new Set<number>();
  for (let pos = 0; pos < wire.length && wire[pos] !== 0; pos += wire[pos]! + 1) starts.add(pos);
  return starts;
}

/**
 * Whether `cname` is the CNAME a DNAME among `answers` synthesizes: its owner lies below the
 * DNAME's owner, and its target is the owner with that suffix replaced by the DNAME's target.
 */
export function synthesizedFromDname(answers: readonly ResourceRecord[], cname: ResourceRecord): boolean {
  if (cname.data.type !== "CNAME") return false;
  const owner = canonicalName(cname.name);
  const target = canonicalName(cname.data.target);
  return answers.some(({ name, data }) => {
    if (data.type !== "DNAME") return false;
    const suffix = canonicalName(name);
    const cut = owner.length - suffix.length;
    if (cut <= 0 || !labelStarts(owner).has(cut) || !equalOctets(owner.subarray(cut), suffix)) return false;
    const substitute = canonicalName(data.target);
    const expected = new Uint8Array(cut + substitute.length);
    expected.set(owner.subarray(0, cut));
    expected.set(substitute, cut);
    return equalOctets(expected, target);
  });
}
