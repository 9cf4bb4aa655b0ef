/**
 * Signature verification with WebCrypto for the algorithms RFC 8624 section 3.1 says to validate:
 * 8 RSASHA256 and 10 RSASHA512 (RFC 5702; the key in RFC 3110 form), 13 ECDSAP256SHA256 and
 * 14 ECDSAP384SHA384 (RFC 6605; key x||y, signature r||s, which is what WebCrypto takes), 15 ED25519
 * (RFC 8080). Imported keys are kept, a bounded number, so each is imported once.
 * @module
 */

interface Scheme {
  readonly importAs: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  readonly verifyAs: Algorithm | EcdsaParams;
  readonly format: "jwk" | "raw";
  /** The key's length in octets when fixed (ECDSA, Ed25519). */
  readonly keyLength?: number;
}

const RSA = "RSASSA-PKCS1-v1_5";

const SCHEMES: ReadonlyMap<number, Scheme> = new Map<number, Scheme>([
  [8, { importAs: { name: RSA, hash: "SHA-256" }, verifyAs: { name: RSA }, format: "jwk" }],
  [10, { importAs: { name: RSA, hash: "SHA-512" }, verifyAs: { name: RSA }, format: "jwk" }],
  [13, {
    importAs: { name: "ECDSA", namedCurve: "P-256" },
    verifyAs: { name: "ECDSA", hash: "SHA-256" },
    format: "raw",
    keyLength: 64,
  }],
  [14, {
    importAs: { name: "ECDSA", namedCurve: "P-384" },
    verifyAs: { name: "ECDSA", hash: "SHA-384" },
    format: "raw",
    keyLength: 96,
  }],
  [15, { importAs: { name: "Ed25519" }, verifyAs: { name: "Ed25519" }, format: "raw", keyLength: 32 }],
]);

/** Whether dnsd validates signatures of DNSKEY algorithm `algorithm`. */
export function isSupportedAlgorithm(algorithm: number): boolean {
  return SCHEMES.has(algorithm);
}

function base64url(octets: Uint8Array): string {
  let text = "";
  for (const octet of octets) text += String.fromCharCode(octet);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function stripZeros(octets: Uint8Array): Uint8Array {
  let start = 0;
  while (start < octets.length - 1 && octets[start] === 0) start++;
  return octets.subarray(start);
}

/** The JWK of an RSA key in RFC 3110 section 2 form (exponent length, exponent, modulus), or null. */
export function rsaJwk(key: Uint8Array): JsonWebKey | null {
  let pos = 1;
  let length = key[0] ?? 0;
  if (length === 0) {
    if (key.length < 3) return null;
    length = (key[1]! << 8) | key[2]!;
    pos = 3;
  }
  if (length === 0 || pos + length >= key.length) return null;
  const e = stripZeros(key.subarray(pos, pos + length));
  const n = stripZeros(key.subarray(pos + length));
  return { kty: "RSA", n: base64url(n), e: base64url(e), ext: true };
}

/** Imports DNSKEY public keys once and verifies signatures with them. */
export class SignatureVerifier {
  readonly #keys = new Map<string, Promise<CryptoKey | null>>();
  readonly #max: number;

  /**
   * Makes a verifier with an empty key store.
   * @param maxKeys the most imported keys kept; the oldest is dropped first
   */
  constructor(maxKeys = 10_000) {
    this.#max = maxKeys;
  }

  /** The imported key, or null when it cannot be imported (malformed, or an algorithm not implemented). */
  importKey(algorithm: number, publicKey: Uint8Array): Promise<CryptoKey | null> {
    const id = `${algorithm}:${base64url(publicKey)}`;
    const kept = this.#keys.get(id);
    if (kept) return kept;
    const imported = importPublicKey(algorithm, publicKey);
    if (this.#keys.size >= this.#max) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(id, imported);
    return imported;
  }

  /** Whether `signature` over `data` verifies with the DNSKEY's key; false for a key that cannot be used. */
  async verify(
    algorithm: number,
    publicKey: Uint8Array,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean> {
    const scheme = SCHEMES.get(algorithm);
    const key = await this.importKey(algorithm, publicKey);
    if (!scheme || !key) return false;
    try {
      // copies: WebCrypto takes only buffers that cannot be shared
      return await crypto.subtle.verify(
        scheme.verifyAs,
        key,
        new Uint8Array(signature),
        new Uint8Array(data),
      );
    } catch {
      return false; // a signature of the wrong length for the curve: simply not valid
    }
  }
}

async function importPublicKey(algorithm: number, publicKey: Uint8Array): Promise<CryptoKey | null> {
  const scheme = SCHEMES.get(algorithm);
  if (!scheme) return null;
  try {
    if (scheme.format === "jwk") {
      const jwk = rsaJwk(publicKey);
      if (!jwk) return null;
      return await crypto.subtle.importKey("jwk", jwk, scheme.importAs, false, ["verify"]);
    }
    if (publicKey.length !== scheme.keyLength) return null;
    // ECDSA keys are x||y (RFC 6605 section 4); WebCrypto's raw form is the uncompressed point 04||x||y.
    const raw = scheme.keyLength === 32 ? new Uint8Array(publicKey) : Uint8Array.of(4, ...publicKey);
    return await crypto.subtle.importKey("raw", raw, scheme.importAs, false, ["verify"]);
  } catch {
    return null;
  }
}
