/**
 * The record type registry: one row per typed RDATA, in wire and presentation form. A type
 * without a row travels as opaque bytes (RFC 3597), so adding a type is one union arm in
 * types.ts, one row in a rows file and one test vector.
 * @module
 */
import type { Known, RDataCodec } from "./rdata_codec.ts";
import { basicCodecs } from "./rdata_basic.ts";
import { childCodecs, dnssecCodecs } from "./rdata_dnssec.ts";
import { locCodecs } from "./rdata_loc.ts";
import { moreCodecs } from "./rdata_more.ts";
import { modernCodecs } from "./rdata_modern.ts";
import { formatHex, RDataText } from "./rdata_text.ts";
import { zoneEntries } from "./zone_lexer.ts";
import { type RData, typeName } from "./types.ts";
import { Reader, Writer } from "./wire.ts";
import { DecodeError } from "./errors.ts";

const codecs: { readonly [T in Known]: RDataCodec<T> } = {
  ...basicCodecs,
  ...modernCodecs,
  ...dnssecCodecs,
  ...childCodecs,
  ...moreCodecs,
  ...locCodecs,
};

const byCode = new Map<number, RDataCodec<Known>>(
  Object.values(codecs).map((codec) => [codec.code, codec as RDataCodec<Known>]),
);

/** The TYPE code of a record's data. */
export function typeCode(data: RData): number {
  return data.type === "unknown" ? data.code : codecs[data.type].code;
}

/** Decodes RDATA of `rdlength` octets; unregistered types come back as opaque bytes. */
export function decodeRData(reader: Reader, code: number, rdlength: number): RData {
  const codec = byCode.get(code);
  if (codec) return reader.within(rdlength, (r) => codec.decode(r));
  return { type: "unknown", code, bytes: reader.take(rdlength) };
}

/** Encodes RDATA (without its RDLENGTH, which the caller patches in). */
export function encodeRData(writer: Writer, data: RData): void {
  if (data.type === "unknown") return writer.bytes(data.bytes);
  // TypeScript cannot tie `codecs[data.type]` to the narrowed `data` (microsoft/TypeScript#30581).
  const codec = codecs[data.type] as RDataCodec<Known>;
  codec.encode(writer, data as never);
}

/**
 * RDATA as the codec writes it in a message of its own: what DNSSEC's canonical form is for every
 * type whose RDATA holds no compressible name (RFC 3597 section 4); an RFC 1035 type's second name
 * may point at its first.
 */
export function rdataOctets(data: RData): Uint8Array {
  const writer = new Writer();
  encodeRData(writer, data);
  return writer.finish().slice();
}

/**
 * Reads RDATA of type `code` from zone-file text. The RFC 3597 form `\# LENGTH HEX` works for
 * every type: for a registered one the octets are decoded into its typed form.
 */
export function parseRData(code: number, text: RDataText): RData {
  const first = text.peek();
  if (first && !first.quoted && first.text === "\\#") {
    text.token("\\#");
    const length = text.u16("RDATA length");
    const octets = length === 0 ? new Uint8Array() : text.hexRest("RDATA hex");
    if (octets.length !== length) {
      text.fail(`\\# says ${length} octets but the hex holds ${octets.length}`, first);
    }
    const codec = byCode.get(code);
    if (!codec) return { type: "unknown", code, bytes: octets };
    try {
      return new Reader(octets).within(octets.length, (r) => codec.decode(r));
    } catch (error) {
      if (error instanceof DecodeError) {
        text.fail(`\\# data is not valid RDATA for this type: ${error.reason}`, first);
      }
      throw error;
    }
  }
  const codec = byCode.get(code);
  if (!codec) {
    const name = typeName(code);
    const which = name.startsWith("TYPE") ? `type ${code}` : `${name} (type ${code})`;
    text.fail(`${which} has no text form in dnsd: write its RDATA as \\# LENGTH HEX (RFC 3597)`, first);
  }
  const data = codec.parse(text);
  text.end();
  return data;
}

/** RDATA octets in the RFC 3597 form `\# LENGTH HEX`. */
function genericText(octets: Uint8Array): string {
  return octets.length === 0 ? "\\# 0" : `\\# ${octets.length} ${formatHex(octets)}`;
}

/**
 * Types made only of addresses, names and numbers, whose text always reads back as the same octets
 * (tests/proto/rdata_test.ts checks it for any data): most of a zone, written without the check.
 */
const ALWAYS_READS_BACK: ReadonlySet<RData["type"]> = new Set<RData["type"]>([
  "A",
  "AAAA",
  "NS",
  "CNAME",
  "PTR",
  "MX",
  "SOA",
  "SRV",
  "DNAME",
  "RP",
  "AFSDB",
]);

/** Whether `text` reads back (absolute names, no origin) as RDATA of type `code` with these octets. */
function readsBackAs(code: number, text: string, octets: Uint8Array): boolean {
  const end = { file: "", line: 1, column: text.length + 1 };
  try {
    const [entry] = zoneEntries(text, ""); // the lexer throws for text it cannot split (a lone quote)
    if (!entry) return false;
    const again = rdataOctets(
      parseRData(code, new RDataText(entry.tokens, 0, { origin: "", file: "", end })),
    );
    return again.length === octets.length && again.every((octet, i) => octet === octets[i]);
  } catch {
    return false;
  }
}

/**
 * Writes RDATA as zone-file text; unregistered types in the RFC 3597 form `\# LENGTH HEX`. So is
 * any whose text form would not read back as the same octets: data a type's text cannot say (a TXT
 * without a string, an empty DS digest) or that its text form's rules refuse (an SVCB whose
 * mandatory key is absent), which a primary may still send. A secondary's zone file, written with
 * this, then always loads again. Each is checked by reading it back (a few microseconds, off the
 * path of queries: zone files, explain, assertions), but for the types that need no check.
 */
export function formatRData(data: RData): string {
  if (data.type === "unknown") return genericText(data.bytes);
  const codec = codecs[data.type] as RDataCodec<Known>;
  const text = codec.format(data as never);
  if (ALWAYS_READS_BACK.has(data.type)) return text;
  const octets = rdataOctets(data);
  return readsBackAs(codec.code, text, octets) ? text : genericText(octets);
}
