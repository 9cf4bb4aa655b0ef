/**
 * Key tags (RFC 4034 appendix B) and DS digests (RFC 4034 section 5.1.4; SHA-256 RFC 4509, SHA-384
 * RFC 6605; SHA-1 accepted as RFC 8624 section 3.3 says validators MUST), and the match of a DS to a DNSKEY.
 * @module
 */
import { canonicalName, concatBytes, type RData } from "../proto/mod.ts";
import { dnskeyRData } from "./canonical_rr.ts";

type DnskeyData = Extract<RData, { type: "DNSKEY" }>;
type DsData = Extract<RData, { type: "DS" }>;

/** The DS digest types implemented, by code, as WebCrypto names them. */
export const DS_DIGESTS: ReadonlyMap<number, string> = new Map([[1, "SHA-1"], [2, "SHA-256"], [
  4,
  "SHA-384",
]]);

/** The key tag of a DNSKEY (RFC 4034 appendix B; algorithm 1 is not used, so not special-cased). */
export function keyTag(key: DnskeyData): number {
  const wire = dnskeyRData(key);
  let sum = 0;
  for (let i = 0; i < wire.length; i++) sum += (i & 1) ? wire[i]! : wire[i]! << 8;
  sum += (sum >>> 16) & 0xffff;
  return sum & 0xffff;
}

/** The digest a DS of `digestType` holds for `key` at `owner`, or null for a digest type not implemented. */
export async function dsDigest(
  owner: string,
  key: DnskeyData,
  digestType: number,
): Promise<Uint8Array | null> {
  const hash = DS_DIGESTS.get(digestType);
  if (!hash) return null;
  const data = concatBytes([canonicalName(owner), dnskeyRData(key)]);
  return new Uint8Array(await crypto.subtle.digest(hash, new Uint8Array(data)));
}

/** Whether `ds` (at `owner`) names `key`: same algorithm and tag, and the digest matches. */
export async function dsMatches(owner: string, ds: DsData, key: DnskeyData): Promise<boolean> {
  if (ds.algorithm !== key.algorithm || ds.keyTag !== keyTag(key)) return false;
  const digest = await dsDigest(owner, key, ds.digestType);
  return digest !== null && equalOctets(digest, ds.digest);
}

/** Whether two byte strings are equal. */
export function equalOctets(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((octet, i) => octet === b[i]);
}
