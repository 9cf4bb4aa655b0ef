/**
 * The SvcParams of SVCB and HTTPS (RFC 9460 section 2.1 and Appendix A), both ways. On the wire
 * they are kept in the order they came, so any RDATA round-trips; text is parsed into ascending
 * keys. The generic `keyNNNNN=value` form carries wire octets for any key, known or not, so a
 * value that is malformed for its key is written in that form.
 * @module
 */
import { EncodeError } from "./errors.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
import type { Of } from "./rdata_codec.ts";
import { decodeBase64, formatBase64, type RDataText, unescapeText } from "./rdata_text.ts";
import type { Reader, Writer } from "./wire.ts";
import type { Token } from "./zone_lexer.ts";

/** One SvcParam: a key (IANA "Service Parameter Keys") and its wire value. */
export type SvcParam = Of<"SVCB">["params"][number];

/** Key names by number (RFC 9460 section 14.3.2); any key can also be written `keyNNNNN`. */
const KEY_NAMES = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"];
const MANDATORY = 0;
const NO_DEFAULT_ALPN = 2;
const RESERVED_KEY = 65535; // "Invalid key" (RFC 9460 section 14.3.2)

/** Reads SvcParams up to the end of the RDATA. */
export function decodeSvcParams(reader: Reader): SvcParam[] {
  const params: SvcParam[] = [];
  while (reader.remaining > 0) {
    const key = reader.u16();
    params.push({ key, value: reader.take(reader.u16()) });
  }
  return params;
}

/** Writes SvcParams in the order given (parsing has already sorted and checked them). */
export function encodeSvcParams(writer: Writer, params: readonly SvcParam[]): void {
  for (const { key, value } of params) {
    if (value.length > 0xffff) throw new EncodeError("bad-value", `SvcParam key${key} over 65535 octets`);
    writer.u16(key);
    writer.u16(value.length);
    writer.bytes(value);
  }
}

// ---- Presentation form ----

/** The octet an unescaped presentation character may stand for itself, without quotes. */
function isPlain(octet: number): boolean {
  return octet > 0x20 && octet < 0x7f && octet !== 0x22 && octet !== 0x28 && octet !== 0x29 &&
    octet !== 0x3b && octet !== 0x5c;
}

/** Escapes octets so they form one unquoted zone-file token (`\\`, `\"`, `\DDD`). */
function escapeValue(octets: Uint8Array): string {
  let text = "";
  for (const octet of octets) {
    if (isPlain(octet)) text += String.fromCharCode(octet);
    else if (octet > 0x20 && octet < 0x7f) text += "\\" + String.fromCharCode(octet);
    else text += "\\" + String(octet).padStart(3, "0");
  }
  return text;
}

const ascii = (octets: Uint8Array): string => String.fromCharCode(...octets);
const octetsOf = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));

/** Splits a value list at commas; `\,` and `\\` stand for themselves (RFC 9460 Appendix A.1). */
function splitList(octets: Uint8Array): Uint8Array[] | string {
  const items: Uint8Array[] = [];
  let item: number[] = [];
  for (let i = 0; i <= octets.length; i++) {
    const octet = octets[i];
    if (octet === undefined || octet === 0x2c) {
      if (item.length === 0) return "an empty item in a comma-separated list";
      items.push(Uint8Array.from(item));
      item = [];
    } else if (octet === 0x5c) {
      const next = octets[++i];
      if (next !== 0x2c && next !== 0x5c) return "only \\, and \\\\ may be escaped inside a list";
      item.push(next);
    } else {
      item.push(octet);
    }
  }
  return items;
}

/** Joins list items, escaping the commas and backslashes inside them. */
function joinList(items: readonly Uint8Array[]): Uint8Array {
  const octets: number[] = [];
  items.forEach((item, i) => {
    if (i > 0) octets.push(0x2c);
    for (const octet of item) {
      if (octet === 0x2c || octet === 0x5c) octets.push(0x5c);
      octets.push(octet);
    }
  });
  return Uint8Array.from(octets);
}

/** The key number for a name (`alpn`, `key1234`), or null. */
function keyCode(name: string): number | null {
  const known = KEY_NAMES.indexOf(name);
  if (known >= 0) return known;
  const generic = /^key([0-9]{1,5})$/.exec(name);
  return generic && Number(generic[1]) <= 0xffff ? Number(generic[1]) : null;
}

const keyName = (key: number): string => KEY_NAMES[key] ?? `key${key}`;

/** Splits fixed-size records (addresses) out of a value, or null if it is not a whole number of them. */
function chunks(value: Uint8Array, size: number): Uint8Array[] | null {
  if (value.length === 0 || value.length % size !== 0) return null;
  const out: Uint8Array[] = [];
  for (let i = 0; i < value.length; i += size) out.push(value.subarray(i, i + size));
  return out;
}

/** Per-key value syntax: `parse` gets the unescaped octets and returns the wire value or why not. */
interface ValueSyntax {
  parse(octets: Uint8Array): Uint8Array | string;
  /** The presentation value (before zone-file escaping), or null when malformed for the key. */
  format(value: Uint8Array): Uint8Array | null;
}

function addressList(size: 4 | 16): ValueSyntax {
  const parse = size === 4 ? parseIPv4 : parseIPv6;
  const format = size === 4 ? formatIPv4 : formatIPv6;
  const family = size === 4 ? "IPv4" : "IPv6";
  return {
    parse(octets) {
      const items = splitList(octets);
      if (typeof items === "string") return items;
      const out = new Uint8Array(items.length * size);
      for (const [i, item] of items.entries()) {
        const address = parse(ascii(item));
        if (!address) return `"${ascii(item)}" is not an ${family} address`;
        out.set(address, i * size);
      }
      return out;
    },
    format: (value) => {
      const addresses = chunks(value, size);
      return addresses && joinList(addresses.map((address) => octetsOf(format(address))));
    },
  };
}

const SYNTAX: readonly ValueSyntax[] = [
  { // mandatory: key names, written as ascending 16-bit keys (RFC 9460 section 8)
    parse(octets) {
      const items = splitList(octets);
      if (typeof items === "string") return items;
      const keys: number[] = [];
      for (const item of items) {
        const key = keyCode(ascii(item));
        if (key === null) return `"${ascii(item)}" is not a SvcParamKey`;
        if (key === MANDATORY) return "mandatory cannot list itself";
        if (keys.includes(key)) return `mandatory lists ${ascii(item)} twice`;
        keys.push(key);
      }
      const out = new Uint8Array(keys.length * 2);
      keys.sort((a, b) => a - b).forEach((key, i) => out.set([key >> 8, key & 0xff], i * 2));
      return out;
    },
    format: (value) => {
      const keys = chunks(value, 2);
      return keys && joinList(keys.map((key) => octetsOf(keyName((key[0]! << 8) | key[1]!))));
    },
  },
  { // alpn: protocol ids, each behind a length octet
    parse(octets) {
      const items = splitList(octets);
      if (typeof items === "string") return items;
      if (items.some((item) => item.length > 255)) return "an ALPN id over 255 octets";
      return Uint8Array.from(items.flatMap((item) => [item.length, ...item]));
    },
    format: (value) => {
      const ids: Uint8Array[] = [];
      for (let i = 0; i < value.length; i += 1 + value[i]!) {
        if (value[i] === 0 || i + 1 + value[i]! > value.length) return null;
        ids.push(value.subarray(i + 1, i + 1 + value[i]!));
      }
      return ids.length > 0 ? joinList(ids) : null;
    },
  },
  { // no-default-alpn: never a value
    parse: (octets) => octets.length === 0 ? octets : "no-default-alpn takes no value",
    format: (value) => value.length === 0 ? value : null,
  },
  { // port
    parse(octets) {
      const text = ascii(octets);
      if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 0xffff) return `bad port "${text}"`;
      return Uint8Array.of(Number(text) >> 8, Number(text) & 0xff);
    },
    format: (value) => value.length === 2 ? octetsOf(String((value[0]! << 8) | value[1]!)) : null,
  },
  addressList(4), // ipv4hint
  { // ech: an ECHConfigList in base64
    parse: (octets) => decodeBase64(ascii(octets)) ?? "ech is not base64",
    format: (value) => value.length > 0 ? octetsOf(formatBase64(value)) : null,
  },
  addressList(16), // ipv6hint
];

/** Writes SvcParams in order, separated by spaces; a malformed known value falls back to `keyNNNNN`. */
export function formatSvcParams(params: readonly SvcParam[]): string {
  return params.map(({ key, value }) => {
    const known = SYNTAX[key]?.format(value);
    const [name, text] = known ? [keyName(key), known] : [`key${key}`, value];
    return text.length === 0 ? name : `${name}=${escapeValue(text)}`;
  }).join(" ");
}

/** Reads `key`, `key=value` or `key="value"` (the quoted part is the lexer's next token). */
function readParam(text: RDataText): { key: number; value: Uint8Array; token: Token } {
  const token = text.token("SvcParam");
  const equals = token.text.indexOf("=");
  const name = equals < 0 ? token.text : token.text.slice(0, equals);
  const key = token.quoted ? null : keyCode(name);
  if (key === null) text.fail(`"${name}" is not a SvcParamKey`, token);
  if (key === RESERVED_KEY) text.fail("key65535 is reserved (RFC 9460 section 14.3.2)", token);
  let raw = equals < 0 ? "" : token.text.slice(equals + 1);
  const next = text.peek();
  const adjacent = next?.quoted && next.line === token.line &&
    next.column === token.column + token.text.length;
  if (equals === token.text.length - 1 && adjacent) raw = text.token("SvcParam value").text;
  const octets = unescapeText(raw);
  if (typeof octets === "string") text.fail(`bad ${name} value: ${octets}`, token);
  // RFC 9460 section 2.1: a value in the keyNNNNN form is its wire form, whatever the key.
  const syntax = KEY_NAMES.includes(name) ? SYNTAX[key] : undefined;
  if (!syntax) return { key, value: octets, token };
  if (octets.length === 0 && key !== NO_DEFAULT_ALPN) text.fail(`${name} needs a value`, token);
  const value = syntax.parse(octets);
  if (typeof value === "string") text.fail(`bad ${name} value: ${value}`, token);
  return { key, value, token };
}

/**
 * Reads the remaining tokens as SvcParams, sorted by key (RFC 9460 section 2.2), rejecting
 * repeated keys and `mandatory` keys that are absent (section 8).
 */
export function parseSvcParams(text: RDataText): SvcParam[] {
  const read: { key: number; value: Uint8Array; token: Token }[] = [];
  while (!text.done) {
    const param = readParam(text);
    if (read.some(({ key }) => key === param.key)) {
      text.fail(`${keyName(param.key)} appears twice (RFC 9460 section 2.2)`, param.token);
    }
    read.push(param);
  }
  const mandatory = read.find(({ key }) => key === MANDATORY);
  for (let i = 0; mandatory && i < mandatory.value.length; i += 2) {
    const key = (mandatory.value[i]! << 8) | mandatory.value[i + 1]!;
    if (!read.some((param) => param.key === key)) {
      text.fail(`mandatory lists ${keyName(key)}, which is absent`, mandatory.token);
    }
  }
  return read.sort((a, b) => a.key - b.key).map(({ key, value }) => ({ key, value }));
}
