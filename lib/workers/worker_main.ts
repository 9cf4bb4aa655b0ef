/**
 * A worker's entry point (`--workers N`, each a Deno worker with its own event loop): a server
 * that answers UDP on the main thread's ports, its sockets joining their SO_REUSEPORT groups so
 * the kernel spreads the datagrams. It answers from the main thread's local data and lists (shared
 * memory, not copies) and keeps its own cache and upstream sockets. TCP, DoT, DoH, HTTP, zone
 * transfers and reloading stay on the main thread, which sends each change here; a NOTIFY that
 * lands here is passed to it.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type BlockPolicy, blockPolicyFromShared } from "../block/mod.ts";
import { forwardingChanges, type ServeCommand } from "../config/mod.ts";
import { ThreadCpuClock } from "../net/mod.ts";
import { logToStderr } from "../observe/mod.ts";
import { type Message, nameKey, parentName, Refused } from "../proto/mod.ts";
import type { Request } from "../resolve/mod.ts";
import { type RunningServer, startServer } from "../server/mod.ts";
import { TsigKeyring } from "../tsig/mod.ts";
import { type LocalData, localDataFromShared } from "../zone/mod.ts";
import { seededDraws } from "./cookie_draws.ts";
import type { FromWorker, ToWorker, WorkerAsk, WorkerStart, WorkerUpdate } from "./messages.ts";
import { RelayedCalls } from "./relay.ts";

/** What the worker's global scope offers (a Deno worker's `self`). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}

/** The state a worker's server reads through its getters; each update swaps a field whole. */
interface Current {
  command: ServeCommand;
  data: LocalData;
  blocking: BlockPolicy;
  notReady: ReadonlySet<string>;
}

/** Whether `qname` is in a secondary zone (of `apexes`) with no copy to serve now. */
function notServed(apexes: ReadonlySet<string>, notReady: ReadonlySet<string>, qname: string): boolean {
  for (let name = nameKey(qname);; name = parentName(name)) {
    if (apexes.has(name)) return notReady.has(name);
    if (name === "") return false;
  }
}

/** A relayed NOTIFY's answer: the main thread's handler always answers with a message. */
function answered(message: Message | null): Message {
  if (message === null) throw new Error("the main thread answered a NOTIFY with nothing");
  return message;
}

/** Bytes of a throwaway buffer that tells V8 this worker holds much memory outside its heap. */
const PRESSURE_BYTES = 64 << 20;

/**
 * Lets this worker's collector run soon. Replaced data in shared memory is freed only once every
 * thread that saw it has collected its handles, and an idle worker allocates so little that its
 * collector would wait for a long time: 120 reloads of a 100,000-record zone held 575 MiB with two
 * workers, against 233-248 with one. A buffer of 64 MiB (never touched, so never resident) passes
 * V8's limit of memory held outside the heap, which starts a collection: 262-272 MiB. (`gc()` would
 * need `--expose-gc` on every command line that starts dnsd.)
 */
function askForCollection(): void {
  new Uint8Array(new ArrayBuffer(PRESSURE_BYTES)).length;
}

/** Runs a worker in `scope` (the worker's `self`) until the main thread stops it. */
export function runWorker(scope: WorkerScope): void {
  const post = (message: FromWorker) => scope.postMessage(message);
  const relay = new RelayedCalls((seq, handler, request) => post({ kind: "relay", seq, handler, request }));
  let server: RunningServer | undefined;
  let current: Current | undefined;
  // Opened on the first "cpu" question (--workers-busy): workers run only with batched UDP, so FFI is there.
  let clock: ThreadCpuClock | undefined;

  function start(message: WorkerStart): void {
    const { command } = message;
    logToStderr(command.logLevel);
    const state: Current = {
      command,
      data: localDataFromShared(message.data),
      blocking: blockPolicyFromShared(message.blocking),
      notReady: new Set(message.notReady),
    };
    current = state;
    const apexes = new Set(command.transfers.secondaries.map((secondary) => nameKey(secondary.zone)));
    const keyring = new TsigKeyring(command.transfers.keys);
    server = startServer({
      ...command,
      dnssec: message.anchors ? { anchors: message.anchors } : null,
      upstreamCa: message.upstreamCa,
      listen: message.listen,
      udpIo: "batched",
      reusePort: true,
      udpOnly: true,
      localData: () => state.data,
      blockPolicy: () => state.blocking,
      local: () => state.command,
      version: message.version,
      // NOTIFY and transfers over UDP are the main thread's (a transfer over TCP never comes here).
      handlers: {
        notify: (request: Request) => relay.call("notify", request).then(answered),
        transfer: (request: Request, write) =>
          write ? Promise.reject(new Refused("no transfers over TCP here")) : relay.call("transfer", request),
      },
      tsig: { keyring, clock: () => Math.floor(Date.now() / 1000) },
      ...(apexes.size > 0 ? { zoneNotReady: (name: string) => notServed(apexes, state.notReady, name) } : {}),
      ...(command.cookies.secrets.length === 0 ? { cookieRandom: seededDraws(message.cookieSeed) } : {}),
    });
    post({ kind: "started" });
  }

  function update(message: WorkerUpdate): void {
    const state = current!;
    if (message.data) state.data = localDataFromShared(message.data);
    if (message.blocking) state.blocking = blockPolicyFromShared(message.blocking);
    if (message.notReady) state.notReady = new Set(message.notReady);
    if (message.command) {
      if (message.command.logLevel !== state.command.logLevel) logToStderr(message.command.logLevel);
      const forwarding = forwardingChanges(state.command, message.command);
      state.command = message.command;
      if (forwarding) server!.reconfigure(forwarding.settings);
    }
    post({ kind: "done", seq: message.seq });
    if (message.data || message.blocking) askForCollection();
  }

  async function answer(ask: WorkerAsk): Promise<void> {
    const running = server!;
    switch (ask.kind) {
      case "figures":
        return post({ kind: "done", seq: ask.seq, figures: running.figures() });
      case "flush":
        return post({ kind: "done", seq: ask.seq, count: await running.flushCache(ask.name) });
      case "cpu":
        return post({ kind: "done", seq: ask.seq, cpu: (clock ??= new ThreadCpuClock()).seconds() });
      case "reopen-logs":
        await running.reopenLogs();
        return post({ kind: "done", seq: ask.seq });
      case "stop":
        await running.stop(ask.graceMs);
        clock?.close();
        return post({ kind: "done", seq: ask.seq });
    }
  }

  scope.onmessage = (event) => {
    const message = event.data;
    try {
      if (message.kind === "start") start(message);
      else if (message.kind === "update") update(message);
      else if (message.kind === "relayed") relay.settle(message.seq, message.reply);
      else {
        answer(message).catch((error) => {
          getLogger(["dnsd", "worker"]).error("A worker failed to {what}: {error}", {
            what: message.kind,
            error,
          });
          post({ kind: "done", seq: message.seq });
        });
      }
    } catch (error) {
      post({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
      // A change it could not take is still answered: the main thread does not wait for it in vain.
      if (message.kind === "update") post({ kind: "done", seq: message.seq });
    }
  };
}

if (import.meta.main) runWorker(self as unknown as WorkerScope);
