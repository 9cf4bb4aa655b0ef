/**
 * DNSSEC: canonical name order, the NSEC3 hash, the canonical form of RRsets, key tags and DS digests,
 * signature verification with WebCrypto, NSEC and NSEC3 denial proofs, and the validation of forwarded
 * answers along the chain of trust (RFC 4033-4035, 5155, 6840). Pure apart from WebCrypto and the
 * injected fetch and clock.
 * @module
 */
export { compareHashes, compareLabels, compareNames, labelsFromRoot } from "./canonical_order.ts";
export { NSEC3_SHA1, nsec3Hash, ownerHash } from "./nsec3_hash.ts";
export { canonicalRData, signedData } from "./canonical_rr.ts";
export { dsDigest, dsMatches, keyTag } from "./key_tag.ts";
export { isSupportedAlgorithm, SignatureVerifier } from "./signature.ts";
export { parseTrustAnchors, ROOT_ANCHORS } from "./anchors.ts";
export { createValidator, DEFAULT_MAX_KEY_ENTRIES } from "./validator.ts";
export { MAX_FETCHES, MAX_STEPS } from "./trust_chain.ts";
export { MAX_NSEC3_ITERATIONS } from "./nsec3_proof.ts";
export { Ede } from "./types.ts";
export type { DnssecFetch, Security, Validator, ValidatorOptions, Verdict } from "./types.ts";
