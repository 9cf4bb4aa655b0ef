/**
 * Zone transfers for one server, put together: the zones served (files and secondaries), the
 * journal and NOTIFY following their versions, the AXFR/IXFR handler, and TSIG settings.
 * @module
 */
import { type Message, nameKey, NotAuthoritative, Refused } from "../proto/mod.ts";
import { PrefixSet } from "../policy/mod.ts";
import type { Request } from "../resolve/mod.ts";
import { type TsigKey, TsigKeyring, type UnixClock } from "../tsig/mod.ts";
import { type LocalData, withZones, type Zone } from "../zone/mod.ts";
import { Journal } from "./journal.ts";
import { Notifier } from "./notify_out.ts";
import { Secondaries } from "./secondaries.ts";
import { transferHandler, type WriteTransfer } from "./transfer_out.ts";
import { ZoneVersions } from "./zone_versions.ts";

/** The transfer settings (`--allow-transfer`, `--notify`, `--tsig-key`, `--journal-size`). */
export interface TransferConfig {
  /** CIDRs that may transfer zones. */
  readonly allowTransfer: readonly string[];
  /** Where NOTIFY goes when a zone changes. */
  readonly notify: readonly { readonly hostname: string; readonly port: number }[];
  /** TSIG keys: with any, transfers and NOTIFY must be signed. */
  readonly keys: readonly TsigKey[];
  /** The most records of differences kept per zone for IXFR. */
  readonly journalSize: number;
  /** Seconds since the epoch (TSIG); `Date.now` by default. */
  readonly unixClock?: UnixClock;
  /** NOTIFY retry interval (ms) and retries; 5 s and 5 by default. */
  readonly notifyRetryMs?: number;
  /** `--secondary`: zones taken from primaries. */
  readonly secondaries: readonly {
    readonly zone: string;
    readonly primary: { readonly hostname: string; readonly port: number };
    readonly key: TsigKey | null;
  }[];
  /** `--secondary-dir`: where their copies are kept; null: nowhere. */
  readonly secondaryDir: string | null;
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** The transfers side of a server. */
export class ZoneTransfers {
  readonly keyring: TsigKeyring;
  readonly unixClock: UnixClock;
  readonly journal: Journal;
  readonly #notifier: Notifier | null;
  readonly #versions: ZoneVersions;
  readonly #fileData: () => LocalData;
  readonly #secondaries: Secondaries | null;
  /** The secondary zones served now: a new map on each change, so the merged data is made once per change. */
  #secondaryZones: ReadonlyMap<string, Zone> = EMPTY;
  #merged: { files: LocalData; secondary: ReadonlyMap<string, Zone>; data: LocalData } | null = null;
  /** The AXFR/IXFR handler. */
  readonly transfer: (request: Request, write: WriteTransfer | null) => Promise<Message | null>;

  /**
   * @param config the settings
   * @param fileData the data loaded from files, as swapped by reloads
   * @throws {PrefixError} for a bad `--allow-transfer` CIDR
   */
  constructor(config: TransferConfig, fileData: () => LocalData) {
    this.keyring = new TsigKeyring(config.keys);
    this.unixClock = config.unixClock ?? unixNow;
    this.journal = new Journal(config.journalSize);
    this.#fileData = fileData;
    this.#notifier = config.notify.length === 0 ? null : new Notifier({
      targets: config.notify.map(({ hostname, port }) => ({ transport: "udp" as const, hostname, port })),
      keyring: this.keyring,
      unixClock: this.unixClock,
      ...(config.notifyRetryMs !== undefined ? { retryMs: config.notifyRetryMs } : {}),
    });
    const notifier = this.#notifier;
    this.#versions = new ZoneVersions({
      journal: this.journal,
      ...(notifier ? { changed: (zone: Zone) => void notifier.notify(zone) } : {}),
    });
    this.#secondaries = config.secondaries.length === 0 ? null : new Secondaries({
      zones: config.secondaries.map(({ zone, primary, key }) => ({
        zone,
        primary: { transport: "tcp" as const, hostname: primary.hostname, port: primary.port },
        ...(key ? { key } : {}),
      })),
      dir: config.secondaryDir,
      keyring: this.keyring,
      unixClock: this.unixClock,
      onZone: (zone) => this.#secondaryChanged(zone.key, zone),
      onExpire: (key) => this.#secondaryChanged(key, null),
    });
    const allowed = PrefixSet.parse(config.allowTransfer);
    this.transfer = transferHandler({
      zone: (key) => this.localData().zones.get(key),
      journal: this.journal,
      allowed: (client) => allowed.hasClient(client),
      signatureRequired: () => this.keyring.size > 0,
    });
  }

  /** A secondary zone loaded (or, with null, expired): served, journaled and NOTIFYed as a file's would be. */
  #secondaryChanged(key: string, zone: Zone | null): void {
    const zones = new Map(this.#secondaryZones);
    if (zone) zones.set(key, zone);
    else zones.delete(key);
    this.#secondaryZones = zones;
    this.zonesChanged();
  }

  /** Serves the secondary zones' copies on disk and starts refreshing them from their primaries. */
  async start(): Promise<void> {
    await this.#secondaries?.start();
  }

  /** Whether `name` is in a secondary zone with no copy to serve (SERVFAIL); null when there are none. */
  get zoneNotReady(): ((name: string) => boolean) | null {
    const secondaries = this.#secondaries;
    return secondaries ? (name) => secondaries.servfail(name) : null;
  }

  /** The data to answer from: the files' and the secondary zones, merged once per change of either. */
  localData(): LocalData {
    const files = this.#fileData();
    const secondary = this.#secondaryZones;
    const merged = this.#merged;
    if (merged && merged.files === files && merged.secondary === secondary) return merged.data;
    const data = secondary.size === 0 ? files : withZones(files, [...secondary.values()]);
    this.#merged = { files, secondary, data };
    return data;
  }

  /** Looks at the zones served now: a newer serial goes to the journal and NOTIFY. Call after each swap. */
  zonesChanged(): void {
    this.#versions.update(this.localData().zones);
  }

  /** The NOTIFY handler: for a secondary zone, the secondaries answer; anything else is not ours. */
  notify(request: Request): Promise<Message> {
    if (this.#secondaries) return this.#secondaries.notify(request);
    if (this.keyring.size > 0 && !request.tsig) {
      return Promise.reject(new Refused("NOTIFY needs a TSIG signature"));
    }
    const name = request.message.questions[0]!.name;
    return Promise.reject(new NotAuthoritative(`not a secondary for "${nameKey(name)}"`));
  }

  /** Stops NOTIFY rounds and the secondaries' refreshes. */
  async close(): Promise<void> {
    this.#notifier?.close();
    await this.#secondaries?.close();
  }
}

const EMPTY: ReadonlyMap<string, Zone> = new Map();
