/**
 * The secondary zones (`--secondary ZONE=HOST:PORT[@KEY]`): each loaded from its copy in
 * `--secondary-dir` at start, then kept in step with its primary by the SOA timers (RFC 1034
 * section 4.3.5) and by NOTIFY (RFC 1996). A zone not yet loaded, or expired, is answered SERVFAIL.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  FormatError,
  type Message,
  nameKey,
  NotAuthoritative,
  Opcode,
  parentName,
  parseIPv4,
  parseIPv6,
  Refused,
  reply,
  RRType,
} from "../proto/mod.ts";
import type { Request } from "../resolve/mod.ts";
import type { TsigKey, TsigKeyring, UnixClock } from "../tsig/mod.ts";
import type { Zone } from "../zone/mod.ts";
import { TransferError } from "./errors.ts";
import { refreshZone, type RunStep } from "./refresh.ts";
import { bootstrapRetryMs, soaTimers } from "./secondary_timers.ts";
import { type Connect, connectTcp, formatPrimary } from "./tcp_stream.ts";
import type { TransferClientOptions } from "./transfer_client.ts";
import { readZoneFile, writeZoneFile, zoneFileName } from "./zone_file.ts";

const log = getLogger(["dnsd", "xfr"]);

/** One `--secondary` zone. */
export interface SecondaryZoneConfig {
  /** The apex, without its trailing dot. */
  readonly zone: string;
  /** The primary; its hostname is an IP literal. */
  readonly primary: Deno.NetAddr;
  /** Signs the requests to the primary and checks its answers and NOTIFYs, when set. */
  readonly key?: TsigKey;
}

/**
 * Calls `fn` after `ms` milliseconds; the function returned cancels it (harmless once it fired).
 * Injected so tests can run hours of SOA timers in milliseconds.
 */
export type SetTimer = (fn: () => void, ms: number) => () => void;

/** How {@link Secondaries} runs. */
export interface SecondariesOptions {
  /** The zones. */
  readonly zones: readonly SecondaryZoneConfig[];
  /** Where each zone's copy is kept (`--secondary-dir`); null: nothing is written or read. */
  readonly dir: string | null;
  /** Every `--tsig-key`: when it holds any, a NOTIFY must be signed. */
  readonly keyring: TsigKeyring;
  /** Milliseconds on a monotonic clock, for expiry; `performance.now` by default. */
  readonly clock?: () => number;
  /** Seconds since the epoch, for TSIG. */
  readonly unixClock?: UnixClock;
  /** The deadline of each step (the SOA query, a transfer); 60 s by default. */
  readonly timeoutMs?: number;
  /** The most octets one transfer may bring; 512 MiB by default. */
  readonly maxTransferBytes?: number;
  /** Told each time a zone is (re)loaded, so the server swaps it in. */
  readonly onZone?: (zone: Zone) => void;
  /** Told when a zone expires (by apex key): the server stops serving it until `onZone` says otherwise. */
  readonly onExpire?: (key: string) => void;
  /** Opens TCP connections to primaries; `Deno.connect` by default. */
  readonly connect?: Connect;
  /** The refresh, retry, expiry and deadline timers; `setTimeout` by default. */
  readonly setTimer?: SetTimer;
  /** Request IDs; random by default. */
  readonly nextId?: () => number;
}

/** What the manager holds for one zone. */
interface ZoneState {
  readonly config: SecondaryZoneConfig;
  readonly key: string;
  zone: Zone | null;
  /** When the zone expires, on `clock`. */
  expiresAt: number;
  cancelRefresh: () => void;
  cancelExpire: () => void;
  running: Promise<void> | null;
  /** A NOTIFY (or `refreshNow`) came while a refresh ran: one more after it. */
  again: boolean;
  /** Failed tries since the last success. */
  failures: number;
}

function setTimer(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
}

function nothing(): void {}

function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/** An address as octets, so `::ffff:192.0.2.1` and `192.0.2.1` are one host. */
function hostKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const octets = parseIPv4(mapped ? mapped[1]! : address) ?? parseIPv6(address);
  return octets ? octets.join(".") : address.toLowerCase();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** All the secondary zones: their copies, timers, transfers and NOTIFYs. */
export class Secondaries {
  readonly #states: ReadonlyMap<string, ZoneState>;
  readonly #options: SecondariesOptions;
  readonly #clock: () => number;
  readonly #setTimer: SetTimer;
  readonly #closing = new AbortController();

  /** Holds the zones; nothing runs before {@link start}. */
  constructor(options: SecondariesOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => performance.now());
    this.#setTimer = options.setTimer ?? setTimer;
    this.#states = new Map(options.zones.map((config): [string, ZoneState] => {
      const key = nameKey(config.zone);
      return [key, {
        config,
        key,
        zone: null,
        expiresAt: -Infinity,
        cancelRefresh: nothing,
        cancelExpire: nothing,
        running: null,
        again: false,
        failures: 0,
      }];
    }));
  }

  /** Serves each zone's copy from the folder, when there is a good one, then refreshes every zone. */
  async start(): Promise<void> {
    const dir = this.#options.dir;
    if (dir !== null) {
      for (const state of this.#states.values()) await this.#loadCopy(state, dir);
    }
    for (const state of this.#states.values()) this.refreshNow(state.key);
  }

  /** The zones loaded and not expired, by apex key. */
  zones(): ReadonlyMap<string, Zone> {
    const live = new Map<string, Zone>();
    for (const state of this.#states.values()) if (this.#live(state)) live.set(state.key, state.zone!);
    return live;
  }

  /**
   * Whether a query for `qname` must be answered SERVFAIL: it is at or below a secondary zone (the
   * deepest that holds it) that is not loaded yet, or has expired.
   */
  servfail(qname: string): boolean {
    const key = nameKey(qname);
    for (let name = key;; name = parentName(name)) {
      const state = this.#states.get(name);
      if (state) return !this.#live(state);
      if (name === "") return false;
    }
  }

  /**
   * Answers a NOTIFY (RFC 1996 section 3): for a secondary zone, from its primary and signed as
   * required, a NOERROR answer and a refresh now.
   * @throws {NotAuthoritative} for a zone that is not a secondary zone here
   * @throws {Refused} from any other address, unsigned when keys are set, or signed with another key than the zone's
   * @throws {FormatError} for a NOTIFY without one SOA question
   */
  notify(request: Request): Promise<Message> {
    const message = request.message;
    const question = message.questions[0];
    if (message.opcode !== Opcode.NOTIFY || message.questions.length !== 1 || question!.type !== RRType.SOA) {
      return Promise.reject(new FormatError("a NOTIFY asks about one SOA (RFC 1996 section 3.7)"));
    }
    const state = this.#states.get(nameKey(question!.name));
    if (!state) return Promise.reject(new NotAuthoritative(`not a secondary for ${question!.name || "."}`));
    const from = request.client.hostname;
    if (hostKey(from) !== hostKey(state.config.primary.hostname)) {
      return Promise.reject(new Refused(`NOTIFY for ${state.key || "."} from ${from}, not its primary`));
    }
    const wanted = state.config.key;
    if ((wanted || this.#options.keyring.size > 0) && !request.tsig) {
      return Promise.reject(new Refused(`an unsigned NOTIFY for ${state.key || "."}`));
    }
    if (wanted && request.tsig!.key.name !== wanted.name) {
      return Promise.reject(new Refused(`NOTIFY for ${state.key || "."} signed with another key`));
    }
    this.refreshNow(state.key);
    return Promise.resolve(reply(message, { authoritative: true }));
  }

  /** Refreshes `zone` now, or once more after the refresh running. */
  refreshNow(zone: string): void {
    const state = this.#states.get(nameKey(zone));
    if (!state || this.#closing.signal.aborted) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.cancelRefresh();
    state.running = this.#run(state).finally(() => (state.running = null));
  }

  /** Resolves when no refresh is running (one a NOTIFY queued included). */
  async idle(): Promise<void> {
    let running = [...this.#states.values()].filter((state) => state.running);
    while (running.length > 0) {
      await Promise.all(running.map((state) => state.running));
      running = [...this.#states.values()].filter((state) => state.running);
    }
  }

  /** Stops every timer and transfer, and waits for them to end. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const state of this.#states.values()) {
      state.cancelRefresh();
      state.cancelExpire();
    }
    await Promise.all([...this.#states.values()].map((state) => state.running));
  }

  #live(state: ZoneState): boolean {
    return state.zone !== null && this.#clock() < state.expiresAt;
  }

  async #loadCopy(state: ZoneState, dir: string): Promise<void> {
    const file = `${dir}/${zoneFileName(state.key)}`;
    try {
      const zone = await readZoneFile(dir, state.key);
      if (!zone) return;
      state.zone = zone;
      this.#contacted(state);
      log.info("Zone {zone} serial {serial} loaded from {file}", {
        zone: zone.apex || ".",
        serial: zone.soa.data.serial,
        file,
      });
      this.#options.onZone?.(zone);
    } catch (error) {
      log.warning("Ignoring the copy of zone {zone} in {file}: {error}", {
        zone: state.key || ".",
        file,
        error: errorText(error),
      });
    }
  }

  /** Refreshes until no further refresh was asked for while one ran. */
  async #run(state: ZoneState): Promise<void> {
    do {
      state.again = false;
      await this.#refreshOnce(state);
    } while (state.again && !this.#closing.signal.aborted);
  }

  async #refreshOnce(state: ZoneState): Promise<void> {
    const primary = formatPrimary(state.config.primary);
    const zone = state.key || ".";
    try {
      const outcome = await refreshZone(
        state.config.primary,
        state.key,
        state.zone,
        this.#step(state),
        (error) =>
          log.warning("IXFR of zone {zone} from {primary} failed, trying AXFR: {error}", {
            zone,
            primary,
            error: error.message,
          }),
      );
      const wasLive = this.#live(state);
      if (outcome.kind === "loaded") await this.#install(state, outcome.zone, outcome.transfer);
      state.failures = 0;
      this.#contacted(state);
      // Expired, and the primary is back with the serial held: that copy is current again, and
      // the server (which dropped it at expiry) is told so, as by a transfer.
      if (outcome.kind !== "loaded" && !wasLive && state.zone) this.#revive(state, state.zone);
      this.#schedule(state, soaTimers(state.zone!.soa.data).refreshMs);
    } catch (error) {
      if (this.#closing.signal.aborted) return;
      state.failures++;
      if (error instanceof TransferError) {
        log.warning("Refresh of zone {zone} from {primary} failed: {error}", {
          zone,
          primary,
          error: error.message,
        });
      } else {
        // A bug, not the primary's doing: said loudly, and the zone keeps its timers all the same.
        log.error("Refresh of zone {zone} from {primary} failed unexpectedly: {error}", {
          zone,
          primary,
          error,
        });
      }
      const wait = state.zone ? soaTimers(state.zone.soa.data).retryMs : bootstrapRetryMs(state.failures);
      this.#schedule(state, wait);
    }
  }

  /** One step's options: its own deadline (also ended by `close()`) and request ID. */
  #step(state: ZoneState): RunStep {
    const { keyring, timeoutMs = 60_000, maxTransferBytes = 512 * 1024 * 1024 } = this.#options;
    return async <T>(step: (options: TransferClientOptions) => Promise<T>): Promise<T> => {
      const deadline = new AbortController();
      const abort = () => deadline.abort();
      const cancel = this.#setTimer(abort, timeoutMs);
      this.#closing.signal.addEventListener("abort", abort, { once: true });
      try {
        return await step({
          connect: this.#options.connect ?? connectTcp,
          signal: deadline.signal,
          hmacs: keyring.hmacs,
          unixClock: this.#options.unixClock ?? (() => Math.floor(Date.now() / 1000)),
          maxBytes: maxTransferBytes,
          id: (this.#options.nextId ?? randomId)(),
          ...(state.config.key ? { key: state.config.key } : {}),
        });
      } finally {
        cancel();
        this.#closing.signal.removeEventListener("abort", abort);
      }
    };
  }

  async #install(state: ZoneState, zone: Zone, kind: string): Promise<void> {
    state.zone = zone;
    // Live from now, by the new SOA's EXPIRE: a first copy must not wait for its file to be written.
    this.#contacted(state);
    log.info("Zone {zone} serial {serial} transferred from {primary} ({kind}, {records} records)", {
      zone: zone.apex || ".",
      serial: zone.soa.data.serial,
      primary: formatPrimary(state.config.primary),
      kind,
      records: zone.size,
    });
    this.#options.onZone?.(zone);
    const dir = this.#options.dir;
    if (dir === null) return;
    try {
      await writeZoneFile(dir, zone);
    } catch (error) {
      log.warning("Cannot write the copy of zone {zone} in {dir}: {error}", {
        zone: zone.apex || ".",
        dir,
        error: errorText(error),
      });
    }
  }

  #revive(state: ZoneState, zone: Zone): void {
    log.info("Zone {zone} serial {serial} is current at {primary} again: served again", {
      zone: zone.apex || ".",
      serial: zone.soa.data.serial,
      primary: formatPrimary(state.config.primary),
    });
    this.#options.onZone?.(zone);
  }

  /** The primary answered (or a good copy was read): the zone is good for another EXPIRE. */
  #contacted(state: ZoneState): void {
    const { expireMs } = soaTimers(state.zone!.soa.data);
    state.expiresAt = this.#clock() + expireMs;
    state.cancelExpire();
    state.cancelExpire = this.#setTimer(() => this.#expired(state), expireMs);
  }

  #expired(state: ZoneState): void {
    if (this.#live(state) || this.#closing.signal.aborted) return;
    log.warning("Zone {zone} expired: no answer from {primary} for its SOA EXPIRE", {
      zone: state.key || ".",
      primary: formatPrimary(state.config.primary),
    });
    this.#options.onExpire?.(state.key);
  }

  #schedule(state: ZoneState, ms: number): void {
    if (this.#closing.signal.aborted) return;
    state.cancelRefresh();
    state.cancelRefresh = this.#setTimer(() => this.refreshNow(state.key), ms);
  }
}
