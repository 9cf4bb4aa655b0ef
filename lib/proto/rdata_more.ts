/**
 * Registry rows for the other types operators keep in zone files: HINFO (RFC 1035), RP and AFSDB
 * (RFC 1183), NAPTR (RFC 3403), DNAME (RFC 6672), SSHFP (RFC 4255), TLSA (RFC 6698), SMIMEA
 * (RFC 8162), OPENPGPKEY (RFC 7929), ZONEMD (RFC 8976), SPF (RFC 7208) and URI (RFC 7553). None
 * of their names is compressed on the way out (RFC 3597 section 4, RFC 6672 section 2.5); every
 * one is decompressed on the way in.
 * @module
 */
import { parseStrings, readStrings, writeCharacterString } from "./rdata_basic.ts";
import type { Codecs, Of } from "./rdata_codec.ts";
import {
  formatBase64,
  formatCharacterString,
  formatHex,
  formatName,
  type RDataText,
  unescapeText,
} from "./rdata_text.ts";
import type { Reader, Writer } from "./wire.ts";

type Association = "TLSA" | "SMIMEA";

// TLSA and SMIMEA share one layout. The `as Of<T>` casts are needed because TypeScript does not
// narrow Extract<RData, { type: T }> for a generic T.
function association<T extends Association>(type: T, code: number): Codecs<T>[T] {
  return {
    code,
    decode: (r: Reader) =>
      ({ type, usage: r.u8(), selector: r.u8(), matchingType: r.u8(), data: r.take(r.remaining) }) as Of<T>,
    encode: (w: Writer, d: Of<Association>) => {
      w.u8(d.usage);
      w.u8(d.selector);
      w.u8(d.matchingType);
      w.bytes(d.data);
    },
    parse: (t: RDataText) =>
      ({
        type,
        usage: t.u8("certificate usage"),
        selector: t.u8("selector"),
        matchingType: t.u8("matching type"),
        data: t.hexRest("certificate association data"),
      }) as Of<T>,
    format: (d: Of<Association>) => `${d.usage} ${d.selector} ${d.matchingType} ${formatHex(d.data)}`,
  } as Codecs<T>[T];
}

/** The URI target: one quoted string in text, the rest of the RDATA on the wire (no length octet). */
function uriTarget(t: RDataText): Uint8Array {
  const token = t.token("target URI");
  const octets = unescapeText(token.text);
  if (typeof octets === "string") t.fail(`bad target URI: ${octets}`, token);
  if (octets.length === 0) t.fail("the target URI is empty (RFC 7553 section 4.4)", token);
  return octets;
}

/** The rows of this file. */
export const moreCodecs: Codecs<
  | "HINFO"
  | "RP"
  | "AFSDB"
  | "NAPTR"
  | "DNAME"
  | "SSHFP"
  | "TLSA"
  | "SMIMEA"
  | "OPENPGPKEY"
  | "ZONEMD"
  | "SPF"
  | "URI"
> = {
  HINFO: {
    code: 13,
    decode: (r) => ({ type: "HINFO", cpu: r.take(r.u8()), os: r.take(r.u8()) }),
    encode: (w, d) => {
      writeCharacterString(w, d.cpu);
      writeCharacterString(w, d.os);
    },
    parse: (t) => ({ type: "HINFO", cpu: t.characterString("CPU"), os: t.characterString("OS") }),
    format: (d) => `${formatCharacterString(d.cpu)} ${formatCharacterString(d.os)}`,
  },
  RP: {
    code: 17,
    decode: (r) => ({ type: "RP", mailbox: r.name(), text: r.name() }),
    encode: (w, d) => {
      w.name(d.mailbox, false);
      w.name(d.text, false);
    },
    parse: (t) => ({ type: "RP", mailbox: t.name("mailbox"), text: t.name("TXT name") }),
    format: (d) => `${formatName(d.mailbox)} ${formatName(d.text)}`,
  },
  AFSDB: {
    code: 18,
    decode: (r) => ({ type: "AFSDB", subtype: r.u16(), host: r.name() }),
    encode: (w, d) => {
      w.u16(d.subtype);
      w.name(d.host, false);
    },
    parse: (t) => ({ type: "AFSDB", subtype: t.u16("subtype"), host: t.name("hostname") }),
    format: (d) => `${d.subtype} ${formatName(d.host)}`,
  },
  NAPTR: {
    code: 35,
    decode: (r) => ({
      type: "NAPTR",
      order: r.u16(),
      preference: r.u16(),
      flags: r.take(r.u8()),
      services: r.take(r.u8()),
      regexp: r.take(r.u8()),
      replacement: r.name(),
    }),
    encode: (w, d) => {
      w.u16(d.order);
      w.u16(d.preference);
      for (const value of [d.flags, d.services, d.regexp]) writeCharacterString(w, value);
      w.name(d.replacement, false);
    },
    parse: (t) => ({
      type: "NAPTR",
      order: t.u16("order"),
      preference: t.u16("preference"),
      flags: t.characterString("flags"),
      services: t.characterString("services"),
      regexp: t.characterString("regexp"),
      replacement: t.name("replacement"),
    }),
    format: (d) =>
      `${d.order} ${d.preference} ${formatCharacterString(d.flags)} ${formatCharacterString(d.services)} ${
        formatCharacterString(d.regexp)
      } ${formatName(d.replacement)}`,
  },
  DNAME: {
    code: 39,
    decode: (r) => ({ type: "DNAME", target: r.name() }),
    encode: (w, d) => w.name(d.target, false),
    parse: (t) => ({ type: "DNAME", target: t.name("target") }),
    format: (d) => formatName(d.target),
  },
  SSHFP: {
    code: 44,
    decode: (r) => ({
      type: "SSHFP",
      algorithm: r.u8(),
      fingerprintType: r.u8(),
      fingerprint: r.take(r.remaining),
    }),
    encode: (w, d) => {
      w.u8(d.algorithm);
      w.u8(d.fingerprintType);
      w.bytes(d.fingerprint);
    },
    parse: (t) => ({
      type: "SSHFP",
      algorithm: t.u8("algorithm"),
      fingerprintType: t.u8("fingerprint type"),
      fingerprint: t.hexRest("fingerprint"),
    }),
    format: (d) => `${d.algorithm} ${d.fingerprintType} ${formatHex(d.fingerprint)}`,
  },
  TLSA: association("TLSA", 52),
  SMIMEA: association("SMIMEA", 53),
  OPENPGPKEY: {
    code: 61,
    decode: (r) => ({ type: "OPENPGPKEY", key: r.take(r.remaining) }),
    encode: (w, d) => w.bytes(d.key),
    parse: (t) => ({ type: "OPENPGPKEY", key: t.base64Rest("public key") }),
    format: (d) => formatBase64(d.key),
  },
  ZONEMD: {
    code: 63,
    decode: (r) => ({
      type: "ZONEMD",
      serial: r.u32(),
      scheme: r.u8(),
      hashAlgorithm: r.u8(),
      digest: r.take(r.remaining),
    }),
    encode: (w, d) => {
      w.u32(d.serial);
      w.u8(d.scheme);
      w.u8(d.hashAlgorithm);
      w.bytes(d.digest);
    },
    parse: (t) => ({
      type: "ZONEMD",
      serial: t.u32("serial"),
      scheme: t.u8("scheme"),
      hashAlgorithm: t.u8("hash algorithm"),
      digest: t.hexRest("digest"),
    }),
    format: (d) => `${d.serial} ${d.scheme} ${d.hashAlgorithm} ${formatHex(d.digest)}`,
  },
  SPF: {
    code: 99,
    decode: (r) => ({ type: "SPF", strings: readStrings(r) }),
    encode: (w, d) => d.strings.forEach((value) => writeCharacterString(w, value)),
    parse: (t) => ({ type: "SPF", strings: parseStrings(t) }),
    format: (d) => d.strings.map(formatCharacterString).join(" "),
  },
  URI: {
    code: 256,
    decode: (r) => ({ type: "URI", priority: r.u16(), weight: r.u16(), target: r.take(r.remaining) }),
    encode: (w, d) => {
      w.u16(d.priority);
      w.u16(d.weight);
      w.bytes(d.target);
    },
    parse: (t) => ({
      type: "URI",
      priority: t.u16("priority"),
      weight: t.u16("weight"),
      target: uriTarget(t),
    }),
    format: (d) => `${d.priority} ${d.weight} ${formatCharacterString(d.target)}`,
  },
};
