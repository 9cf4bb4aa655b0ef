/**
 * DNSSEC: canonical name order, the NSEC3 hash, and (to come) signature verification and the
 * validation of forwarded answers (RFC 4033-4035, 5155, 6840). Pure apart from WebCrypto.
 * @module
 */
export { compareHashes, compareLabels, compareNames, labelsFromRoot } from "./canonical_order.ts";
export { NSEC3_SHA1, nsec3Hash, ownerHash } from "./nsec3_hash.ts";
