/**
 * Presentation (zone-file) text of RDATA, both ways: a cursor that reads typed fields from the
 * tokens of one record, and formatters that write them back (RFC 1035 section 5.1).
 * @module
 */
import { EncodeError, ParseError, type TextLocation } from "./errors.ts";
import { withoutRootDot } from "./name.ts";
import { checkName, normalizeEscapes } from "./wire.ts";
import type { Token } from "./zone_lexer.ts";

/**
 * Makes a name absolute: `@` is the origin, a name without a final dot is relative to it. Escapes
 * are written as a name off the wire has them (`\*` as `*`: see normalizeEscapes).
 */
export function absoluteName(text: string, origin: string): string {
  if (text === "@") return origin;
  const written = normalizeEscapes(text);
  const bare = withoutRootDot(written);
  if (bare !== written || written === ".") return bare; // it had its root dot: already absolute
  return origin === "" ? written : `${written}.${origin}`;
}

/** Reads the octets of a character-string or other escaped text: `\X` is X, `\DDD` is one octet. */
export function unescapeText(text: string): Uint8Array | string {
  const octets: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code === 0x5c) {
      const digits = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits)) {
        code = Number(digits);
        if (code > 255) return `bad escape "\\${digits}"`;
        i += 3;
      } else if (i + 1 < text.length) {
        code = text.charCodeAt(++i);
      } else {
        return "a backslash at the end";
      }
    }
    if (code > 0x7f && text.charCodeAt(i) === code) {
      // Not ASCII: take its UTF-8 octets, as a TXT written in UTF-8 means them.
      const char = String.fromCodePoint(text.codePointAt(i)!);
      octets.push(...new TextEncoder().encode(char));
      i += char.length - 1;
      continue;
    }
    octets.push(code);
  }
  return Uint8Array.from(octets);
}

/** A cursor over the RDATA tokens of one record. Every failure is a {@link ParseError} at a token. */
export class RDataText {
  readonly #tokens: readonly Token[];
  #index: number;
  readonly #origin: string | undefined;
  readonly #file: string;
  readonly #end: TextLocation;

  /**
   * Makes a cursor at the first RDATA token of an entry.
   * @param tokens the entry's tokens
   * @param start the index of the first RDATA token
   * @param context the origin for relative names (undefined: there is none, so every name must be
   *   absolute), the file for errors, and where the entry ends
   */
  constructor(
    tokens: readonly Token[],
    start: number,
    context: { readonly origin: string | undefined; readonly file: string; readonly end: TextLocation },
  ) {
    this.#tokens = tokens;
    this.#index = start;
    this.#origin = context.origin;
    this.#file = context.file;
    this.#end = context.end;
  }

  /** Whether every token has been read. */
  get done(): boolean {
    return this.#index >= this.#tokens.length;
  }

  /** The origin relative names are completed with; undefined when there is none. */
  get origin(): string | undefined {
    return this.#origin;
  }

  /** Throws a ParseError at `token` (or at the end of the entry). */
  fail(reason: string, token?: Token): never {
    const at = token ? { file: this.#file, line: token.line, column: token.column } : this.#end;
    throw new ParseError(at, reason);
  }

  /** The next token, which must exist. */
  token(what: string): Token {
    const token = this.#tokens[this.#index];
    if (!token) this.fail(`missing ${what}`);
    this.#index++;
    return token;
  }

  /** The next token without consuming it, or undefined at the end. */
  peek(): Token | undefined {
    return this.#tokens[this.#index];
  }

  /** A domain name, made absolute against the origin. */
  name(what: string): string {
    const token = this.token(what);
    if (this.#origin === undefined && (token.text === "@" || withoutRootDot(token.text) === token.text)) {
      this.fail(
        `relative ${what} "${token.text}" with no origin: add $ORIGIN or use --zone ORIGIN=FILE`,
        token,
      );
    }
    const name = absoluteName(token.text, this.#origin ?? "");
    try {
      checkName(name);
    } catch (error) {
      if (error instanceof EncodeError) this.fail(`bad ${what} "${token.text}": ${error.message}`, token);
      throw error;
    }
    return name;
  }

  /** An unsigned decimal integer of at most `max`. */
  integer(what: string, max: number): number {
    const token = this.token(what);
    if (!/^[0-9]+$/.test(token.text) || Number(token.text) > max) {
      this.fail(`bad ${what} "${token.text}": expected a whole number from 0 to ${max}`, token);
    }
    return Number(token.text);
  }

  /** An 8-bit unsigned integer. */
  u8(what: string): number {
    return this.integer(what, 0xff);
  }

  /** A 16-bit unsigned integer. */
  u16(what: string): number {
    return this.integer(what, 0xffff);
  }

  /** A 32-bit unsigned integer. */
  u32(what: string): number {
    return this.integer(what, 0xffffffff);
  }

  /** A time in seconds: a number, or BIND's units (`1w2d3h4m5s`), as in SOA timers. */
  seconds(what: string): number {
    const token = this.token(what);
    const seconds = parseDuration(token.text);
    if (seconds === null) {
      this.fail(`bad ${what} "${token.text}": expected seconds or units like 1h30m`, token);
    }
    return seconds;
  }

  /** One character-string (quoted or not), at most 255 octets (RFC 1035 section 3.3). */
  characterString(what: string): Uint8Array {
    const token = this.token(what);
    const octets = unescapeText(token.text);
    if (typeof octets === "string") this.fail(`bad ${what}: ${octets}`, token);
    if (octets.length > 255) this.fail(`${what} longer than 255 octets`, token);
    return octets;
  }

  /** All the remaining tokens' text (for base64 and hex fields, which may hold spaces). */
  rest(what: string): { text: string; token: Token } {
    const token = this.token(what);
    let text = token.text;
    while (!this.done) text += this.token(what).text;
    return { text, token };
  }

  /** Base64 of the remaining tokens joined (RFC 4648). */
  base64Rest(what: string): Uint8Array {
    const { text, token } = this.rest(what);
    const octets = decodeBase64(text);
    if (!octets) this.fail(`bad ${what}: not base64`, token);
    return octets;
  }

  /** Hex of the remaining tokens joined; `-` alone stands for none (RFC 5155 salt style is separate). */
  hexRest(what: string): Uint8Array {
    const { text, token } = this.rest(what);
    const octets = decodeHex(text);
    if (!octets) this.fail(`bad ${what}: not hex`, token);
    return octets;
  }

  /** Requires that every token was read. */
  end(): void {
    const token = this.peek();
    if (token) this.fail(`unexpected "${token.text}" after the record data`, token);
  }
}

const UNITS: Readonly<Record<string, number>> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/** Reads `3600` or `1h` or `1w2d3h4m5s` (case-insensitive) as seconds, up to 2^32-1; else null. */
export function parseDuration(text: string): number | null {
  // Asked of the type field of every record without a TTL: a digit first, or it is none.
  const first = text.charCodeAt(0);
  if (!(first >= 0x30 && first <= 0x39)) return null;
  if (/^[0-9]+$/.test(text)) return Number(text) <= 0xffffffff ? Number(text) : null;
  if (!/^([0-9]+[wdhmsWDHMS])+$/.test(text)) return null;
  let total = 0;
  for (const [, count, unit] of text.matchAll(/([0-9]+)([wdhmsWDHMS])/g)) {
    total += Number(count) * UNITS[unit!.toLowerCase()]!;
  }
  return total <= 0xffffffff ? total : null;
}

/** Decodes hex text (even length), or null. */
export function decodeHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const octets = new Uint8Array(text.length / 2);
  for (let i = 0; i < octets.length; i++) octets[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return octets;
}

/** Formats octets as upper-case hex (the zone-file convention for DS digests and `\#` data). */
export function formatHex(octets: Uint8Array): string {
  return Array.from(octets, (octet) => octet.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** Decodes base64 text (RFC 4648, with padding), or null. */
export function decodeBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Formats octets as base64 (RFC 4648). */
export function formatBase64(octets: Uint8Array): string {
  let binary = "";
  for (const octet of octets) binary += String.fromCharCode(octet);
  return btoa(binary);
}

/** Formats a name absolutely, with its root dot (`example.com.`; the root is `.`). */
export function formatName(name: string): string {
  return `${name}.`;
}

/** Formats a character-string in quotes, escaping `"` and `\` and writing other non-printables as `\DDD`. */
export function formatCharacterString(octets: Uint8Array): string {
  let text = '"';
  for (const octet of octets) {
    if (octet === 0x22 || octet === 0x5c) text += "\\" + String.fromCharCode(octet);
    else if (octet < 0x20 || octet > 0x7e) text += "\\" + String(octet).padStart(3, "0");
    else text += String.fromCharCode(octet);
  }
  return text + '"';
}
