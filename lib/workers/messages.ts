/**
 * What the main thread and its workers say to each other (`postMessage`, structured clone). Local
 * data and blocklists travel as arrays in shared memory, so a message carrying them copies only
 * their small parts (see lib/zone/shared_data.ts, lib/block/blocklist.ts).
 * @module
 */
import type { SharedBlockPolicy } from "../block/mod.ts";
import type { ServeCommand } from "../config/mod.ts";
import type { BindAddress } from "../net/mod.ts";
import type { Message, ResourceRecord } from "../proto/mod.ts";
import type { Request } from "../resolve/mod.ts";
import type { ServerFigures } from "../server/mod.ts";
import type { SharedLocalData } from "../zone/mod.ts";

/** What a worker starts with: everything the main thread's server was started with that a worker needs. */
export interface WorkerStart {
  readonly kind: "start";
  /** The worker's number (1 and up; the main thread is 0). */
  readonly worker: number;
  /** The configuration in force. */
  readonly command: ServeCommand;
  /** The addresses the main thread bound, ports as bound: the worker's sockets join their groups. */
  readonly listen: readonly BindAddress[];
  /** The trust anchors (`--dnssec`), read by the main thread; null when not validating. */
  readonly anchors: readonly ResourceRecord[] | null;
  /** The CA certificates of encrypted upstreams, read by the main thread. */
  readonly upstreamCa: readonly string[];
  /** dnsd's version, for CHAOS `version.bind`. */
  readonly version: string;
  /** The seed every server cookie secret is drawn from, the same in every worker (none with `--cookie-secret`). */
  readonly cookieSeed: Uint8Array;
  /** The local data and lists in force. */
  readonly data: SharedLocalData;
  readonly blocking: SharedBlockPolicy;
  /** Secondary zones with no copy to serve, by apex key: their names get SERVFAIL. */
  readonly notReady: readonly string[];
}

/** New data, lists or settings (a reload, a zone transfer); `seq` is acknowledged once in force. */
export interface WorkerUpdate {
  readonly kind: "update";
  readonly seq: number;
  readonly command?: ServeCommand;
  readonly data?: SharedLocalData;
  readonly blocking?: SharedBlockPolicy;
  readonly notReady?: readonly string[];
}

/** A question to a worker, answered by a {@link WorkerReply} of the same `seq`. */
export type WorkerAsk =
  | { readonly kind: "figures"; readonly seq: number }
  | { readonly kind: "flush"; readonly seq: number; readonly name?: string }
  | { readonly kind: "reopen-logs"; readonly seq: number }
  /** How long the worker's thread has run or waited to run (`cpu` in the reply): how busy its loop is. */
  | { readonly kind: "cpu"; readonly seq: number }
  | { readonly kind: "stop"; readonly seq: number; readonly graceMs: number };

/** What the main thread sends a worker. */
export type ToWorker =
  | WorkerStart
  | WorkerUpdate
  | WorkerAsk
  | { readonly kind: "relayed"; readonly seq: number; readonly reply: RelayedReply };

/** The handlers a worker passes requests on to: the main thread holds the zones' transfers and secondaries. */
export type RelayedHandler = "notify" | "transfer";

/** A request relayed from a worker: as a stage saw it, without its trace. */
export type RelayedRequest = Omit<Request, "trace">;

/** The main thread's answer to a relayed request: a message, or the error a stage threw (by class name). */
export type RelayedReply =
  | { readonly ok: true; readonly message: Message | null }
  | { readonly ok: false; readonly name: string; readonly message: string };

/** What a worker sends the main thread. */
export type FromWorker =
  | { readonly kind: "started" }
  | { readonly kind: "failed"; readonly message: string }
  | {
    readonly kind: "done";
    readonly seq: number;
    readonly count?: number;
    readonly figures?: ServerFigures;
    /** Seconds run or waiting to run, for a "cpu" question (NaN where it cannot be read). */
    readonly cpu?: number;
  }
  /**
   * A NOTIFY, or an AXFR or IXFR over UDP, that reached the worker: the main thread holds the
   * secondary zones and the transfers (lib/xfr).
   */
  | {
    readonly kind: "relay";
    readonly seq: number;
    readonly handler: RelayedHandler;
    readonly request: RelayedRequest;
  };
