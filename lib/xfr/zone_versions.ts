/**
 * Follows the zones served as they are swapped (a reload, a secondary's transfer): a zone whose
 * serial went up has its difference kept in the journal and its NOTIFYs sent. A zone whose serial
 * went back (or jumped too far, RFC 1982) loses its journal: the differences kept no longer end at
 * what is served. One reloaded with the same serial keeps it: secondaries at that serial would not
 * ask anyway (NSD and Knot also go by the serial alone).
 * @module
 */
import type { Zone } from "../zone/mod.ts";
import { differenceOf, type Journal } from "./journal.ts";
import { serialNewer } from "../proto/mod.ts";

/** What happens when a zone changes. */
export interface ZoneVersionsOptions {
  readonly journal: Journal;
  /** Told each zone that is new or has a newer serial (NOTIFY). */
  readonly changed?: (zone: Zone) => void;
}

/** The zones last seen, to compare the next set with. */
export class ZoneVersions {
  readonly #options: ZoneVersionsOptions;
  #seen: ReadonlyMap<string, Zone> = new Map();

  constructor(options: ZoneVersionsOptions) {
    this.#options = options;
  }

  /** Compares the zones served now with those seen last. */
  update(zones: ReadonlyMap<string, Zone>): void {
    const { journal, changed } = this.#options;
    for (const [key, zone] of zones) {
      const before = this.#seen.get(key);
      if (before === zone) continue;
      if (!before) {
        changed?.(zone);
        continue;
      }
      if (serialNewer(zone.soa.data.serial, before.soa.data.serial)) {
        if (journal.enabled) journal.add(key, differenceOf(before, zone));
        changed?.(zone);
      } else if (zone.soa.data.serial !== before.soa.data.serial) {
        journal.forget(key);
      }
    }
    for (const key of this.#seen.keys()) if (!zones.has(key)) journal.forget(key);
    this.#seen = zones;
  }
}
