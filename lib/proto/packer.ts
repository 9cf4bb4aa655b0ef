/**
 * Packing many records into as few messages as fit, for a zone transfer (RFC 5936 section 2.2):
 * each message up to 64 KiB with its names compressed, written record by record so a million
 * records never sit in memory encoded all at once.
 * @module
 */
import { encodeRecord, flagWord } from "./codec.ts";
import { rdataOctets } from "./rdata.ts";
import type { Message, RData, ResourceRecord } from "./types.ts";
import { Writer } from "./wire.ts";

const MAX_MESSAGE = 0xffff;
/**
 * Past this many octets a message takes no record that might not fit: the room left (over 9 KB)
 * holds any record of the types in {@link SMALL_TYPES} whatever its names.
 */
const SOFT_LIMIT = 56_000;
/** Types whose RDATA is at most a few names or a key or signature (under 4 KB). */
const SMALL_TYPES: ReadonlySet<RData["type"]> = new Set([
  "A",
  "AAAA",
  "NS",
  "CNAME",
  "PTR",
  "MX",
  "SOA",
  "SRV",
  "DS",
  "RRSIG",
  "NSEC",
  "NSEC3",
  "NSEC3PARAM",
  "DNSKEY",
]);

/** The most octets `record` can take written uncompressed. */
function uncompressedSize(record: ResourceRecord): number {
  return record.name.length + 2 + 10 + rdataOctets(record.data).length;
}

/**
 * Writes records into messages that share one header and question (a transfer's). `add` says
 * whether the record went in; when it did not, `take()` the full message and add it again. A
 * message is kept `reserve` octets under 64 KiB for what is appended to it once taken (a TSIG
 * record): framed for TCP, a message over 65,535 octets cannot be sent at all.
 */
export class MessagePacker {
  readonly #header: Message;
  readonly #max: number;
  readonly #soft: number;
  #writer: Writer;
  #count = 0;

  /**
   * @param header the ID, flags and question of every message (its record sections are ignored)
   * @param reserve octets each message must leave free for what is added to it after (a TSIG record)
   */
  constructor(header: Message, reserve = 0) {
    this.#header = header;
    this.#max = MAX_MESSAGE - reserve;
    this.#soft = SOFT_LIMIT - reserve;
    this.#writer = this.#start();
  }

  #start(): Writer {
    const writer = new Writer(new Uint8Array(4096));
    const header = this.#header;
    writer.u16(header.id);
    writer.u16(flagWord(header));
    writer.u16(header.questions.length);
    writer.u16(0); // ANCOUNT, patched in take()
    writer.u16(0);
    writer.u16(0);
    for (const question of header.questions) {
      writer.name(question.name, true);
      writer.u16(question.type);
      writer.u16(question.class);
    }
    return writer;
  }

  /** Records in the message being packed. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds `record` to the answer section when it fits; false when the message is full (a message
   * with no record yet takes any record that fits 64 KiB at all).
   */
  add(record: ResourceRecord): boolean {
    const offset = this.#writer.offset;
    if (offset > this.#soft || !SMALL_TYPES.has(record.data.type)) {
      if (this.#count > 0 && offset + uncompressedSize(record) > this.#max) return false;
    }
    encodeRecord(this.#writer, record);
    this.#count++;
    return true;
  }

  /** The message packed so far, and a fresh one begun. */
  take(): Uint8Array {
    const bytes = this.#writer.finish().slice();
    bytes[6] = this.#count >>> 8;
    bytes[7] = this.#count & 0xff;
    this.#writer = this.#start();
    this.#count = 0;
    return bytes;
  }
}
