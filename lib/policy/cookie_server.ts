/**
 * Server cookies as a server applies them (RFC 7873 section 5.2, RFC 9018): what a query's COOKIE
 * option says, the answer dnsd sends at once for some (FORMERR for a malformed option; with
 * `--require-cookies`, over UDP, BADCOOKIE for a client cookie without a valid server cookie and a
 * truncated answer for a query with no cookie at all), and every other answer to a query with a
 * cookie stamped with a fresh server cookie. A query without a COOKIE option costs one look at its
 * additional count, or a short walk to its OPT record.
 * @module
 */
import { parseIPv4, parseIPv6 } from "../proto/mod.ts";
import { SocketPeer } from "../net/mod.ts";
import {
  BADCOOKIE,
  CLIENT_COOKIE,
  COOKIE_OPTION,
  cookieLengthValid,
  cookieScratch,
  findCookie,
  SERVER_COOKIE,
  serverCookieValid,
  withOption,
  writeServerCookie,
} from "./cookie.ts";
import { slipResponse } from "./rrl.ts";

/** What a query's COOKIE option says. */
export const CookieStatus = {
  /** A client cookie with a server cookie dnsd made, still fresh: the client is who it says. */
  VALID: 1,
  /** A client cookie alone, or with a server cookie that is not dnsd's, or is stale. */
  INVALID: 2,
  /** An option of the wrong length (RFC 7873 section 5.2.2): FORMERR. */
  MALFORMED: 3,
} as const;

/** One of {@link CookieStatus}. */
export type CookieStatus = typeof CookieStatus[keyof typeof CookieStatus];

/** A query's cookie, as {@link ServerCookies.inspect} found it. */
export interface CookieCheck {
  readonly status: CookieStatus;
  /** The client cookie (a copy: the query's bytes may be reused). */
  readonly client: Uint8Array;
  /** The client's address, 4 or 16 octets, that server cookies are bound to. */
  readonly address: Uint8Array;
  /** The largest UDP answer the client takes: its EDNS size, 512 to 1232. */
  readonly udpLimit: number;
}

/** Settings of {@link ServerCookies}. */
export interface CookieOptions {
  /**
   * 128-bit secrets: the first makes server cookies, every one is accepted (so a new secret can be
   * rolled out with the old one still listed). None: dnsd draws one at start and a new one each day,
   * accepting the one before it as well.
   */
  readonly secrets: readonly Uint8Array[];
  /** `--require-cookies`: over UDP, BADCOOKIE or TC for queries without a valid server cookie. */
  readonly require: boolean;
}

/** How often a secret dnsd drew itself is replaced. */
export const SECRET_ROTATION_MS = 24 * 3600 * 1000;

/** The client's address as octets (4 or 16); null for an address that is not IP (none on UDP or TCP). */
export function addressOctets(client: Deno.NetAddr): Uint8Array | null {
  if (client instanceof SocketPeer) {
    const raw = SocketPeer.raw(client);
    // A copy: a received peer's memory is reused by the next batch, and a check outlives it.
    return raw.length === 16 ? raw.slice(4, 8) : raw.slice(8, 24);
  }
  return client.hostname.includes(":") ? parseIPv6(client.hostname) : parseIPv4(client.hostname);
}

/**
 * Checks and answers DNS cookies for a server. Its clock is wall time (milliseconds since the
 * epoch): cookies carry a timestamp other servers sharing the secret must read the same way.
 */
export class ServerCookies {
  readonly #require: boolean;
  readonly #clock: () => number;
  readonly #random: (octets: Uint8Array) => void;
  readonly #fixed: boolean;
  #secrets: readonly Uint8Array[];
  #drawnAt: number;
  /** Where server cookies are made and checked: nothing is allocated for them per query. */
  readonly #scratch = cookieScratch();
  readonly #optionBuffer = new Uint8Array(4 + CLIENT_COOKIE + SERVER_COOKIE);

  /**
   * @param options the secrets and whether cookies are required
   * @param clock milliseconds since the epoch
   * @param random fills an array with random octets (for the secrets dnsd draws itself)
   * @throws {RangeError} for a secret that is not 16 octets
   */
  constructor(
    options: CookieOptions,
    clock: () => number = Date.now,
    random: (octets: Uint8Array) => void = (octets) => crypto.getRandomValues(octets),
  ) {
    for (const secret of options.secrets) {
      if (secret.length !== 16) throw new RangeError(`a cookie secret is 16 octets, not ${secret.length}`);
    }
    this.#require = options.require;
    this.#clock = clock;
    this.#random = random;
    this.#fixed = options.secrets.length > 0;
    this.#drawnAt = clock();
    this.#secrets = this.#fixed ? [...options.secrets] : [this.#draw()];
  }

  /** Whether `--require-cookies` is on. */
  get required(): boolean {
    return this.#require;
  }

  #draw(): Uint8Array {
    const secret = new Uint8Array(16);
    this.#random(secret);
    return secret;
  }

  /** The secrets in force, the one that makes cookies first; a drawn one is replaced once a day. */
  #current(now: number): readonly Uint8Array[] {
    if (!this.#fixed && now - this.#drawnAt >= SECRET_ROTATION_MS) {
      this.#secrets = [this.#draw(), this.#secrets[0]!];
      this.#drawnAt = now;
    }
    return this.#secrets;
  }

  /** What the COOKIE option of `query` from `client` says; null when there is none. */
  inspect(query: Uint8Array, client: Deno.NetAddr): CookieCheck | null {
    const span = findCookie(query);
    if (span === null) return null;
    const address = addressOctets(client) ?? new Uint8Array(4);
    const udpLimit = Math.min(1232, Math.max(512, (query[span.opt + 3]! << 8) | query[span.opt + 4]!));
    if (!cookieLengthValid(span.length)) {
      return { status: CookieStatus.MALFORMED, client: new Uint8Array(CLIENT_COOKIE), address, udpLimit };
    }
    const cookie = query.slice(span.at, span.at + span.length);
    const own = cookie.subarray(0, CLIENT_COOKIE);
    if (span.length === CLIENT_COOKIE) {
      return { status: CookieStatus.INVALID, client: own, address, udpLimit };
    }
    const now = this.#clock();
    const valid = serverCookieValid(
      own,
      cookie.subarray(CLIENT_COOKIE),
      address,
      now / 1000,
      this.#current(now),
      this.#scratch,
    );
    return { status: valid ? CookieStatus.VALID : CookieStatus.INVALID, client: own, address, udpLimit };
  }

  /**
   * The answer to send at once instead of answering the query, or null to answer it: FORMERR for a
   * malformed option; with cookies required, over UDP, BADCOOKIE (with a fresh cookie) for a query
   * whose server cookie is missing or not valid, and TC=1 with the question for one with no cookie.
   */
  early(query: Uint8Array, check: CookieCheck | null, udp: boolean): Uint8Array | null {
    // A response (QR=1) or a message too short to be one gets no answer at all, cookie or not:
    // answering it could be used to reflect, or to make two servers answer each other forever.
    if (query.length < 12 || (query[2]! & 0x80) !== 0) return null;
    // The query had an OPT record (its COOKIE is in it), so the FORMERR has one (RFC 6891 section 7).
    if (check?.status === CookieStatus.MALFORMED) return withOption(headerReply(query, 1, false), NO_OPTION);
    if (!this.#require || !udp || check?.status === CookieStatus.VALID) return null;
    if (check === null) return headerReply(query, 0, true);
    return withOption(headerReply(query, BADCOOKIE & 0xf, false), this.#option(check), BADCOOKIE >> 4);
  }

  /**
   * `response` with the COOKIE option of `check`'s client cookie and a fresh server cookie. Over UDP
   * an answer the option would push past the client's size goes truncated (TC=1, the question and
   * the cookie), as any answer too large for it.
   */
  stamp(response: Uint8Array, check: CookieCheck, udp = false): Uint8Array {
    if (response.length < 12) return response;
    const option = this.#option(check);
    if (udp && response.length + option.length > check.udpLimit) {
      return withOption(slipResponse(response), option);
    }
    return withOption(response, option);
  }

  /** The COOKIE option for `check`'s client, in this maker's own buffer (withOption copies it out). */
  #option(check: CookieCheck): Uint8Array {
    const now = this.#clock();
    const option = this.#optionBuffer;
    option[0] = 0;
    option[1] = COOKIE_OPTION;
    option[2] = 0;
    option[3] = CLIENT_COOKIE + SERVER_COOKIE;
    option.set(check.client.subarray(0, CLIENT_COOKIE), 4);
    const secret = this.#current(now)[0]!;
    writeServerCookie(
      option,
      4 + CLIENT_COOKIE,
      check.client,
      check.address,
      Math.floor(now / 1000),
      secret,
      this.#scratch,
    );
    return option;
  }
}

/**
 * A reply made from the query's own header and question: QR set, OPCODE, RD and CD kept, `rcode`,
 * TC when `truncated`, no records. A query whose question cannot be walked keeps only its header.
 */
/** No option: {@link withOption} with it adds an empty OPT record. */
const NO_OPTION = new Uint8Array(0);

function headerReply(query: Uint8Array, rcode: number, truncated: boolean): Uint8Array {
  let end = 12;
  const questions = query.length >= 12 ? (query[4]! << 8) | query[5]! : 0;
  if (questions === 1) {
    let at = 12;
    while (at < query.length && query[at] !== 0 && (query[at]! & 0xc0) === 0) at += 1 + query[at]!;
    if (at < query.length && query[at] === 0 && at + 5 <= query.length) end = at + 5;
  }
  const reply = new Uint8Array(end);
  reply.set(query.subarray(0, Math.min(end, query.length)));
  // QR, the OPCODE and RD from the query, TC; RA; CD from the query; the rcode.
  reply[2] = 0x80 | (query[2]! & 0x79) | (truncated ? 0x02 : 0);
  reply[3] = 0x80 | (query[3]! & 0x10) | (rcode & 0x0f);
  reply[4] = 0;
  reply[5] = end > 12 ? 1 : 0;
  reply.fill(0, 6, 12);
  return reply;
}
