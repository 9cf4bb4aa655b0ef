/**
 * The shape of one row of the record type registry, shared by the files that hold the rows.
 * @module
 */
import type { RDataText } from "./rdata_text.ts";
import type { RData } from "./types.ts";
import type { Reader, Writer } from "./wire.ts";

/** The types with a row in the registry. */
export type Known = Exclude<RData["type"], "unknown">;

/** The RDATA of one known type. */
export type Of<T extends Known> = Extract<RData, { type: T }>;

/** One row: the TYPE code and the four conversions, wire and presentation, both ways. */
export interface RDataCodec<T extends Known> {
  /** The TYPE code (IANA "Resource Record (RR) TYPEs"). */
  readonly code: number;
  /** Reads the RDATA from the wire (the reader is limited to RDLENGTH). */
  decode(reader: Reader): Of<T>;
  /** Writes the RDATA to the wire. */
  encode(writer: Writer, data: Of<T>): void;
  /** Reads the RDATA from zone-file text. */
  parse(text: RDataText): Of<T>;
  /** Writes the RDATA as zone-file text (names absolute, with their root dot). */
  format(data: Of<T>): string;
}

/** Rows for a subset of the known types; the registry spreads several of these into one table. */
export type Codecs<K extends Known> = { readonly [T in K]: RDataCodec<T> };
