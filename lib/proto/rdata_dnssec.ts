/**
 * Registry rows for the DNSSEC types: DS, DNSKEY, RRSIG and NSEC (RFC 4034), NSEC3 and
 * NSEC3PARAM (RFC 5155). Names inside them are never compressed (RFC 4034 sections 3.1.7 and
 * 4.1.1, RFC 3597 section 4), though they are decompressed on the way in.
 * @module
 */
import { EncodeError } from "./errors.ts";
import type { Codecs } from "./rdata_codec.ts";
import { decodeHex, formatBase64, formatHex, formatName, type RDataText } from "./rdata_text.ts";
import { decodeTypeBitmap, encodeTypeBitmap, formatTypeBitmap, parseTypeBitmap } from "./type_bitmap.ts";
import { typeFromText, typeName } from "./types.ts";
import type { Writer } from "./wire.ts";

/** DNSSEC algorithm mnemonics, which presentation text may use instead of numbers (RFC 4034 A.1). */
const ALGORITHMS: Readonly<Record<string, number>> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  "DSA-NSEC3-SHA1": 6,
  "RSASHA1-NSEC3-SHA1": 7,
  RSASHA256: 8,
  RSASHA512: 10,
  "ECC-GOST": 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

/** An algorithm number, or its mnemonic (RFC 4034 section 2.2: "either ... or"). */
function algorithm(text: RDataText): number {
  const token = text.peek();
  const code = token && ALGORITHMS[token.text.toUpperCase()];
  if (code === undefined) return text.u8("algorithm");
  text.token("algorithm");
  return code;
}

// ---- Times: YYYYMMDDHHmmSS in UTC, or seconds (RFC 4034 section 3.2) ----

const MAX_U32 = 0xffffffff;

/** Reads a signature time: 14 digits are a UTC date, fewer are seconds since the epoch. */
function signatureTime(text: RDataText, what: string): number {
  const token = text.token(what);
  if (token.text.length !== 14) {
    if (/^[0-9]{1,10}$/.test(token.text) && Number(token.text) <= MAX_U32) return Number(token.text);
    text.fail(`bad ${what} "${token.text}": expected YYYYMMDDHHmmSS or seconds`, token);
  }
  const iso = token.text.replace(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/, "$1-$2-$3T$4:$5:$6.000Z");
  const ms = Date.parse(iso);
  // Printing the time back catches what Date.parse() rolls over (February 30, hour 24).
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== iso || ms < 0 || ms / 1000 > MAX_U32) {
    text.fail(`bad ${what} "${token.text}": not a UTC time from 1970 to 2106`, token);
  }
  return ms / 1000;
}

/** Formats seconds since the epoch as YYYYMMDDHHmmSS in UTC. */
function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

// ---- Salt and base32hex (RFC 5155 section 3.3, RFC 4648 section 7) ----

const BASE32HEX = "0123456789abcdefghijklmnopqrstuv";

/** Decodes unpadded base32hex in any case, or null (also for non-zero padding bits). */
export function decodeBase32Hex(text: string): Uint8Array | null {
  if (![0, 2, 4, 5, 7].includes(text.length % 8)) return null;
  const octets: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.toLowerCase()) {
    const value = BASE32HEX.indexOf(char);
    if (value < 0) return null;
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      octets.push((buffer >> bits) & 0xff);
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return null;
  return Uint8Array.from(octets);
}

/** Encodes octets as lower-case base32hex without padding. */
export function formatBase32Hex(octets: Uint8Array): string {
  let text = "";
  let buffer = 0;
  let bits = 0;
  for (const octet of octets) {
    buffer = ((buffer << 8) | octet) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += BASE32HEX[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) text += BASE32HEX[(buffer << (5 - bits)) & 31];
  return text;
}

/** Reads a salt: hex of at most 255 octets, or `-` for none (RFC 5155 section 3.3). */
function salt(text: RDataText): Uint8Array {
  const token = text.token("salt");
  if (token.text === "-") return new Uint8Array();
  const octets = decodeHex(token.text);
  if (!octets || octets.length === 0 || octets.length > 255) {
    text.fail(`bad salt "${token.text}": expected "-" or hex of at most 255 octets`, token);
  }
  return octets;
}

/** Salt as the RFC 5155 examples write it: lower-case hex, `-` for none. */
function formatSalt(octets: Uint8Array): string {
  return octets.length === 0 ? "-" : formatHex(octets).toLowerCase();
}

/** Writes octets behind a one-octet length (salt, next hashed owner name). */
function writeCounted(writer: Writer, octets: Uint8Array, what: string): void {
  if (octets.length > 255) throw new EncodeError("bad-value", `${what} over 255 octets`);
  writer.u8(octets.length);
  writer.bytes(octets);
}

/** The DNSSEC rows. */
export const dnssecCodecs: Codecs<"DS" | "DNSKEY" | "RRSIG" | "NSEC" | "NSEC3" | "NSEC3PARAM"> = {
  DS: {
    code: 43,
    decode: (r) => ({
      type: "DS",
      keyTag: r.u16(),
      algorithm: r.u8(),
      digestType: r.u8(),
      digest: r.take(r.remaining),
    }),
    encode: (w, d) => {
      w.u16(d.keyTag);
      w.u8(d.algorithm);
      w.u8(d.digestType);
      w.bytes(d.digest);
    },
    parse: (t) => ({
      type: "DS",
      keyTag: t.u16("key tag"),
      algorithm: algorithm(t),
      digestType: t.u8("digest type"),
      digest: t.hexRest("digest"),
    }),
    format: (d) => `${d.keyTag} ${d.algorithm} ${d.digestType} ${formatHex(d.digest)}`,
  },
  DNSKEY: {
    code: 48,
    decode: (r) => ({
      type: "DNSKEY",
      flags: r.u16(),
      protocol: r.u8(),
      algorithm: r.u8(),
      publicKey: r.take(r.remaining),
    }),
    encode: (w, d) => {
      w.u16(d.flags);
      w.u8(d.protocol);
      w.u8(d.algorithm);
      w.bytes(d.publicKey);
    },
    parse: (t) => ({
      type: "DNSKEY",
      flags: t.u16("flags"),
      protocol: t.u8("protocol"),
      algorithm: algorithm(t),
      publicKey: t.base64Rest("public key"),
    }),
    format: (d) => `${d.flags} ${d.protocol} ${d.algorithm} ${formatBase64(d.publicKey)}`,
  },
  RRSIG: {
    code: 46,
    decode: (r) => ({
      type: "RRSIG",
      typeCovered: r.u16(),
      algorithm: r.u8(),
      labels: r.u8(),
      originalTtl: r.u32(),
      expiration: r.u32(),
      inception: r.u32(),
      keyTag: r.u16(),
      signerName: r.name(),
      signature: r.take(r.remaining),
    }),
    encode: (w, d) => {
      w.u16(d.typeCovered);
      w.u8(d.algorithm);
      w.u8(d.labels);
      w.u32(d.originalTtl);
      w.u32(d.expiration);
      w.u32(d.inception);
      w.u16(d.keyTag);
      w.name(d.signerName, false);
      w.bytes(d.signature);
    },
    parse: (t: RDataText) => {
      const token = t.token("type covered");
      const typeCovered = typeFromText(token.text);
      if (typeCovered === null) t.fail(`"${token.text}" is not a type mnemonic or TYPEnnnn`, token);
      return {
        type: "RRSIG",
        typeCovered,
        algorithm: algorithm(t),
        labels: t.u8("labels"),
        originalTtl: t.u32("original TTL"),
        expiration: signatureTime(t, "signature expiration"),
        inception: signatureTime(t, "signature inception"),
        keyTag: t.u16("key tag"),
        signerName: t.name("signer's name"),
        signature: t.base64Rest("signature"),
      };
    },
    format: (d) =>
      `${typeName(d.typeCovered)} ${d.algorithm} ${d.labels} ${d.originalTtl} ${formatTime(d.expiration)} ${
        formatTime(d.inception)
      } ${d.keyTag} ${formatName(d.signerName)} ${formatBase64(d.signature)}`,
  },
  NSEC: {
    code: 47,
    decode: (r) => ({ type: "NSEC", nextDomainName: r.name(), types: decodeTypeBitmap(r) }),
    encode: (w, d) => {
      w.name(d.nextDomainName, false);
      encodeTypeBitmap(w, d.types);
    },
    parse: (t) => ({ type: "NSEC", nextDomainName: t.name("next domain name"), types: parseTypeBitmap(t) }),
    format: (d) => [formatName(d.nextDomainName), formatTypeBitmap(d.types)].filter(Boolean).join(" "),
  },
  NSEC3: {
    code: 50,
    decode: (r) => ({
      type: "NSEC3",
      hashAlgorithm: r.u8(),
      flags: r.u8(),
      iterations: r.u16(),
      salt: r.take(r.u8()),
      nextHashedOwnerName: r.take(r.u8()),
      types: decodeTypeBitmap(r),
    }),
    encode: (w, d) => {
      w.u8(d.hashAlgorithm);
      w.u8(d.flags);
      w.u16(d.iterations);
      writeCounted(w, d.salt, "salt");
      writeCounted(w, d.nextHashedOwnerName, "next hashed owner name");
      encodeTypeBitmap(w, d.types);
    },
    parse: (t: RDataText) => {
      const fields = {
        hashAlgorithm: t.u8("hash algorithm"),
        flags: t.u8("flags"),
        iterations: t.u16("iterations"),
        salt: salt(t),
      };
      const token = t.token("next hashed owner name");
      const next = decodeBase32Hex(token.text);
      if (!next || next.length === 0 || next.length > 255) {
        t.fail(`bad next hashed owner name "${token.text}": expected base32hex without padding`, token);
      }
      return { type: "NSEC3", ...fields, nextHashedOwnerName: next, types: parseTypeBitmap(t) };
    },
    format: (d) =>
      [
        `${d.hashAlgorithm} ${d.flags} ${d.iterations} ${formatSalt(d.salt)}`,
        formatBase32Hex(d.nextHashedOwnerName),
        formatTypeBitmap(d.types),
      ].filter(Boolean).join(" "),
  },
  NSEC3PARAM: {
    code: 51,
    decode: (r) => ({
      type: "NSEC3PARAM",
      hashAlgorithm: r.u8(),
      flags: r.u8(),
      iterations: r.u16(),
      salt: r.take(r.u8()),
    }),
    encode: (w, d) => {
      w.u8(d.hashAlgorithm);
      w.u8(d.flags);
      w.u16(d.iterations);
      writeCounted(w, d.salt, "salt");
    },
    parse: (t) => ({
      type: "NSEC3PARAM",
      hashAlgorithm: t.u8("hash algorithm"),
      flags: t.u8("flags"),
      iterations: t.u16("iterations"),
      salt: salt(t),
    }),
    format: (d) => `${d.hashAlgorithm} ${d.flags} ${d.iterations} ${formatSalt(d.salt)}`,
  },
};

const { DS, DNSKEY } = dnssecCodecs;

/** CDS and CDNSKEY (RFC 7344 section 3): the child's DS and DNSKEY, in their layouts under codes of their own. */
export const childCodecs: Codecs<"CDS" | "CDNSKEY"> = {
  CDS: {
    code: 59,
    decode: (r) => ({ ...DS.decode(r), type: "CDS" }),
    encode: (w, d) => DS.encode(w, { ...d, type: "DS" }),
    parse: (t) => ({ ...DS.parse(t), type: "CDS" }),
    format: (d) => DS.format({ ...d, type: "DS" }),
  },
  CDNSKEY: {
    code: 60,
    decode: (r) => ({ ...DNSKEY.decode(r), type: "CDNSKEY" }),
    encode: (w, d) => DNSKEY.encode(w, { ...d, type: "DNSKEY" }),
    parse: (t) => ({ ...DNSKEY.parse(t), type: "CDNSKEY" }),
    format: (d) => DNSKEY.format({ ...d, type: "DNSKEY" }),
  },
};
