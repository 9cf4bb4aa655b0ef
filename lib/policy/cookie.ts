/**
 * DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018, pure: finding the
 * COOKIE option in a query's bytes, making and checking server cookies, and writing the option
 * into a response's OPT record. Version 1 cookies are 16 octets: version (1), three reserved
 * octets (0), a 32-bit timestamp (seconds since the epoch, serial arithmetic), and the first 8
 * octets of SipHash-2-4 over client cookie | version | reserved | timestamp | client address, keyed
 * with a 128-bit secret; any server sharing the secret checks another's cookies (anycast).
 * @module
 */
import { siphash24Into } from "./siphash.ts";

/** The EDNS option code of COOKIE (RFC 7873 section 4). */
export const COOKIE_OPTION = 10;
/** Rcode BADCOOKIE (23): 7 in the header, 1 in the OPT record's extended rcode octet. */
export const BADCOOKIE = 23;
/** A client cookie's length. */
export const CLIENT_COOKIE = 8;
/** The length of the server cookies dnsd makes (RFC 9018). */
export const SERVER_COOKIE = 16;
/** A server cookie older than this is not valid (RFC 9018 section 4.3: one hour). */
export const COOKIE_LIFETIME_S = 3600;
/** A server cookie from further in the future than this is not valid (RFC 9018: five minutes). */
export const COOKIE_FUTURE_S = 300;

/** Where a query's COOKIE option is: the offset of its data and its length; or none. */
export interface CookieSpan {
  readonly at: number;
  readonly length: number;
  /** Where the OPT record starts (its CLASS, the UDP size, is 3 octets further). */
  readonly opt: number;
}

/** The offset just past the name at `at` of `message`, or -1 when it runs past the end. */
function skipName(message: Uint8Array, at: number): number {
  while (at < message.length) {
    const length = message[at]!;
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2;
    if ((length & 0xc0) !== 0) return -1;
    at += 1 + length;
  }
  return -1;
}

/** The position of the OPT record in a message: its start, and the offsets of RDLENGTH and the RDATA's end. */
export interface OptSpan {
  readonly start: number;
  readonly rdlengthAt: number;
  readonly end: number;
}

/**
 * Finds the OPT record among the additional records of `message` by walking its sections; null
 * when there is none or the message cannot be walked. A message without additional records is
 * answered at once (most queries without EDNS).
 */
export function findOpt(message: Uint8Array): OptSpan | null {
  if (message.length < 12) return null;
  const additional = (message[10]! << 8) | message[11]!;
  if (additional === 0) return null;
  const questions = (message[4]! << 8) | message[5]!;
  const before = ((message[6]! << 8) | message[7]!) + ((message[8]! << 8) | message[9]!);
  let at = 12;
  for (let i = 0; i < questions; i++) {
    at = skipName(message, at);
    if (at < 0) return null;
    at += 4;
  }
  for (let i = 0; i < before + additional; i++) {
    const start = at;
    at = skipName(message, at);
    if (at < 0 || at + 10 > message.length) return null;
    const type = (message[at]! << 8) | message[at + 1]!;
    const rdlengthAt = at + 8;
    const end = rdlengthAt + 2 + ((message[rdlengthAt]! << 8) | message[rdlengthAt + 1]!);
    if (end > message.length) return null;
    if (i >= before && type === 41) return { start, rdlengthAt, end };
    at = end;
  }
  return null;
}

/** The COOKIE option of a query (the first one), or null when it has none. */
export function findCookie(query: Uint8Array): CookieSpan | null {
  const opt = findOpt(query);
  if (opt === null) return null;
  for (let at = opt.rdlengthAt + 2; at + 4 <= opt.end;) {
    const code = (query[at]! << 8) | query[at + 1]!;
    const length = (query[at + 2]! << 8) | query[at + 3]!;
    if (at + 4 + length > opt.end) return null;
    if (code === COOKIE_OPTION) return { at: at + 4, length, opt: opt.start };
    at += 4 + length;
  }
  return null;
}

/**
 * Whether a COOKIE option of `length` octets is well formed (RFC 7873 section 5.2.2): a client
 * cookie alone (8), or with a server cookie of 8 to 32 octets.
 */
export function cookieLengthValid(length: number): boolean {
  return length === CLIENT_COOKIE || (length >= CLIENT_COOKIE + 8 && length <= CLIENT_COOKIE + 32);
}

/** Room a server cookie is made in, kept by its maker so that making one allocates nothing. */
export interface CookieScratch {
  /** The SipHash input: client cookie, version, reserved, timestamp, address (up to 16 octets). */
  readonly input: Uint8Array;
  /** SipHash's state. */
  readonly state: Int32Array;
  /** A server cookie made to compare with one received. */
  readonly expected: Uint8Array;
}

/** Fresh scratch for {@link writeServerCookie}. */
export function cookieScratch(): CookieScratch {
  return { input: new Uint8Array(32), state: new Int32Array(8), expected: new Uint8Array(SERVER_COOKIE) };
}

/**
 * Writes the RFC 9018 version 1 server cookie (16 octets) for a client cookie, a client address (4
 * or 16 octets) and a time in seconds since the epoch, under `secret` (16 octets), at `out[at]`.
 */
export function writeServerCookie(
  out: Uint8Array,
  at: number,
  client: Uint8Array,
  address: Uint8Array,
  timestamp: number,
  secret: Uint8Array,
  scratch: CookieScratch,
): void {
  const input = scratch.input;
  for (let i = 0; i < CLIENT_COOKIE; i++) input[i] = client[i]!;
  input[8] = 1; // version; the three reserved octets stay 0
  input[9] = 0;
  input[10] = 0;
  input[11] = 0;
  input[12] = timestamp >>> 24;
  input[13] = timestamp >>> 16;
  input[14] = timestamp >>> 8;
  input[15] = timestamp;
  input.set(address, 16);
  for (let i = 0; i < 8; i++) out[at + i] = input[8 + i]!;
  siphash24Into(secret, input, 16 + address.length, out, at + 8, scratch.state);
}

/**
 * The RFC 9018 version 1 server cookie for a client cookie, a client address (4 or 16 octets) and
 * a time in seconds since the epoch, under `secret` (16 octets).
 */
export function serverCookie(
  client: Uint8Array,
  address: Uint8Array,
  timestamp: number,
  secret: Uint8Array,
): Uint8Array {
  const cookie = new Uint8Array(SERVER_COOKIE);
  writeServerCookie(cookie, 0, client, address, timestamp, secret, cookieScratch());
  return cookie;
}

/**
 * Whether `cookie` (the server part of a COOKIE option) is one dnsd made for this client cookie and
 * address under one of `secrets`, at most {@link COOKIE_LIFETIME_S} old and not from further in the
 * future than {@link COOKIE_FUTURE_S}, at `now` seconds since the epoch.
 */
export function serverCookieValid(
  client: Uint8Array,
  cookie: Uint8Array,
  address: Uint8Array,
  now: number,
  secrets: readonly Uint8Array[],
  scratch: CookieScratch = cookieScratch(),
): boolean {
  if (
    cookie.length !== SERVER_COOKIE || cookie[0] !== 1 || cookie[1] !== 0 || cookie[2] !== 0 ||
    cookie[3] !== 0
  ) {
    return false;
  }
  const timestamp = ((cookie[4]! << 24) | (cookie[5]! << 16) | (cookie[6]! << 8) | cookie[7]!) >>> 0;
  const age = ((now >>> 0) - timestamp) | 0; // serial arithmetic (RFC 1982): the difference as int32
  if (age > COOKIE_LIFETIME_S || age < -COOKIE_FUTURE_S) return false;
  const expected = scratch.expected;
  for (const secret of secrets) {
    writeServerCookie(expected, 0, client, address, timestamp, secret, scratch);
    let same = 0;
    for (let i = 8; i < SERVER_COOKIE; i++) same |= expected[i]! ^ cookie[i]!;
    if (same === 0) return true;
  }
  return false;
}

/** The COOKIE option (code, length, client cookie, server cookie) as it goes into an OPT record. */
export function cookieOption(client: Uint8Array, server: Uint8Array): Uint8Array {
  const option = new Uint8Array(4 + CLIENT_COOKIE + server.length);
  option[1] = COOKIE_OPTION;
  option[3] = CLIENT_COOKIE + server.length;
  option.set(client.subarray(0, CLIENT_COOKIE), 4);
  option.set(server, 4 + CLIENT_COOKIE);
  return option;
}

/** The OPT record dnsd adds where a response has none: root, OPT, 1232 octets, no flags. */
const BARE_OPT = [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0];

/**
 * `response` with `option` added to its OPT record (an OPT record is added when it has none).
 * `extendedRcode`, when given, is written as the OPT record's extended rcode octet.
 */
export function withOption(response: Uint8Array, option: Uint8Array, extendedRcode?: number): Uint8Array {
  const opt = findOpt(response);
  if (opt === null) {
    const out = new Uint8Array(response.length + BARE_OPT.length + 2 + option.length);
    out.set(response);
    out.set(BARE_OPT, response.length);
    const rdlengthAt = response.length + BARE_OPT.length;
    out[rdlengthAt] = option.length >> 8;
    out[rdlengthAt + 1] = option.length & 0xff;
    out.set(option, rdlengthAt + 2);
    const additional = ((response[10]! << 8) | response[11]!) + 1;
    out[10] = additional >> 8;
    out[11] = additional & 0xff;
    if (extendedRcode !== undefined) out[response.length + 5] = extendedRcode;
    return out;
  }
  // A record after the OPT is a TSIG (RFC 8945: always last) whose MAC covers these bytes: a
  // signed answer goes out as signed, without a server cookie (the signature authenticates it).
  if (opt.end !== response.length) return response;
  const out = new Uint8Array(response.length + option.length);
  out.set(response.subarray(0, opt.end));
  out.set(option, opt.end);
  out.set(response.subarray(opt.end), opt.end + option.length);
  const rdlength = opt.end - opt.rdlengthAt - 2 + option.length;
  out[opt.rdlengthAt] = rdlength >> 8;
  out[opt.rdlengthAt + 1] = rdlength & 0xff;
  if (extendedRcode !== undefined) out[opt.rdlengthAt - 4] = extendedRcode;
  return out;
}
