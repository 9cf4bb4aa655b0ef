/**
 * The record type registry: one row per typed RDATA. A type without a row travels as opaque
 * bytes (RFC 3597), so adding a type is one union arm in types.ts, one row here and one vector.
 * @module
 */
import { EncodeError } from "./errors.ts";
import { formatIPv4, formatIPv6, ipv4Number, parseIPv6 } from "./ip.ts";
import type { RData } from "./types.ts";
import type { Reader, Writer } from "./wire.ts";

type Known = Exclude<RData["type"], "unknown">;
type Of<T extends Known> = Extract<RData, { type: T }>;

interface RDataCodec<T extends Known> {
  readonly code: number;
  decode(reader: Reader): Of<T>;
  encode(writer: Writer, data: Of<T>): void;
}

function ipv6(text: string): Uint8Array {
  const octets = parseIPv6(text);
  if (!octets) throw new EncodeError("bad-address", `"${text}" is not an IPv6 address`);
  return octets;
}

function character(writer: Writer, value: Uint8Array): void {
  if (value.length > 255) throw new EncodeError("bad-value", "character-string over 255 octets");
  writer.u8(value.length);
  writer.bytes(value);
}

// Names inside NS, CNAME, SOA, PTR and MX may be compressed; SRV's may not (RFC 3597 section 4,
// RFC 2782), though every name is decompressed on the way in.
const codecs: { readonly [T in Known]: RDataCodec<T> } = {
  A: {
    code: 1,
    decode: (r) => ({ type: "A", address: formatIPv4(r.take(4)) }),
    encode: (w, d) => {
      const value = ipv4Number(d.address);
      if (value < 0) throw new EncodeError("bad-address", `"${d.address}" is not an IPv4 address`);
      w.u32(value);
    },
  },
  NS: {
    code: 2,
    decode: (r) => ({ type: "NS", host: r.name() }),
    encode: (w, d) => w.name(d.host, true),
  },
  CNAME: {
    code: 5,
    decode: (r) => ({ type: "CNAME", target: r.name() }),
    encode: (w, d) => w.name(d.target, true),
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
  },
  PTR: {
    code: 12,
    decode: (r) => ({ type: "PTR", target: r.name() }),
    encode: (w, d) => w.name(d.target, true),
  },
  MX: {
    code: 15,
    decode: (r) => ({ type: "MX", preference: r.u16(), exchange: r.name() }),
    encode: (w, d) => {
      w.u16(d.preference);
      w.name(d.exchange, true);
    },
  },
  TXT: {
    code: 16,
    decode: (r) => {
      const strings: Uint8Array[] = [];
      while (r.remaining > 0) strings.push(r.take(r.u8()));
      return { type: "TXT", strings };
    },
    encode: (w, d) => d.strings.forEach((value) => character(w, value)),
  },
  AAAA: {
    code: 28,
    decode: (r) => ({ type: "AAAA", address: formatIPv6(r.take(16)) }),
    encode: (w, d) => w.bytes(ipv6(d.address)),
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
  },
};

const decoders = new Map<number, (reader: Reader) => RData>(
  Object.values(codecs).map((codec) => [codec.code, (reader: Reader): RData => codec.decode(reader)]),
);

/** The TYPE code of a record's data. */
export function typeCode(data: RData): number {
  return data.type === "unknown" ? data.code : codecs[data.type].code;
}

/** Decodes RDATA of `rdlength` octets; unregistered types come back as opaque bytes. */
export function decodeRData(reader: Reader, code: number, rdlength: number): RData {
  const decode = decoders.get(code);
  if (decode) return reader.within(rdlength, decode);
  return { type: "unknown", code, bytes: reader.take(rdlength) };
}

/** Encodes RDATA (without its RDLENGTH, which the caller patches in). */
export function encodeRData(writer: Writer, data: RData): void {
  if (data.type === "unknown") return writer.bytes(data.bytes);
  // TypeScript cannot tie `codecs[data.type]` to the narrowed `data` (microsoft/TypeScript#30581).
  const codec = codecs[data.type] as RDataCodec<Known>;
  codec.encode(writer, data as never);
}
