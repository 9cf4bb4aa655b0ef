/**
 * The wire protocol: the codec (bytes <-> typed messages), names, record types and RDATA, EDNS and
 * Extended DNS Errors, the presentation-format lexer, and the scan of kept upstream reply bytes.
 * Pure: no I/O and no `Deno.*`.
 * @module
 */
export { ByteArena } from "./arena.ts";
export { decodeMessage, encodeMessage, flagWord, HEADER_SIZE, headerFlags } from "./codec.ts";
export type { HeaderFlags } from "./codec.ts";
export { EdeCode, edeOf, withEde } from "./ede.ts";
export type { ExtendedError } from "./ede.ts";
export {
  BadVersion,
  DataError,
  DecodeError,
  DnssecBogus,
  EncodeError,
  FormatError,
  NotAuthoritative,
  NotImplemented,
  NotReady,
  ParseError,
  QueryFailure,
  Refused,
  UpstreamError,
  UpstreamTimeout,
} from "./errors.ts";
export type { TextLocation } from "./errors.ts";
export { fnv1a, fnv1aText } from "./hash.ts";
export { formatIPv4, formatIPv6, ipv4Number, parseIPv4, parseIPv6 } from "./ip.ts";
export {
  headerOnlyReply,
  negativeTtl,
  reply,
  responseEdns,
  udpLimit,
  unknownOpcodeReply,
} from "./message.ts";
export { displayName, foldOctet, isAtOrBelow, nameKey, parentName, withoutRootDot } from "./name.ts";
export { formatRData, parseRData, rdataOctets, typeCode } from "./rdata.ts";
export { decodeBase32Hex, formatBase32Hex } from "./rdata_dnssec.ts";
export { absoluteName, parseDuration, RDataText } from "./rdata_text.ts";
export { Opcode, Rcode, rcodeName, RRClass, RRType, typeFromText, typeName } from "./types.ts";
export type { CertificateAssociation, Message, Question, RData, ResourceRecord } from "./types.ts";
export { canonicalName, checkName, plainNameOk, Reader } from "./wire.ts";
export { readRecordRun, RecordRunWriter } from "./record_run.ts";
export { receivedTtl, scanAnswer } from "./wire_answer.ts";
export type { WireAnswer } from "./wire_answer.ts";
export { scrubReply } from "./scrub.ts";
export { servedTtl, WireResponse } from "./wire_response.ts";
export type { Aging, ClientQuery } from "./wire_response.ts";
export { zoneEntries } from "./zone_lexer.ts";
export { type AddressLine, addressLine, readAddressLine } from "./address_line.ts";
export type { Token } from "./zone_lexer.ts";
export type { Edns, EdnsOption } from "./types.ts";
export type { DecodeReason, EncodeReason } from "./errors.ts";
export type { CompressionTable } from "./wire.ts";
export { query } from "./message.ts";
export { MessagePacker } from "./packer.ts";
export { concatBytes, inSharedMemory } from "./bytes.ts";
export { serialNewer } from "./serial.ts";
