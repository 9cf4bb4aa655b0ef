/**
 * Registry rows for the RFC 1035 types and their close kin: A, NS, CNAME, SOA, PTR, MX, TXT,
 * AAAA (RFC 3596) and SRV (RFC 2782).
 * @module
 */
import { EncodeError } from "./errors.ts";
import { formatIPv4, formatIPv6, ipv4Number, parseIPv4, parseIPv6 } from "./ip.ts";
import type { Codecs } from "./rdata_codec.ts";
import { formatCharacterString, formatName, type RDataText } from "./rdata_text.ts";
import type { Reader, Writer } from "./wire.ts";

function ipv6(text: string): Uint8Array {
  const octets = parseIPv6(text);
  if (!octets) throw new EncodeError("bad-address", `"${text}" is not an IPv6 address`);
  return octets;
}

/** Writes a character-string: a length octet, then at most 255 octets (RFC 1035 section 3.3). */
export function writeCharacterString(writer: Writer, value: Uint8Array): void {
  if (value.length > 255) throw new EncodeError("bad-value", "character-string over 255 octets");
  writer.u8(value.length);
  writer.bytes(value);
}

/** TXT's (and SPF's) RDATA: one or more character-strings to its end. */
export function readStrings(reader: Reader): Uint8Array[] {
  const strings: Uint8Array[] = [];
  while (reader.remaining > 0) strings.push(reader.take(reader.u8()));
  return strings;
}

/** TXT's (and SPF's) strings in zone-file text: one or more, quoted or not. */
export function parseStrings(text: RDataText): Uint8Array[] {
  const strings = [text.characterString("text")];
  while (!text.done) strings.push(text.characterString("text"));
  return strings;
}

function address(text: RDataText, family: "IPv4" | "IPv6"): string {
  const token = text.token(`${family} address`);
  // Strict dotted-quad text (no leading zeros) is already in its one written form: checked without
  // the typed array parseIPv4 makes, which costs a million-record zone half a second to load.
  if (family === "IPv4" && ipv4Number(token.text) >= 0) return token.text;
  const octets = family === "IPv4" ? parseIPv4(token.text) : parseIPv6(token.text);
  if (!octets) text.fail(`"${token.text}" is not an ${family} address`, token);
  return family === "IPv4" ? formatIPv4(octets) : formatIPv6(octets);
}

/** The basic rows. Names inside NS, CNAME, SOA, PTR and MX may be compressed; SRV's may not
 * (RFC 3597 section 4, RFC 2782), though every name is decompressed on the way in. */
export const basicCodecs: Codecs<"A" | "NS" | "CNAME" | "SOA" | "PTR" | "MX" | "TXT" | "AAAA" | "SRV"> = {
  A: {
    code: 1,
    decode: (r) => ({ type: "A", address: formatIPv4(r.take(4)) }),
    encode: (w, d) => {
      const value = ipv4Number(d.address);
      if (value < 0) throw new EncodeError("bad-address", `"${d.address}" is not an IPv4 address`);
      w.u32(value);
    },
    parse: (t) => ({ type: "A", address: address(t, "IPv4") }),
    format: (d) => d.address,
  },
  NS: {
    code: 2,
    decode: (r) => ({ type: "NS", host: r.name() }),
    encode: (w, d) => w.name(d.host, true),
    parse: (t) => ({ type: "NS", host: t.name("name server") }),
    format: (d) => formatName(d.host),
  },
  CNAME: {
    code: 5,
    decode: (r) => ({ type: "CNAME", target: r.name() }),
    encode: (w, d) => w.name(d.target, true),
    parse: (t) => ({ type: "CNAME", target: t.name("canonical name") }),
    format: (d) => formatName(d.target),
  },
  SOA: {
    code: 6,
    decode: (r) => ({
      type: "SOA",
      mname: r.name(),
      rname: r.name(),
      serial: r.u32(),
      refresh: r.u32(),
      retry: r.u32(),
      expire: r.u32(),
      minimum: r.u32(),
    }),
    encode: (w, d) => {
      w.name(d.mname, true);
      w.name(d.rname, true);
      for (const value of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(value);
    },
    parse: (t) => ({
      type: "SOA",
      mname: t.name("primary name server"),
      rname: t.name("responsible mailbox"),
      serial: t.u32("serial"),
      refresh: t.seconds("refresh"),
      retry: t.seconds("retry"),
      expire: t.seconds("expire"),
      minimum: t.seconds("minimum"),
    }),
    format: (d) =>
      `${formatName(d.mname)} ${
        formatName(d.rname)
      } ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`,
  },
  PTR: {
    code: 12,
    decode: (r) => ({ type: "PTR", target: r.name() }),
    encode: (w, d) => w.name(d.target, true),
    parse: (t) => ({ type: "PTR", target: t.name("pointer target") }),
    format: (d) => formatName(d.target),
  },
  MX: {
    code: 15,
    decode: (r) => ({ type: "MX", preference: r.u16(), exchange: r.name() }),
    encode: (w, d) => {
      w.u16(d.preference);
      w.name(d.exchange, true);
    },
    parse: (t) => ({ type: "MX", preference: t.u16("preference"), exchange: t.name("mail exchange") }),
    format: (d) => `${d.preference} ${formatName(d.exchange)}`,
  },
  TXT: {
    code: 16,
    decode: (r) => ({ type: "TXT", strings: readStrings(r) }),
    encode: (w, d) => d.strings.forEach((value) => writeCharacterString(w, value)),
    parse: (t) => ({ type: "TXT", strings: parseStrings(t) }),
    format: (d) => d.strings.map(formatCharacterString).join(" "),
  },
  AAAA: {
    code: 28,
    decode: (r) => ({ type: "AAAA", address: formatIPv6(r.take(16)) }),
    encode: (w, d) => w.bytes(ipv6(d.address)),
    parse: (t) => ({ type: "AAAA", address: address(t, "IPv6") }),
    format: (d) => d.address,
  },
  SRV: {
    code: 33,
    decode: (r) => ({ type: "SRV", priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() }),
    encode: (w, d) => {
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target, false);
    },
    parse: (t) => ({
      type: "SRV",
      priority: t.u16("priority"),
      weight: t.u16("weight"),
      port: t.u16("port"),
      target: t.name("target"),
    }),
    format: (d) => `${d.priority} ${d.weight} ${d.port} ${formatName(d.target)}`,
  },
};
