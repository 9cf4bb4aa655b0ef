/**
 * A run of records as wire octets, without a message around it: a 16-bit count, then each record
 * as a message holds it, but no name compressed: a pointer would give a name the case of the
 * earlier one it points to, and a zone's records keep the case they were written in. The compact form a
 * zone keeps a name's records in (lib/zone/packed_nodes.ts), a few dozen octets where the decoded
 * objects take hundreds. Pure.
 * @module
 */
import { encodeRecord } from "./codec.ts";
import { decodeRData } from "./rdata.ts";
import type { ResourceRecord } from "./types.ts";
import { CompressionTable, Reader, Writer } from "./wire.ts";

/** A compression table that never offers a pointer, and keeps nothing. */
class NoCompression extends CompressionTable {
  override get(): number | undefined {
    return undefined;
  }

  override set(): void {}
}

/** Writes runs into one reused buffer, so packing a million of them allocates one Writer each at most. */
export class RecordRunWriter {
  #scratch: Uint8Array = new Uint8Array(4096);
  readonly #names = new NoCompression();

  /**
   * The run of the records of `sets`, in order (a zone node's RRsets, say): a view of the scratch
   * buffer, valid until the next call (copy it to keep it).
   * @throws {EncodeError} for a record that cannot be written
   */
  write(sets: readonly { readonly records: readonly ResourceRecord[] }[]): Uint8Array {
    const writer = new Writer(this.#scratch, this.#names);
    let count = 0;
    for (const set of sets) count += set.records.length;
    writer.u16(count);
    for (const set of sets) for (const record of set.records) encodeRecord(writer, record);
    const run = writer.finish();
    // The writer grew a buffer of its own for a big run: keep it for the next.
    if (run.buffer !== this.#scratch.buffer) this.#scratch = new Uint8Array(run.buffer);
    return run;
  }
}

/**
 * The records of a run written by {@link RecordRunWriter}. An owner written exactly as `owner`
 * (the name's key, say) is given that string rather than one decoded afresh.
 * @throws {DecodeError} for octets that are not a run
 */
export function readRecordRun(bytes: Uint8Array, owner?: string): ResourceRecord[] {
  const reader = new Reader(bytes);
  const count = reader.u16();
  const records = new Array<ResourceRecord>(count);
  for (let i = 0; i < count; i++) {
    const spelled = owner === undefined ? -1 : spells(bytes, reader.offset, owner);
    // The owner as the caller has it already: one string shared, instead of one built per record.
    const name = spelled < 0 ? reader.name() : (reader.take(spelled - reader.offset), owner!);
    const type = reader.u16();
    const rrClass = reader.u16();
    const ttl = reader.u32();
    const rdlength = reader.u16();
    records[i] = { name, class: rrClass, ttl, data: decodeRData(reader, type, rdlength) };
  }
  return records;
}

/**
 * Where the uncompressed name at `pos` ends when it spells `text` exactly (same case, plain labels
 * between its dots, no escapes in `text`), or -1.
 */
function spells(bytes: Uint8Array, pos: number, text: string): number {
  let at = 0;
  while (at < text.length) {
    const length = bytes[pos];
    if (length === undefined || length === 0 || length > 63) return -1;
    if (at + length > text.length) return -1;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(at + i);
      if (code === 0x2e || code === 0x5c || bytes[pos + 1 + i] !== code) return -1;
    }
    pos += length + 1;
    at += length;
    if (at < text.length) {
      if (text.charCodeAt(at) !== 0x2e) return -1;
      at++;
      if (at === text.length) return -1; // a trailing dot: not a key
    }
  }
  return bytes[pos] === 0 ? pos + 1 : -1;
}
