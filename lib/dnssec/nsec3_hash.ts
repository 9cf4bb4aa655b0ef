/**
 * The NSEC3 hash (RFC 5155 section 5): IH(salt, x, 0) = H(x || salt), IH(salt, x, k) =
 * H(IH(salt, x, k-1) || salt), over the owner name in canonical wire form, with SHA-1 (algorithm 1,
 * the only one defined).
 *
 * SHA-1 is sha1.ts's: an authoritative answer is built synchronously, and a denial needs the hash
 * of the name asked, which WebCrypto's promise cannot give (see sha1.ts for why not node:crypto).
 * @module
 */
import { canonicalName, decodeBase32Hex } from "../proto/mod.ts";
import { sha1 } from "./sha1.ts";

/** NSEC3 hash algorithm 1: SHA-1 (RFC 5155 section 11). */
export const NSEC3_SHA1 = 1;

/** The NSEC3 hash of `name` with `salt` and `iterations` extra iterations. */
export function nsec3Hash(name: string, salt: Uint8Array, iterations: number): Uint8Array {
  let digest = sha1(canonicalName(name), salt);
  for (let i = 0; i < iterations; i++) digest = sha1(digest, salt);
  return digest;
}

/** The hash an NSEC3 owner name carries in its first label (base32hex), or null if it is not one. */
export function ownerHash(owner: string): Uint8Array | null {
  const dot = owner.indexOf(".");
  const label = dot < 0 ? owner : owner.slice(0, dot);
  const hash = decodeBase32Hex(label);
  return hash && hash.length === 20 ? hash : null;
}
