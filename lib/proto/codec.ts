/**
 * The message codec: bytes <-> {@link Message}. Pure: no I/O, no clock, no `Deno.*`.
 * @module
 */
import type { ByteArena } from "./arena.ts";
import { DecodeError, EncodeError } from "./errors.ts";
import { decodeRData, encodeRData, typeCode } from "./rdata.ts";
import {
  type Edns,
  type EdnsOption,
  type Message,
  type Question,
  type ResourceRecord,
  RRType,
} from "./types.ts";
import { Reader, Writer } from "./wire.ts";

/** The size of the fixed header (RFC 1035 section 4.1.1). */
export const HEADER_SIZE = 12;

/** The header's flags: the second 16-bit word, as named fields (`rcode` only its four low bits there). */
export type HeaderFlags = Pick<
  Message,
  | "response"
  | "opcode"
  | "authoritative"
  | "truncated"
  | "recursionDesired"
  | "recursionAvailable"
  | "z"
  | "authenticData"
  | "checkingDisabled"
  | "rcode"
>;

/**
 * Packs the header's flag word (RFC 1035 section 4.1.1; AD and CD: RFC 4035 section 3.2): the one
 * place that knows where each flag sits. Only the four low bits of `rcode` fit; the rest go in OPT.
 */
export function flagWord(flags: HeaderFlags): number {
  return (flags.response ? 0x8000 : 0) |
    ((flags.opcode & 0xf) << 11) |
    (flags.authoritative ? 0x0400 : 0) |
    (flags.truncated ? 0x0200 : 0) |
    (flags.recursionDesired ? 0x0100 : 0) |
    (flags.recursionAvailable ? 0x0080 : 0) |
    (flags.z ? 0x0040 : 0) |
    (flags.authenticData ? 0x0020 : 0) |
    (flags.checkingDisabled ? 0x0010 : 0) |
    (flags.rcode & 0xf);
}

/** Reads the header's flag word: the inverse of {@link flagWord}. */
export function headerFlags(word: number): HeaderFlags {
  return {
    response: (word & 0x8000) !== 0,
    opcode: (word >>> 11) & 0xf,
    authoritative: (word & 0x0400) !== 0,
    truncated: (word & 0x0200) !== 0,
    recursionDesired: (word & 0x0100) !== 0,
    recursionAvailable: (word & 0x0080) !== 0,
    z: (word & 0x0040) !== 0,
    authenticData: (word & 0x0020) !== 0,
    checkingDisabled: (word & 0x0010) !== 0,
    rcode: word & 0xf,
  };
}

function decodeQuestion(reader: Reader): Question {
  return { name: reader.name(), type: reader.u16(), class: reader.u16() };
}

function decodeOptions(reader: Reader): EdnsOption[] {
  const options: EdnsOption[] = [];
  while (reader.remaining > 0) {
    const code = reader.u16();
    options.push({ code, data: reader.take(reader.u16()) });
  }
  return options;
}

interface Sections {
  readonly records: ResourceRecord[];
  edns: Edns | null;
  extendedRcode: number;
}

/** Reads `count` records; an OPT record is lifted out, and only allowed once, in the additional section. */
function decodeRecords(reader: Reader, count: number, sections: Sections, additional: boolean): void {
  for (let i = 0; i < count; i++) {
    const start = reader.offset;
    const name = reader.name();
    const type = reader.u16();
    const rrClass = reader.u16();
    const ttl = reader.u32();
    const rdlength = reader.u16();
    if (type === RRType.OPT && additional) {
      // RFC 6891 section 6.1.1: owner is the root; section 6.1.1 also allows only one OPT.
      if (name !== "") throw new DecodeError("bad-opt", start);
      if (sections.edns) throw new DecodeError("multiple-opt", start);
      sections.extendedRcode = ttl >>> 24;
      sections.edns = {
        udpPayloadSize: rrClass,
        version: (ttl >>> 16) & 0xff,
        dnssecOk: (ttl & 0x8000) !== 0,
        flags: ttl & 0x7fff,
        options: reader.within(rdlength, decodeOptions),
      };
      continue;
    }
    // RFC 6891 section 6.1.1: an OPT anywhere else is as malformed as a second one (FORMERR).
    if (type === RRType.OPT) throw new DecodeError("misplaced-opt", start);
    sections.records.push({ name, class: rrClass, ttl, data: decodeRData(reader, type, rdlength) });
  }
}

/** A decoded section: its records, and the OPT record's fields (from the additional section). */
interface Decoded {
  readonly records: readonly ResourceRecord[];
  readonly edns: Edns | null;
  readonly extendedRcode: number;
}

/** A section with no records: one shared, frozen value (a query has three). */
const NONE: Decoded = Object.freeze({ records: Object.freeze([]), edns: null, extendedRcode: 0 });

function decodeSection(reader: Reader, count: number, additional: boolean): Decoded {
  const sections: Sections = { records: [], edns: null, extendedRcode: 0 };
  decodeRecords(reader, count, sections, additional);
  return sections;
}

/**
 * Decodes a whole message.
 * @throws {DecodeError} for any malformed input, including trailing bytes
 */
export function decodeMessage(bytes: Uint8Array): Message {
  const reader = new Reader(bytes);
  const id = reader.u16();
  const flags = reader.u16();
  const qdcount = reader.u16();
  const ancount = reader.u16();
  const nscount = reader.u16();
  const arcount = reader.u16();
  // Counts are attacker-controlled: loop over them, never preallocate from them.
  const questions: Question[] = [];
  for (let i = 0; i < qdcount; i++) questions.push(decodeQuestion(reader));
  const answers = ancount === 0 ? NONE : decodeSection(reader, ancount, false);
  const authorities = nscount === 0 ? NONE : decodeSection(reader, nscount, false);
  const additionals = arcount === 0 ? NONE : decodeSection(reader, arcount, true);
  if (reader.remaining !== 0) throw new DecodeError("trailing-bytes", reader.offset);
  // Field by field, not spread: a spread costs more than the rest of decoding a small query.
  const header = headerFlags(flags);
  return {
    id,
    response: header.response,
    opcode: header.opcode,
    authoritative: header.authoritative,
    truncated: header.truncated,
    recursionDesired: header.recursionDesired,
    recursionAvailable: header.recursionAvailable,
    z: header.z,
    authenticData: header.authenticData,
    checkingDisabled: header.checkingDisabled,
    rcode: (additionals.extendedRcode << 4) | header.rcode,
    questions,
    answers: answers.records,
    authorities: authorities.records,
    additionals: additionals.records,
    edns: additionals.edns,
  };
}

/**
 * Writes one record, its owner (and RDATA names where RFC 3597 allows) compressed; without
 * `withOwner`, everything after the owner (the caller wrote the owner its own way).
 */
export function encodeRecord(writer: Writer, record: ResourceRecord, withOwner = true): void {
  if (withOwner) writer.name(record.name, true);
  writer.u16(typeCode(record.data));
  writer.u16(record.class);
  writer.u32(record.ttl);
  const lengthAt = writer.offset;
  writer.u16(0);
  encodeRData(writer, record.data);
  writer.patchU16(lengthAt, writer.offset - lengthAt - 2);
}

function encodeEdns(writer: Writer, edns: Edns, rcode: number): void {
  writer.u8(0); // root owner
  writer.u16(RRType.OPT);
  writer.u16(edns.udpPayloadSize);
  writer.u8(rcode >>> 4);
  writer.u8(edns.version);
  writer.u16((edns.dnssecOk ? 0x8000 : 0) | (edns.flags & 0x7fff));
  const lengthAt = writer.offset;
  writer.u16(0);
  for (const option of edns.options) {
    writer.u16(option.code);
    writer.u16(option.data.length);
    writer.bytes(option.data);
  }
  writer.patchU16(lengthAt, writer.offset - lengthAt - 2);
}

/**
 * Encodes a message, deriving the four counts from its sections and compressing names. With an
 * `arena`, the bytes are written in its scratch buffer and carved from its slab.
 * @throws {EncodeError} when a value cannot be written (a bad name or address, an extended
 * rcode without EDNS, a message over 65,535 octets)
 */
export function encodeMessage(message: Message, arena?: ByteArena): Uint8Array {
  if (message.rcode > 0xf && !message.edns) {
    throw new EncodeError("needs-edns", `rcode ${message.rcode} needs an OPT record`);
  }
  const writer = new Writer(arena?.scratch, arena?.names);
  writer.u16(message.id);
  writer.u16(flagWord(message));
  writer.u16(message.questions.length);
  writer.u16(message.answers.length);
  writer.u16(message.authorities.length);
  writer.u16(message.additionals.length + (message.edns ? 1 : 0));
  for (const question of message.questions) {
    writer.name(question.name, true);
    writer.u16(question.type);
    writer.u16(question.class);
  }
  for (const record of message.answers) encodeRecord(writer, record);
  for (const record of message.authorities) encodeRecord(writer, record);
  for (const record of message.additionals) encodeRecord(writer, record);
  if (message.edns) encodeEdns(writer, message.edns, message.rcode);
  return arena ? arena.copy(writer.finish()) : writer.finish();
}
