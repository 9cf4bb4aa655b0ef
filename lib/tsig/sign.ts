/**
 * Signing and checking messages with TSIG (RFC 8945): a request checked by the server and its
 * answer signed (section 5.3, a transfer's later messages chained to the one before, section
 * 5.3.1), and the client's side, a request signed and the answers checked in turn (section 5.4).
 * @module
 */
import { concatBytes, FormatError } from "../proto/mod.ts";
import type { Hmacs, TsigKey, TsigKeyring } from "./keys.ts";
import { TSIG_ALGORITHMS } from "./keys.ts";
import {
  appendTsig,
  encodeTsig,
  locateTsig,
  signedPart,
  type TsigRecord,
  tsigTimers,
  tsigVariables,
  u48,
} from "./record.ts";

/** TSIG error codes (RFC 8945 section 3, the TSIG record's Error field). */
export const TsigError = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/** The name of a TSIG error code, for logs. */
export function tsigErrorName(code: number): string {
  const entry = Object.entries(TsigError).find(([, value]) => value === code);
  return entry ? entry[0] : `error ${code}`;
}

/** The fudge dnsd signs with: BIND, Knot and NSD all use 300 seconds. */
export const DEFAULT_FUDGE = 300;

/** Seconds since the epoch, now. */
export type UnixClock = () => number;

/** A request checked against its key: what signs its answer. */
export interface SignedRequest {
  /** The key the request was signed with (its answer is signed with it too). */
  readonly key: TsigKey;
  /** The request's TSIG record. */
  readonly record: TsigRecord;
}

/** What checking a request found. */
export type TsigVerdict =
  | { readonly kind: "unsigned" }
  | { readonly kind: "signed"; readonly signed: SignedRequest }
  /** Not to be answered: NOTAUTH with this TSIG error (RFC 8945 section 5.2). */
  | {
    readonly kind: "rejected";
    readonly error: number;
    readonly record: TsigRecord;
    readonly key?: TsigKey;
  };

function sameMac(expected: Uint8Array, got: Uint8Array): boolean {
  // A truncated MAC (RFC 8945 section 5.2.2.1) is compared over its length; every octet is looked at.
  let difference = 0;
  for (let i = 0; i < got.length; i++) difference |= expected[i]! ^ got[i]!;
  return difference === 0;
}

function macLength(two: number): Uint8Array {
  return Uint8Array.of(two >>> 8, two & 0xff);
}

/**
 * Checks `bytes`' MAC length against its algorithm (RFC 8945 section 5.2.2.1).
 * @throws {FormatError} for a MAC longer than the hash, or shorter than 10 octets or half of it
 */
function checkMacSize(record: TsigRecord, key: TsigKey): void {
  const full = TSIG_ALGORITHMS[key.algorithm]!.bytes;
  const size = record.mac.length;
  if (size > full || size < Math.max(10, full / 2)) {
    throw new FormatError(`a TSIG MAC of ${size} octets for ${key.algorithm}`);
  }
}

/**
 * Checks a request's TSIG: the key (BADKEY), the MAC (BADSIG), then the time (BADTIME), in the
 * order of RFC 8945 section 5.2.
 * @throws {FormatError} for a misplaced or malformed TSIG record
 */
export async function verifyRequest(
  bytes: Uint8Array,
  keyring: TsigKeyring,
  now: number,
): Promise<TsigVerdict> {
  const located = locateTsig(bytes);
  if (!located) return { kind: "unsigned" };
  const { record } = located;
  const key = keyring.find(record.keyName);
  if (!key || key.algorithm !== record.algorithm) {
    return { kind: "rejected", error: TsigError.BADKEY, record };
  }
  checkMacSize(record, key);
  const expected = await keyring.hmacs.mac(
    key,
    concatBytes([signedPart(bytes, located), tsigVariables(record)]),
  );
  if (!sameMac(expected, record.mac)) return { kind: "rejected", error: TsigError.BADSIG, record, key };
  if (Math.abs(now - record.timeSigned) > record.fudge) {
    return { kind: "rejected", error: TsigError.BADTIME, record, key };
  }
  return { kind: "signed", signed: { key, record } };
}

/**
 * The TSIG for an answer to a request that failed its check (RFC 8945 section 5.3.2): unsigned
 * (no MAC) for BADKEY and BADSIG; for BADTIME signed, with the request's time and dnsd's in other data.
 */
export async function rejectionTsig(
  hmacs: Hmacs,
  answer: Uint8Array,
  rejection: { readonly error: number; readonly record: TsigRecord; readonly key?: TsigKey },
  now: number,
): Promise<Uint8Array> {
  const { error, record, key } = rejection;
  const base: TsigRecord = {
    keyName: record.keyName,
    algorithm: record.algorithm,
    timeSigned: error === TsigError.BADTIME ? record.timeSigned : now,
    fudge: record.fudge,
    mac: new Uint8Array(0),
    originalId: (answer[0]! << 8) | answer[1]!,
    error,
    other: error === TsigError.BADTIME ? u48(now) : new Uint8Array(0),
  };
  if (error !== TsigError.BADTIME || !key) return appendTsig(answer, encodeTsig(base));
  const requestMac = concatBytes([macLength(record.mac.length), record.mac]);
  const mac = await hmacs.mac(key, concatBytes([requestMac, answer, tsigVariables(base)]));
  return appendTsig(answer, encodeTsig({ ...base, mac }));
}

/**
 * The most octets a TSIG record signed with `key` takes: owner, fixed fields, algorithm name,
 * times, MAC (at most SHA-512's), original ID, error and no other data. What a signed answer or
 * transfer message must leave free for it.
 */
export function tsigRoom(key: TsigKey): number {
  return key.name.length + 2 + 10 + key.algorithm.length + 2 + 16 + 64;
}

/**
 * Signs the messages of one answer in turn: the first over the request's MAC and the TSIG
 * variables, each later one (a transfer's) over the MAC before it and the timers (RFC 8945 section 5.3.1).
 */
export class AnswerSigner {
  readonly #hmacs: Hmacs;
  readonly #key: TsigKey;
  readonly #clock: UnixClock;
  #prior: Uint8Array;
  #first = true;

  constructor(hmacs: Hmacs, signed: SignedRequest, clock: UnixClock) {
    this.#hmacs = hmacs;
    this.#key = signed.key;
    this.#clock = clock;
    this.#prior = signed.record.mac;
  }

  /** `message` (unsigned, its final ID set) with its TSIG record appended. */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const record: TsigRecord = {
      keyName: this.#key.name,
      algorithm: this.#key.algorithm,
      timeSigned: this.#clock(),
      fudge: DEFAULT_FUDGE,
      mac: new Uint8Array(0),
      originalId: (message[0]! << 8) | message[1]!,
      error: 0,
      other: new Uint8Array(0),
    };
    const covered = this.#first ? tsigVariables(record) : tsigTimers(record);
    const mac = await this.#hmacs.mac(
      this.#key,
      concatBytes([macLength(this.#prior.length), this.#prior, message, covered]),
    );
    this.#first = false;
    this.#prior = mac;
    return appendTsig(message, encodeTsig({ ...record, mac }));
  }
}

/** A signed request: its bytes and its MAC, which the answer's MAC covers. */
export interface SignedQuery {
  readonly bytes: Uint8Array;
  readonly mac: Uint8Array;
}

/** Signs a request (a SOA query, a transfer request, a NOTIFY) with `key` at `now`. */
export async function signRequest(
  hmacs: Hmacs,
  key: TsigKey,
  message: Uint8Array,
  now: number,
): Promise<SignedQuery> {
  const record: TsigRecord = {
    keyName: key.name,
    algorithm: key.algorithm,
    timeSigned: now,
    fudge: DEFAULT_FUDGE,
    mac: new Uint8Array(0),
    originalId: (message[0]! << 8) | message[1]!,
    error: 0,
    other: new Uint8Array(0),
  };
  const mac = await hmacs.mac(key, concatBytes([message, tsigVariables(record)]));
  return { bytes: appendTsig(message, encodeTsig({ ...record, mac })), mac };
}

/** An answer that failed its TSIG check, or carried a TSIG error. */
export class TsigFailure extends Error {
  override readonly name = "TsigFailure";
}

/**
 * The most messages of a transfer that may come unsigned in a row (RFC 8945 section 5.3.1: a
 * signed one at least every 100).
 */
const MAX_UNSIGNED_RUN = 99;

/**
 * Checks the answers to a signed request in turn (RFC 8945 section 5.4): the first must be signed;
 * later ones may come unsigned in runs of at most 99, each covered by the next signed one.
 */
export class AnswerVerifier {
  readonly #hmacs: Hmacs;
  readonly #key: TsigKey;
  readonly #clock: UnixClock;
  #prior: Uint8Array;
  #first = true;
  #unsigned: Uint8Array[] = [];

  constructor(hmacs: Hmacs, key: TsigKey, request: SignedQuery, clock: UnixClock) {
    this.#hmacs = hmacs;
    this.#key = key;
    this.#clock = clock;
    this.#prior = request.mac;
  }

  /**
   * Checks one message of the answer.
   * @throws {TsigFailure} when it is unsigned where it may not be, signed wrongly, or carries a TSIG error
   */
  async accept(bytes: Uint8Array): Promise<void> {
    let located;
    try {
      located = locateTsig(bytes);
    } catch (error) {
      throw new TsigFailure(`a malformed TSIG record: ${(error as Error).message}`);
    }
    if (!located) {
      if (this.#first) throw new TsigFailure("the answer is not signed");
      if (this.#unsigned.length >= MAX_UNSIGNED_RUN) throw new TsigFailure("100 unsigned messages in a row");
      this.#unsigned.push(bytes);
      return;
    }
    const { record } = located;
    if (record.error !== 0) {
      throw new TsigFailure(`the peer answered with TSIG ${tsigErrorName(record.error)}`);
    }
    if (record.keyName !== this.#key.name || record.algorithm !== this.#key.algorithm) {
      throw new TsigFailure(`the answer is signed with key "${record.keyName}", not "${this.#key.name}"`);
    }
    if (record.mac.length < Math.max(10, TSIG_ALGORITHMS[this.#key.algorithm]!.bytes / 2)) {
      throw new TsigFailure("the answer's MAC is too short");
    }
    const covered = this.#first ? tsigVariables(record) : tsigTimers(record);
    const expected = await this.#hmacs.mac(
      this.#key,
      concatBytes([
        macLength(this.#prior.length),
        this.#prior,
        ...this.#unsigned,
        signedPart(bytes, located),
        covered,
      ]),
    );
    if (!sameMac(expected, record.mac)) throw new TsigFailure("the answer's MAC is wrong (BADSIG)");
    if (Math.abs(this.#clock() - record.timeSigned) > record.fudge) {
      throw new TsigFailure("the answer was signed outside the time allowed (BADTIME)");
    }
    this.#first = false;
    this.#unsigned = [];
    this.#prior = record.mac;
  }

  /**
   * Checks the answer ended signed.
   * @throws {TsigFailure} when its last messages were unsigned
   */
  finish(): void {
    if (this.#first || this.#unsigned.length > 0) {
      throw new TsigFailure("the answer's last message is not signed");
    }
  }
}
