/**
 * Helpers for the RDATA tests: one record's RDATA through the registry, as wire and as text.
 * @module
 */
import assert from "node:assert/strict";
import { ParseError } from "../lib/proto/errors.ts";
import { decodeRData, encodeRData, parseRData } from "../lib/proto/rdata.ts";
import { RDataText } from "../lib/proto/rdata_text.ts";
import type { RData } from "../lib/proto/types.ts";
import { Reader, Writer } from "../lib/proto/wire.ts";
import { zoneEntries } from "../lib/proto/zone_lexer.ts";

/** Parses RDATA text of type `code`, relative names completed with `example.com`. */
export function parseText(code: number, text: string): RData {
  const [entry] = zoneEntries(text, "test");
  const cursor = new RDataText(entry?.tokens ?? [], 0, {
    origin: "example.com",
    file: "test",
    end: { file: "test", line: 1, column: 999 },
  });
  return parseRData(code, cursor);
}

/** Decodes RDATA that fills `wire` on its own. */
export function decodeWire(code: number, wire: Uint8Array): RData {
  return decodeRData(new Reader(wire), code, wire.length);
}

/** Encodes RDATA on its own (so no earlier name can be a compression target). */
export function encodeWire(data: RData): Uint8Array {
  const writer = new Writer();
  encodeRData(writer, data);
  return writer.finish();
}

/** Parses `text`, failing the test unless that throws a ParseError; returns the error. */
export function parseError(code: number, text: string): ParseError {
  try {
    parseText(code, text);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw new assert.AssertionError({ message: `expected ParseError for ${text}, got ${error}` });
  }
  throw new assert.AssertionError({ message: `expected ParseError for ${text}, but it parsed` });
}
