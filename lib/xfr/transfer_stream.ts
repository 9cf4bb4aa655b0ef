/**
 * Reading an AXFR or IXFR answer as a stream of records, message by message, and telling which
 * form it takes (pure: no I/O). AXFR: the zone's SOA, its records, the same SOA again (RFC 5936
 * section 2.2). IXFR (RFC 1995 section 4): the primary's SOA alone (up to date), or AXFR-style,
 * or the new SOA, then per version step [old SOA, deleted..., new SOA, added...], then the new SOA.
 * @module
 */
import { isAtOrBelow, nameKey, type ResourceRecord, RRClass } from "../proto/mod.ts";
import { TransferError } from "./errors.ts";
import { serialNewer } from "../proto/mod.ts";

/** An SOA record. */
export type SoaRecord = ResourceRecord & { readonly data: { readonly type: "SOA" } };

/** One step of an incremental transfer: from one version to the next. */
export interface IxfrDiff {
  /** The SOA of the version the step starts from. */
  readonly from: SoaRecord;
  /** The SOA of the version it makes. */
  readonly to: SoaRecord;
  /** The records the step removes. */
  readonly deleted: readonly ResourceRecord[];
  /** The records the step adds. */
  readonly added: readonly ResourceRecord[];
}

/** A complete transfer, by form. */
export type Transfer =
  /** An IXFR answered with the primary's SOA alone: we hold its version (or a newer one). */
  | { readonly kind: "up-to-date"; readonly soa: SoaRecord }
  /** The whole zone (an AXFR, or an IXFR answered AXFR-style): the SOA first, the closing SOA dropped. */
  | { readonly kind: "full"; readonly soa: SoaRecord; readonly records: readonly ResourceRecord[] }
  /** The changes since our version, step by step. */
  | { readonly kind: "incremental"; readonly soa: SoaRecord; readonly diffs: readonly IxfrDiff[] };

type Phase =
  | { readonly name: "start" }
  | { readonly name: "second" }
  | { readonly name: "full" }
  | { readonly name: "deleting"; readonly from: SoaRecord }
  | { readonly name: "adding"; readonly from: SoaRecord; readonly to: SoaRecord }
  | { readonly name: "done" };

/** The serial of an SOA record. */
export function serialOf(soa: SoaRecord): number {
  return soa.data.serial;
}

function isSoa(record: ResourceRecord): record is SoaRecord {
  return record.data.type === "SOA";
}

/**
 * Takes a transfer's messages in order and says when it is complete. Any record out of place
 * throws, so a reply that is not a well-formed transfer of the zone is never half used.
 */
export class TransferCollector {
  readonly #zone: string;
  readonly #ixfr: boolean;
  readonly #ourSerial: number | undefined;
  #phase: Phase = { name: "start" };
  #first: SoaRecord | undefined;
  #messages = 0;
  #records: ResourceRecord[] = [];
  #deleted: ResourceRecord[] = [];
  #added: ResourceRecord[] = [];
  readonly #diffs: IxfrDiff[] = [];
  #result: Transfer | undefined;

  /**
   * @param zone the zone asked for, as a name key
   * @param asked `ixfr` with the serial we hold, or `axfr`
   */
  constructor(
    zone: string,
    asked: { readonly kind: "axfr" } | { readonly kind: "ixfr"; readonly serial: number },
  ) {
    this.#zone = zone;
    this.#ixfr = asked.kind === "ixfr";
    this.#ourSerial = asked.kind === "ixfr" ? asked.serial : undefined;
  }

  /** Whether the transfer is complete. */
  get done(): boolean {
    return this.#result !== undefined;
  }

  /**
   * Takes the answer section of the next message.
   * @throws {TransferError} `malformed` for a record out of place, out of the zone or after the end
   */
  add(records: readonly ResourceRecord[]): void {
    if (this.#result) throw this.#malformed("a message after the transfer's closing SOA");
    this.#messages++;
    if (this.#messages === 1 && records.length === 0) {
      throw this.#malformed("an empty answer (the primary may have nothing to send)");
    }
    for (const record of records) this.#take(record);
    // RFC 1995 section 4: a first message holding only the SOA, of a version not newer than ours: up to date.
    const first = this.#first;
    if (
      this.#ixfr && this.#messages === 1 && this.#phase.name === "second" && first &&
      !serialNewer(serialOf(first), this.#ourSerial!)
    ) {
      this.#finish({ kind: "up-to-date", soa: first });
    }
  }

  /**
   * The complete transfer.
   * @throws {TransferError} `incomplete` when the closing SOA has not come
   */
  result(): Transfer {
    if (!this.#result) throw new TransferError("incomplete", "the transfer ended before its closing SOA");
    return this.#result;
  }

  #malformed(why: string): TransferError {
    return new TransferError("malformed", `not a transfer of ${this.#zone || "."}: ${why}`);
  }

  #finish(result: Transfer): void {
    this.#result = result;
    this.#phase = { name: "done" };
  }

  #take(record: ResourceRecord): void {
    if (this.#phase.name === "done") throw this.#malformed("records after the closing SOA");
    if (record.class !== RRClass.IN) throw this.#malformed(`a record of class ${record.class}`);
    const owner = nameKey(record.name);
    if (!isAtOrBelow(owner, this.#zone)) throw this.#malformed(`"${record.name}" is outside the zone`);
    if (isSoa(record) && owner !== this.#zone) {
      throw this.#malformed(`an SOA below the apex, at "${record.name}"`);
    }
    const phase = this.#phase;
    const first = this.#first;
    switch (phase.name) {
      case "start":
        if (!isSoa(record)) throw this.#malformed("the first record is not the zone's SOA");
        this.#first = record;
        this.#records = [record];
        this.#phase = { name: "second" };
        return;
      case "second":
        if (isSoa(record) && this.#ixfr && serialOf(record) !== serialOf(first!)) {
          this.#phase = { name: "deleting", from: record };
          return;
        }
        this.#phase = { name: "full" };
        return this.#take(record);
      case "full":
        if (!isSoa(record)) {
          this.#records.push(record);
          return;
        }
        if (serialOf(record) !== serialOf(first!)) {
          throw this.#malformed(`the closing SOA's serial ${serialOf(record)} is not ${serialOf(first!)}`);
        }
        return this.#finish({ kind: "full", soa: first!, records: this.#records });
      case "deleting":
        if (isSoa(record)) this.#phase = { name: "adding", from: phase.from, to: record };
        else this.#deleted.push(record);
        return;
      case "adding":
        if (!isSoa(record)) {
          this.#added.push(record);
          return;
        }
        this.#diffs.push({ from: phase.from, to: phase.to, deleted: this.#deleted, added: this.#added });
        this.#deleted = [];
        this.#added = [];
        // The newest version's SOA where a step would start is the end (RFC 1995 section 4).
        if (serialOf(record) === serialOf(first!)) {
          return this.#finish({ kind: "incremental", soa: first!, diffs: this.#diffs });
        }
        this.#phase = { name: "deleting", from: record };
        return;
    }
  }
}
