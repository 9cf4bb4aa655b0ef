/**
 * The short form of a zone-file line that large zones are mostly made of: an owner, an optional
 * TTL in seconds and class IN (either order), then A or AAAA and an address, alone on its line
 * (`host7 3600 IN A 192.0.2.7`). Read in one pass over the text with nothing made but the owner's
 * text, so the zone parser can hand such a record on without tokens or a record object: those
 * were most of what loading a million-record zone cost (issue 19). Any line that is not exactly
 * this (a quote, a parenthesis, an escape, a TTL with units, a leading-zero or malformed address,
 * an owner-less line) is left to the lexer (zone_lexer.ts), which reads every line the same way
 * and says what is wrong with a broken one. Pure.
 * @module
 */
import { ipv4Number, parseIPv6 } from "./ip.ts";
import { ZONE_CHARS } from "./zone_lexer.ts";

/** What {@link readAddressLine} found; one object, filled again for each line read. */
export interface AddressLine {
  /** The owner as written: no blank, quote, parenthesis, semicolon or backslash in it. */
  owner: string;
  /** The TTL written, or -1 when none was (the zone's rules then give one). */
  ttl: number;
  /** 1 (A) or 28 (AAAA). */
  type: number;
  /** The address as written (A: strict dotted quad, already its one form; AAAA: as written). */
  address: string;
  /** An A record's address as a 32-bit number. */
  ipv4: number;
  /** An AAAA record's address, 16 octets (a fresh array each); null for A. */
  ipv6: Uint8Array | null;
}

/** An empty {@link AddressLine} to fill. */
export function addressLine(): AddressLine {
  return { owner: "", ttl: -1, type: 0, address: "", ipv4: 0, ipv6: null };
}

const { SPACE, TAB, RETURN, NEWLINE, SEMICOLON, OPEN, CLOSE, QUOTE, BACKSLASH } = ZONE_CHARS;
/** RFC 2181 section 8: a TTL above this is an error, reported by the full path. */
const MAX_TTL = 0x7fffffff;

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** A character an unquoted owner may hold here: printable ASCII but the lexer's own and `\`. */
function isOwnerCode(code: number): boolean {
  return code > SPACE && code < 0x7f && code !== SEMICOLON && code !== OPEN && code !== CLOSE &&
    code !== QUOTE && code !== BACKSLASH;
}

/** Where the field starting at `pos` ends: at a blank, a `\r`, a line end or a comment. */
function fieldEnd(text: string, pos: number): number {
  let end = pos;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code === SPACE || code === TAB || code === RETURN || code === NEWLINE || code === SEMICOLON) break;
    end++;
  }
  return end;
}

function skipBlanks(text: string, pos: number): number {
  while (pos < text.length && isBlank(text.charCodeAt(pos))) pos++;
  return pos;
}

/** `text[start, end)` as a TTL of plain digits, or -1 (units, over 2^31 - 1, or not digits). */
function secondsField(text: string, start: number, end: number): number {
  if (end - start > 10) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return -1;
    value = value * 10 + code - 0x30;
  }
  return value > MAX_TTL ? -1 : value;
}

function isClassIn(text: string, start: number, end: number): boolean {
  return end - start === 2 && (text.charCodeAt(start) | 0x20) === 0x69 &&
    (text.charCodeAt(start + 1) | 0x20) === 0x6e;
}

/** 1 for A, 28 for AAAA (any case), else 0. */
function addressType(text: string, start: number, end: number): number {
  if (end - start === 1) return (text.charCodeAt(start) | 0x20) === 0x61 ? 1 : 0;
  if (end - start !== 4) return 0;
  for (let i = start; i < end; i++) if ((text.charCodeAt(i) | 0x20) !== 0x61) return 0;
  return 28;
}

/**
 * Reads the line starting at `pos` (the start of a line, outside parentheses) into `into` when it
 * is the short form of an A or AAAA record (see the module).
 * @returns where the next line starts (the text's length at its end), or -1 when the line is not
 * of that form; `into` is then not to be read
 */
export function readAddressLine(text: string, pos: number, into: AddressLine): number {
  let end = pos;
  while (end < text.length && isOwnerCode(text.charCodeAt(end))) end++;
  // "$" starts a directive; an owner must end at a blank.
  if (end === pos || text.charCodeAt(pos) === 0x24 || !isBlank(text.charCodeAt(end))) return -1;
  const ownerStart = pos;
  const ownerEnd = end;
  let ttl = -1;
  let type = 0;
  let seenClass = false;
  // RFC 1035 section 5.1: TTL and class, each optional, in either order, before the type.
  for (let field = 0; field < 3; field++) {
    pos = skipBlanks(text, end);
    end = fieldEnd(text, pos);
    if (end === pos) return -1;
    if (field < 2 && !seenClass && isClassIn(text, pos, end)) {
      seenClass = true;
      continue;
    }
    const code = text.charCodeAt(pos);
    if (field < 2 && ttl < 0 && code >= 0x30 && code <= 0x39) {
      ttl = secondsField(text, pos, end);
      if (ttl < 0) return -1;
      continue;
    }
    type = addressType(text, pos, end);
    break;
  }
  if (type === 0 || !isBlank(text.charCodeAt(end))) return -1;
  const addressStart = skipBlanks(text, end);
  const addressEnd = fieldEnd(text, addressStart);
  if (addressEnd === addressStart) return -1;
  let next = skipBlanks(text, addressEnd);
  while (next < text.length && text.charCodeAt(next) === RETURN) next = skipBlanks(text, next + 1);
  if (next < text.length && text.charCodeAt(next) === SEMICOLON) {
    while (next < text.length && text.charCodeAt(next) !== NEWLINE) next++;
  }
  if (next < text.length && text.charCodeAt(next) !== NEWLINE) return -1;
  if (type === 1) {
    const ipv4 = ipv4Number(text, addressStart, addressEnd);
    if (ipv4 < 0) return -1;
    into.ipv4 = ipv4;
    into.ipv6 = null;
  } else {
    const ipv6 = parseIPv6(text.slice(addressStart, addressEnd));
    if (!ipv6) return -1;
    into.ipv6 = ipv6;
  }
  into.owner = text.slice(ownerStart, ownerEnd);
  into.ttl = ttl;
  into.type = type;
  into.address = text.slice(addressStart, addressEnd);
  return next < text.length ? next + 1 : text.length;
}
