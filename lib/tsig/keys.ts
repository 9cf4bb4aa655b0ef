/**
 * TSIG keys (`--tsig-key NAME:ALGORITHM:BASE64`) and the HMACs they make, through WebCrypto.
 * HMAC-MD5 is not offered: WebCrypto has no MD5, and RFC 8945 section 6 lists it as optional.
 * @module
 */
import { checkName } from "../proto/mod.ts";

/** The algorithms, by their TSIG name (RFC 8945 section 6), and the WebCrypto hash each uses. */
export const TSIG_ALGORITHMS: Readonly<Record<string, { readonly hash: string; readonly bytes: number }>> = {
  "hmac-sha1": { hash: "SHA-1", bytes: 20 },
  "hmac-sha224": { hash: "SHA-224", bytes: 28 },
  "hmac-sha256": { hash: "SHA-256", bytes: 32 },
  "hmac-sha384": { hash: "SHA-384", bytes: 48 },
  "hmac-sha512": { hash: "SHA-512", bytes: 64 },
};

/** A shared secret. */
export interface TsigKey {
  /** The key's name, lower case, no trailing dot. */
  readonly name: string;
  /** The algorithm's TSIG name, as `hmac-sha256`. */
  readonly algorithm: string;
  /** The secret. */
  readonly secret: Uint8Array;
}

/** A `--tsig-key` value that cannot be used. */
export class TsigKeyError extends Error {
  override readonly name = "TsigKeyError";
}

function lowerName(name: string): string {
  return (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
}

/**
 * Reads `NAME:ALGORITHM:BASE64` (as `tsig-keygen` and `keymgr` print them, BIND's `hmac-sha256`
 * spelling; `hmac-sha256.` with its dot too).
 * @throws {TsigKeyError} for a malformed name, an algorithm not offered, or a secret that is not base64
 */
export function parseTsigKey(text: string): TsigKey {
  const parts = text.split(":");
  if (parts.length !== 3) throw new TsigKeyError(`"${text}": expected NAME:ALGORITHM:BASE64`);
  const [rawName, rawAlgorithm, base64] = parts as [string, string, string];
  const name = lowerName(rawName);
  if (name === "") throw new TsigKeyError(`"${text}": the key needs a name`);
  try {
    checkName(name);
  } catch (error) {
    throw new TsigKeyError(`"${rawName}" is not a valid key name: ${(error as Error).message}`);
  }
  const algorithm = lowerName(rawAlgorithm);
  if (!(algorithm in TSIG_ALGORITHMS)) {
    throw new TsigKeyError(
      `"${rawAlgorithm}": unknown TSIG algorithm (one of ${Object.keys(TSIG_ALGORITHMS).join(", ")})`,
    );
  }
  let secret: Uint8Array;
  try {
    secret = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  } catch {
    throw new TsigKeyError(`the secret of key "${name}" is not base64`);
  }
  if (secret.length === 0) throw new TsigKeyError(`the secret of key "${name}" is empty`);
  return { name, algorithm, secret };
}

/** HMAC of `data` under `key`. Imported keys are kept: a transfer signs many messages. */
export class Hmacs {
  readonly #imported = new Map<TsigKey, Promise<CryptoKey>>();

  #cryptoKey(key: TsigKey): Promise<CryptoKey> {
    let imported = this.#imported.get(key);
    if (!imported) {
      const hash = TSIG_ALGORITHMS[key.algorithm]!.hash;
      imported = crypto.subtle.importKey("raw", key.secret as BufferSource, { name: "HMAC", hash }, false, [
        "sign",
      ]);
      this.#imported.set(key, imported);
    }
    return imported;
  }

  /** The full-length MAC. */
  async mac(key: TsigKey, data: Uint8Array): Promise<Uint8Array> {
    const cryptoKey = await this.#cryptoKey(key);
    return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data as BufferSource));
  }
}

/** The keys dnsd knows, by name. */
export class TsigKeyring {
  readonly #keys: ReadonlyMap<string, TsigKey>;
  /** The keys in the order given: the first signs the NOTIFYs dnsd sends. */
  readonly keys: readonly TsigKey[];
  /** Where MACs are made (one per keyring: imported keys are cached by key). */
  readonly hmacs: Hmacs = new Hmacs();

  /**
   * Makes a keyring.
   * @param keys the keys, the first signing the NOTIFYs dnsd sends
   */
  constructor(keys: readonly TsigKey[]) {
    this.keys = keys;
    this.#keys = new Map(keys.map((key) => [key.name, key]));
  }

  /** The key of this name, if dnsd has one. */
  find(name: string): TsigKey | undefined {
    return this.#keys.get(lowerName(name));
  }

  /** Whether there are any keys at all (then transfers and NOTIFY must be signed). */
  get size(): number {
    return this.keys.length;
  }
}
