/**
 * A run of records as wire octets, without a message around it: a 16-bit count, then each record
 * as a message holds it, but no name compressed: a pointer would give a name the case of the
 * earlier one it points to, and a zone's records keep the case they were written in. An owner
 * spelled exactly as the run's key (the usual zone file, in lower case) is written as the two
 * octets 0xC0 0x00, which no name in a run can be (a pointer to the count), and read back as the
 * key the caller gives: two octets where the name takes a dozen or more, and no name written or
 * decoded. The compact form a zone keeps a name's records in (lib/zone/packed_nodes.ts), a few
 * dozen octets where the decoded objects take hundreds. Pure.
 * @module
 */
import { encodeRecord } from "./codec.ts";
import { decodeRData } from "./rdata.ts";
import { type ResourceRecord, RRType } from "./types.ts";
import { DecodeError } from "./errors.ts";
import { CompressionTable, Reader, Writer } from "./wire.ts";

/** The first octet of an owner written as the key: a compression pointer's tag. */
const KEY_OWNER = 0xc0;

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
  /** Where {@link writeAddress} writes: an AAAA record's run, the longer, is 30 octets. */
  readonly #address = new Uint8Array(30);
  /** The run of an A record: the first 18 octets, a view made once (one per call cost as much as the run). */
  readonly #addressA = this.#address.subarray(0, 18);

  /**
   * The run of the records of `sets`, in order (a zone node's RRsets, say), each owner spelled as
   * `key` written as the key: a view of the scratch buffer, valid until the next call (copy it to
   * keep it).
   * @throws {EncodeError} for a record that cannot be written
   */
  write(sets: readonly { readonly records: readonly ResourceRecord[] }[], key: string): Uint8Array {
    const writer = new Writer(this.#scratch, this.#names);
    let count = 0;
    for (const set of sets) count += set.records.length;
    writer.u16(count);
    for (const set of sets) {
      for (const record of set.records) {
        if (record.name !== key) {
          encodeRecord(writer, record);
          continue;
        }
        writer.u16(KEY_OWNER << 8);
        encodeRecord(writer, record, false);
      }
    }
    const run = writer.finish();
    // The writer grew a buffer of its own for a big run: keep it for the next.
    if (run.buffer !== this.#scratch.buffer) this.#scratch = new Uint8Array(run.buffer);
    return run;
  }

  /**
   * The run {@link write} makes of one A (`ipv6` null: `ipv4`, a 32-bit number) or AAAA record of
   * class IN owned by the key, written without a record to encode: the zone stream packs most
   * names of a large zone this way (lib/zone/zone_stream.ts). A view, valid until the next call.
   */
  writeAddress(ttl: number, ipv4: number, ipv6: Uint8Array | null): Uint8Array {
    const run = this.#address;
    // The count (1), the owner as the key, TYPE, CLASS IN: octet by octet, cheaper than a set().
    run[1] = 1;
    run[2] = KEY_OWNER;
    run[5] = ipv6 ? RRType.AAAA : RRType.A;
    run[7] = 1;
    run[8] = ttl >>> 24;
    run[9] = (ttl >>> 16) & 0xff;
    run[10] = (ttl >>> 8) & 0xff;
    run[11] = ttl & 0xff;
    if (ipv6) {
      run[13] = 16;
      run.set(ipv6, 14);
      return run;
    }
    run[13] = 4;
    run[14] = ipv4 >>> 24;
    run[15] = (ipv4 >>> 16) & 0xff;
    run[16] = (ipv4 >>> 8) & 0xff;
    run[17] = ipv4 & 0xff;
    return this.#addressA;
  }
}

/**
 * The records of a run written by {@link RecordRunWriter} for `key`: an owner written as the key
 * is given that string, one shared by every record rather than one decoded per record.
 * @throws {DecodeError} for octets that are not a run
 */
export function readRecordRun(bytes: Uint8Array, key: string): ResourceRecord[] {
  const reader = new Reader(bytes);
  const count = reader.u16();
  const records = new Array<ResourceRecord>(count);
  for (let i = 0; i < count; i++) {
    let name: string;
    if (bytes[reader.offset] === KEY_OWNER) {
      // Any other pointer: a run has no earlier name to point to.
      if (reader.u16() !== KEY_OWNER << 8) throw new DecodeError("bad-pointer", reader.offset - 2);
      name = key;
    } else {
      name = reader.name();
    }
    const type = reader.u16();
    const rrClass = reader.u16();
    const ttl = reader.u32();
    const rdlength = reader.u16();
    records[i] = { name, class: rrClass, ttl, data: decodeRData(reader, type, rdlength) };
  }
  return records;
}
