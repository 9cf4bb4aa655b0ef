/**
 * The IXFR journal (RFC 1995 section 4): for each zone, the differences between its versions, kept
 * as zones reload with newer serials, so a secondary a few versions behind gets only what changed.
 * Bounded by records per zone: the oldest differences go first (as Knot's journal and NSD's
 * `ixfr-size`). A difference is computed once, when the new version is loaded.
 * @module
 */
import type { ResourceRecord } from "../proto/mod.ts";
import type { Zone } from "../zone/mod.ts";
import { recordKey, recordsBesideSoa } from "./zone_records.ts";

/** One version to the next: the SOA before and after, and the other records removed and added. */
export interface ZoneDifference {
  readonly from: Zone["soa"];
  readonly to: Zone["soa"];
  readonly removed: readonly ResourceRecord[];
  readonly added: readonly ResourceRecord[];
}

/** The records of a difference, its two SOAs included: what it costs to keep and to send. */
export function differenceSize(difference: ZoneDifference): number {
  return difference.removed.length + difference.added.length + 2;
}

/** What changed from `before` to `after` (the same zone, the serial newer). */
export function differenceOf(before: Zone, after: Zone): ZoneDifference {
  const old = new Map<string, ResourceRecord>();
  for (const record of recordsBesideSoa(before)) old.set(recordKey(record), record);
  const added: ResourceRecord[] = [];
  for (const record of recordsBesideSoa(after)) {
    const key = recordKey(record);
    if (!old.delete(key)) added.push(record);
  }
  return { from: before.soa, to: after.soa, removed: [...old.values()], added };
}

/** The differences of every zone, each zone's bounded. */
export class Journal {
  readonly #maxRecords: number;
  readonly #zones = new Map<string, ZoneDifference[]>();

  /** @param maxRecords the most records (removed, added and SOAs) kept per zone; 0 keeps none */
  constructor(maxRecords: number) {
    this.#maxRecords = maxRecords;
  }

  /** Whether any difference is kept at all (`--journal-size 0` keeps none: no difference is computed). */
  get enabled(): boolean {
    return this.#maxRecords > 0;
  }

  /** Keeps `difference` for the zone `key`, dropping the oldest kept ones past the bound. */
  add(key: string, difference: ZoneDifference): void {
    const kept = this.#zones.get(key) ?? [];
    const last = kept.at(-1);
    // A version that does not follow the last kept one breaks the chain: start again from it.
    const chain = last && last.to.data.serial === difference.from.data.serial
      ? [...kept, difference]
      : [difference];
    let total = chain.reduce((sum, each) => sum + differenceSize(each), 0);
    while (chain.length > 0 && total > this.#maxRecords) total -= differenceSize(chain.shift()!);
    if (chain.length === 0) this.#zones.delete(key);
    else this.#zones.set(key, chain);
  }

  /** Forgets a zone's differences (it was replaced by something that is not a newer version). */
  forget(key: string): void {
    this.#zones.delete(key);
  }

  /** The differences from `serial` to the newest, in order; null when the journal does not go back to it. */
  since(key: string, serial: number): readonly ZoneDifference[] | null {
    const kept = this.#zones.get(key);
    if (!kept) return null;
    const start = kept.findIndex((difference) => difference.from.data.serial === serial);
    return start < 0 ? null : kept.slice(start);
  }
}
