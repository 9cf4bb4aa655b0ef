/**
 * The UDP server loop: one receive loop per socket with one reused buffer; every query is
 * handled on its own, so a slow upstream never delays other answers and one failure never
 * stops the loop. Stopping lets queries in progress finish; closing the socket ends the loop.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate } from "../observe/mod.ts";
import { ByteArena } from "../proto/mod.ts";
import { HEADER_SIZE } from "../proto/mod.ts";
import { NotReady } from "../proto/mod.ts";
import { InFlight } from "./in_flight.ts";
import { headerOnlyReply } from "../proto/mod.ts";
import { respond, type RespondOptions } from "./respond.ts";
import type { ResponseMemo } from "../resolve/mod.ts";
import type { Resolve } from "../resolve/mod.ts";
import { Rcode } from "../proto/mod.ts";
import { formatAddress } from "../upstream/mod.ts";
import { type BatchedDatagram, isBatched } from "../net/mod.ts";

const log = getLogger(["dnsd", "server"]);
/** Loggers of the stages that log each query: the memo path would skip them. */
const queryLog = getLogger(["dnsd", "query"]);
const cacheLog = getLogger(["dnsd", "cache"]);

/** The part of a listening datagram socket the server uses (so tests can pass a fake). */
export type Listener = Pick<Deno.DatagramConn, "send" | "receive">;

/** The largest UDP payload (RFC 768 over IPv4), so no datagram is ever cut short on receive. */
const RECEIVE_BUFFER = 65_535;

function isClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

function peerName(addr: Deno.Addr): string {
  return addr.transport === "udp" || addr.transport === "tcp" ? formatAddress(addr) : addr.transport;
}

/**
 * Sends a response: a batched socket sends at once (nothing to await), Deno's through its op. Either
 * way a datagram the kernel refuses is logged and dropped.
 */
type SendReply = (response: Uint8Array, peer: Deno.Addr) => Promise<void> | void;

/** How {@link handle} answers: the same for every query of a server. */
interface Handling {
  readonly send: SendReply;
  readonly respond: RespondOptions;
  readonly debug: () => boolean;
}

async function handle(
  query: Uint8Array,
  peer: Deno.Addr,
  resolve: Resolve,
  handling: Handling,
): Promise<void> {
  // The peer's text is built only when something is logged: most queries log nothing.
  const report = (error: unknown) =>
    log.error("Error handling query from {peer}: {error}", { peer: peerName(peer), error });
  try {
    const response = await respond(query, resolve, report, handling.respond);
    if (!response) return;
    const sending = handling.send(response, peer);
    if (sending) await sending;
    if (handling.debug()) log.debug("Sent response to {peer}", { peer: peerName(peer) });
  } catch (error) {
    if (isClosed(error)) return;
    report(error);
    // The query still gets an answer when its header allows one (never to junk or responses).
    if (query.length >= HEADER_SIZE && (query[2]! & 0x80) === 0) {
      try {
        await handling.send(headerOnlyReply(query, Rcode.SERVFAIL), peer);
      } catch {
        // the socket closed meanwhile: nothing more to do
      }
    }
  }
}

/** A UDP server that is receiving. */
export interface UdpServer {
  /**
   * Stops answering: queries already taken finish (up to `graceMs`) while new ones get SERVFAIL
   * with EDE Not Ready; then the socket closes.
   */
  stop(graceMs: number): Promise<void>;
  /** Settles when the receive loop has ended. */
  readonly finished: Promise<void>;
}

/** Serves DNS over one datagram socket until it is stopped or closed. */
export function serveUdp(
  conn: (Listener | BatchedDatagram) & Pick<Deno.DatagramConn, "close">,
  resolve: Resolve,
  options: { readonly memo?: ResponseMemo } = {},
): UdpServer {
  const { memo } = options;
  const debug = levelGate(log, "debug");
  const queryDebug = levelGate(queryLog, "debug");
  const cacheDebug = levelGate(cacheLog, "debug");
  /** Whether any per-query debug log is on (each category can be configured on its own). */
  const debugging = () => debug() || queryDebug() || cacheDebug();
  const work = new InFlight();
  let stopping = false;
  const refuseAll: Resolve = () => Promise.reject(new NotReady("the server is shutting down"));

  /** How queries are answered, by the socket they came on and the arena their bytes come from. */
  function handling(send: SendReply, arena: ByteArena): Handling {
    return { send, respond: memo ? { arena, memo } : { arena }, debug };
  }

  async function receiveLoop(conn: Listener): Promise<void> {
    const buffer = new Uint8Array(RECEIVE_BUFFER);
    const arena = new ByteArena();
    const answering = handling((response, peer) => conn.send(response, peer).then(() => {}), arena);
    while (true) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await conn.receive(buffer);
      } catch (error) {
        if (isClosed(error)) return;
        log.error("Receive failed: {error}", { error });
        continue;
      }
      const [data, peer] = received;
      // A question answered before: its kept bytes, with this query's ID, and nothing else to do.
      // Debug logging wants every query to pass through the stages, so it turns this path off.
      const kept = memo && !stopping && !debugging() ? memo.answer(data, arena) : null;
      if (kept) {
        // Awaited: the send completes at once, and one op at a time is cheaper than many in flight.
        try {
          await conn.send(kept, peer);
        } catch (error) {
          if (isClosed(error)) return;
          log.error("Cannot send to {peer}: {error}", { peer: peerName(peer), error });
        }
        continue;
      }
      // Copied out: the next receive() overwrites the shared buffer while this query is in flight.
      const query = arena.copy(data);
      if (debug()) log.debug("Received packet from {peer}", { peer: peerName(peer) });
      void work.track(handle(query, peer, stopping ? refuseAll : resolve, answering));
    }
  }

  /** The same, a batch at a time as the socket hands them over: kept answers go out at once. */
  function serveBatches(batched: BatchedDatagram): Promise<void> {
    const arena = new ByteArena();
    const answering = handling((response, peer) => {
      if (!batched.sendNow(response, peer)) log.error("Cannot send to {peer}", { peer: peerName(peer) });
    }, arena);
    return batched.serve((batch) => {
      let started = false; // a query left to answer asynchronously
      const useMemo = memo !== undefined && !stopping && !debugging();
      for (let i = 0; i < batch.count; i++) {
        try {
          const data = batch.datagram(i);
          const kept = useMemo ? memo.answer(data, arena) : null;
          if (kept) {
            if (!batch.replyTo(i, kept)) {
              log.error("Cannot send to {peer}", { peer: peerName(batch.sender(i)) });
            }
            continue;
          }
          const peer = batch.sender(i);
          if (debug()) log.debug("Received packet from {peer}", { peer: peerName(peer) });
          started = true;
          const query = arena.copy(data);
          void work.track(handle(query, peer, stopping ? refuseAll : resolve, answering));
        } catch (error) {
          log.error("Error handling a datagram: {error}", { error }); // the rest of the batch goes on
        }
      }
      return started;
    });
  }

  const finished = isBatched(conn) ? serveBatches(conn) : receiveLoop(conn);
  let closed = false;
  return {
    async stop(graceMs) {
      stopping = true;
      await work.drained(graceMs);
      if (!closed) {
        closed = true;
        conn.close();
      }
      await finished;
    },
    finished,
  };
}
