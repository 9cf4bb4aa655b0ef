/**
 * The type bit maps of NSEC and NSEC3 (RFC 4034 section 4.1.2, RFC 5155 section 3.2.1), both
 * ways: windows of up to 32 octets on the wire, a list of mnemonics in presentation form.
 * @module
 */
import { DecodeError, EncodeError } from "./errors.ts";
import type { RDataText } from "./rdata_text.ts";
import { typeFromText, typeName } from "./types.ts";
import type { Reader, Writer } from "./wire.ts";

/**
 * Reads a type bit map that runs to the end of the RDATA. Windows must ascend and hold 1 to 32
 * octets (RFC 4034 section 4.1.2).
 * @returns the TYPE codes, ascending
 * @throws {DecodeError} "rdata-length" for a window out of order or of a bad length: the
 *   DecodeReason union has no reason for malformed RDATA content yet
 */
export function decodeTypeBitmap(reader: Reader): number[] {
  const types: number[] = [];
  let previous = -1;
  while (reader.remaining > 0) {
    const at = reader.offset;
    const window = reader.u8();
    const length = reader.u8();
    if (window <= previous || length < 1 || length > 32) throw new DecodeError("rdata-length", at);
    previous = window;
    const octets = reader.take(length);
    for (let i = 0; i < length; i++) {
      const octet = octets[i]!;
      for (let bit = 0; bit < 8; bit++) {
        if (octet & (0x80 >> bit)) types.push(window * 256 + i * 8 + bit);
      }
    }
  }
  return types;
}

/**
 * Writes a type bit map: one window per 256 types in use, each cut after its last non-zero octet.
 * @param types TYPE codes in any order; repeats are written once
 * @throws {EncodeError} "bad-value" for a code that is not a 16-bit integer
 */
export function encodeTypeBitmap(writer: Writer, types: readonly number[]): void {
  const windows = new Map<number, Uint8Array>();
  for (const code of types) {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
      throw new EncodeError("bad-value", `type bit map holds ${code}, which is not a TYPE code`);
    }
    const window = code >> 8;
    let octets = windows.get(window);
    if (!octets) windows.set(window, octets = new Uint8Array(32));
    octets[(code & 0xff) >> 3]! |= 0x80 >> (code & 7);
  }
  for (const window of [...windows.keys()].sort((a, b) => a - b)) {
    const octets = windows.get(window)!;
    let length = 32;
    while (octets[length - 1] === 0) length--;
    writer.u8(window);
    writer.u8(length);
    writer.bytes(octets.subarray(0, length));
  }
}

/**
 * Reads the remaining tokens as type mnemonics (or `TYPEnnnn`); none at all is an empty map.
 * @returns the TYPE codes, ascending and without repeats
 */
export function parseTypeBitmap(text: RDataText): number[] {
  const types = new Set<number>();
  while (!text.done) {
    const token = text.token("type");
    const code = typeFromText(token.text);
    if (code === null) text.fail(`"${token.text}" is not a type mnemonic or TYPEnnnn`, token);
    types.add(code);
  }
  return [...types].sort((a, b) => a - b);
}

/** Writes TYPE codes as mnemonics, `TYPEnnnn` for types without one, separated by spaces. */
export function formatTypeBitmap(types: readonly number[]): string {
  return types.map(typeName).join(" ");
}
