/**
 * The TSIG record on the wire (RFC 8945 section 4.2): always the last record of a message, never
 * compressed, class ANY and TTL 0. It is read and written here as bytes, outside the typed record
 * model, because what it signs is the message's own bytes without it.
 * @module
 */
import {
  canonicalName,
  concatBytes,
  DecodeError,
  FormatError,
  HEADER_SIZE,
  Reader,
  RRClass,
} from "../proto/mod.ts";

/** The TSIG TYPE code (RFC 8945 section 4.2). */
export const TSIG_TYPE = 250;

/** The TSIG fields (RFC 8945 section 4.2). */
export interface TsigRecord {
  /** The key's name (the record's owner). */
  readonly keyName: string;
  /** The algorithm's name, as `hmac-sha256`. */
  readonly algorithm: string;
  /** Seconds since the epoch when it was signed (48 bits). */
  readonly timeSigned: number;
  /** Seconds of error allowed either way. */
  readonly fudge: number;
  /** The MAC; empty in an unsigned error answer. */
  readonly mac: Uint8Array;
  /** The message ID when it was signed (a forwarder may change the header's). */
  readonly originalId: number;
  /** The TSIG error (0, or {@link TsigError}). */
  readonly error: number;
  /** Other data: the server's time in a BADTIME answer. */
  readonly other: Uint8Array;
}

/** A message's TSIG record and where it starts. */
export interface LocatedTsig {
  readonly record: TsigRecord;
  /** The offset of the TSIG record: the bytes before it are the message it signs. */
  readonly start: number;
}

function skipRecord(reader: Reader): number {
  reader.name();
  const type = reader.u16();
  reader.take(6); // class, TTL
  reader.take(reader.u16());
  return type;
}

function readU48(reader: Reader): number {
  return reader.u16() * 0x1_0000_0000 + reader.u32();
}

function decodeTsigData(reader: Reader, keyName: string): TsigRecord {
  const algorithm = reader.name().toLowerCase();
  const timeSigned = readU48(reader);
  const fudge = reader.u16();
  const mac = reader.take(reader.u16());
  const originalId = reader.u16();
  const error = reader.u16();
  const other = reader.take(reader.u16());
  return { keyName, algorithm, timeSigned, fudge, mac, originalId, error, other };
}

/**
 * Finds the TSIG record of a message. Null when it has none.
 * @throws {FormatError} when a TSIG record is not the last one, or is malformed (RFC 8945 section 5.1: FORMERR)
 */
export function locateTsig(bytes: Uint8Array): LocatedTsig | null {
  if (bytes.length < HEADER_SIZE) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const qdcount = view.getUint16(4);
  const records = view.getUint16(6) + view.getUint16(8) + view.getUint16(10);
  if (records === 0) return null;
  try {
    const reader = new Reader(bytes);
    reader.take(HEADER_SIZE);
    for (let i = 0; i < qdcount; i++) {
      reader.name();
      reader.take(4);
    }
    for (let i = 0; i < records - 1; i++) {
      if (skipRecord(reader) === TSIG_TYPE) throw new FormatError("a TSIG record that is not the last");
    }
    const start = reader.offset;
    const owner = reader.name();
    if (reader.u16() !== TSIG_TYPE) return null;
    const rrClass = reader.u16();
    const ttl = reader.u32();
    const length = reader.u16();
    if (rrClass !== RRClass.ANY || ttl !== 0) {
      throw new FormatError("a TSIG record not of class ANY and TTL 0");
    }
    const record = reader.within(length, (rdata) => decodeTsigData(rdata, owner.toLowerCase()));
    return { record, start };
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new FormatError(`a malformed message or TSIG record (${error.message})`);
    }
    throw error;
  }
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >>> 8, value & 0xff);
}

/** A 48-bit big-endian unsigned integer. */
export function u48(value: number): Uint8Array {
  const high = Math.floor(value / 0x1_0000_0000);
  const low = value >>> 0;
  return Uint8Array.of(
    high >>> 8,
    high & 0xff,
    low >>> 24,
    (low >>> 16) & 0xff,
    (low >>> 8) & 0xff,
    low & 0xff,
  );
}

/**
 * The TSIG variables a first (or only) message's MAC covers (RFC 8945 section 4.3.3): the key and
 * algorithm names in canonical form, class, TTL, time, fudge, error and other data.
 */
export function tsigVariables(record: TsigRecord): Uint8Array {
  return concatBytes([
    canonicalName(record.keyName),
    u16(RRClass.ANY),
    new Uint8Array(4), // TTL 0
    canonicalName(record.algorithm),
    u48(record.timeSigned),
    u16(record.fudge),
    u16(record.error),
    u16(record.other.length),
    record.other,
  ]);
}

/** The timers alone, what the later messages of a transfer cover (RFC 8945 section 4.3.1). */
export function tsigTimers(record: TsigRecord): Uint8Array {
  return concatBytes([u48(record.timeSigned), u16(record.fudge)]);
}

/** The TSIG record's bytes, owner and algorithm uncompressed in canonical (lower) case. */
export function encodeTsig(record: TsigRecord): Uint8Array {
  const rdata = concatBytes([
    canonicalName(record.algorithm),
    u48(record.timeSigned),
    u16(record.fudge),
    u16(record.mac.length),
    record.mac,
    u16(record.originalId),
    u16(record.error),
    u16(record.other.length),
    record.other,
  ]);
  return concatBytes([
    canonicalName(record.keyName),
    u16(TSIG_TYPE),
    u16(RRClass.ANY),
    new Uint8Array(4),
    u16(rdata.length),
    rdata,
  ]);
}

/** `message` (unsigned) with `tsig` appended as its last record: ARCOUNT one more. */
export function appendTsig(message: Uint8Array, tsig: Uint8Array): Uint8Array {
  const out = concatBytes([message, tsig]);
  const arcount = ((out[10]! << 8) | out[11]!) + 1;
  out[10] = arcount >>> 8;
  out[11] = arcount & 0xff;
  return out;
}

/**
 * The message a TSIG record signed: the bytes before the record, with the original ID and
 * ARCOUNT one less (RFC 8945 section 4.3.2).
 */
export function signedPart(bytes: Uint8Array, located: LocatedTsig): Uint8Array {
  const part = bytes.slice(0, located.start);
  const arcount = ((part[10]! << 8) | part[11]!) - 1;
  part[0] = located.record.originalId >>> 8;
  part[1] = located.record.originalId & 0xff;
  part[10] = arcount >>> 8;
  part[11] = arcount & 0xff;
  return part;
}
