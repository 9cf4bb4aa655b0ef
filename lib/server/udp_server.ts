/**
 * The UDP server loop over one {@link DatagramSocket}, whichever kind: datagrams come a batch at a
 * time (a batch of one for Deno's sockets); every query is handled on its own, so a slow upstream
 * never delays other answers and one failure never stops the loop. The admission hook sees every
 * query first, memo hits included. Stopping lets queries in progress finish; closing the socket
 * ends the loop.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate, newTrace, type RemoteEvents, Source } from "../observe/mod.ts";
import { ByteArena, NotReady } from "../proto/mod.ts";
import type { DatagramSocket } from "../net/mod.ts";
import {
  type CookieCheck,
  CookieStatus,
  RateDecision,
  type RateLimiter,
  type ServerCookies,
  slipResponse,
} from "../policy/mod.ts";
import type { QueryContext, Resolve, ResponseMemo } from "../resolve/mod.ts";
import { InFlight } from "./in_flight.ts";
import type { RespondOptions } from "./respond.ts";
import {
  type Answering,
  answerOrFail,
  patchRecursionAvailable,
  peerName,
  policyRefusal,
  reporter,
  sendFailed,
  type ServeOptions,
  ServerEvent,
  serverEvents,
} from "./serving.ts";

const log = getLogger(["dnsd", "server"]);
/** Loggers of the stages that log each query: the memo path would skip them. */
const queryLog = getLogger(["dnsd", "query"]);
const cacheLog = getLogger(["dnsd", "cache"]);

/** A UDP server that is receiving. */
export interface UdpServer {
  /**
   * Stops answering: queries already taken finish (up to `graceMs`) while new ones get SERVFAIL
   * with EDE Not Ready; then the socket closes.
   */
  stop(graceMs: number): Promise<void>;
  /** Settles when the receive loop has ended. */
  readonly finished: Promise<void>;
  /** The events clients caused (answers not sent, errors), counted by kind. */
  readonly events: RemoteEvents;
}

/** Options for {@link serveUdp}. */
export interface UdpServeOptions extends ServeOptions {
  /** Encoded answers for repeated questions. */
  readonly memo?: ResponseMemo;
  /** Response rate limiting per client prefix (`--rate-limit`); none when absent. */
  readonly limiter?: RateLimiter | null;
}

/** Serves DNS over one datagram socket until it is stopped or closed. */
export function serveUdp(socket: DatagramSocket, resolve: Resolve, options: UdpServeOptions = {}): UdpServer {
  const { memo, hook = null, now = () => performance.now(), events = serverEvents() } = options;
  const { mayRecurse, recursionAvailable } = options;
  const { limiter = null, cookies = null, observer = null } = options;
  const debug = levelGate(log, "debug");
  const queryDebug = levelGate(queryLog, "debug");
  const cacheDebug = levelGate(cacheLog, "debug");
  /** Whether any per-query debug log is on (each category can be configured on its own). */
  const debugging = () => debug() || queryDebug() || cacheDebug();
  const work = new InFlight();
  let stopping = false;
  const arena = new ByteArena();
  const responding: RespondOptions = {
    resolve,
    report: reporter(events),
    arena,
    ...(memo ? { memo } : {}),
    ...(options.handlers ? { handlers: options.handlers } : {}),
    ...(options.tsig ? { tsig: options.tsig, recursionAvailable: options.recursionAvailable } : {}),
  };
  /**
   * What goes out for `response` under the rate limit: itself, its truncated form, or nothing
   * (null). A client that showed a valid server cookie is not limited.
   */
  const limited = (
    response: Uint8Array,
    client: Deno.NetAddr,
    check: CookieCheck | null,
  ): Uint8Array | null => {
    if (limiter === null || check?.status === CookieStatus.VALID) return response;
    const decision = limiter.check(client);
    if (decision === RateDecision.SEND) return response;
    return decision === RateDecision.SLIP ? slipResponse(response) : null;
  };
  const send = limiter === null
    ? (response: Uint8Array, context: QueryContext) => socket.send(response, context.client)
    : (response: Uint8Array, context: QueryContext) => {
      const out = limited(response, context.client, null);
      if (out !== response && context.trace) context.trace.limited = true;
      return out === null || socket.send(out, context.client);
    };
  /** How an answer to a query with a cookie goes out: stamped with a fresh server cookie. */
  const sendStamped =
    (cookieJar: ServerCookies, check: CookieCheck) => (response: Uint8Array, context: QueryContext) => {
      const stamped = cookieJar.stamp(response, check, true);
      const out = limited(stamped, context.client, check);
      if (out !== stamped && context.trace) context.trace.limited = true;
      return out === null || socket.send(out, context.client);
    };
  const answering: Answering = { respond: responding, send, debug, events, recursionAvailable, observer };
  const refusing: Answering = {
    respond: policyRefusal(responding),
    send,
    debug,
    events,
    recursionAvailable,
    observer,
  };
  const shuttingDown: Answering = {
    respond: { ...responding, resolve: () => Promise.reject(new NotReady("the server is shutting down")) },
    send,
    debug,
    events,
    recursionAvailable,
    observer,
  };

  function serveBatches(): Promise<void> {
    return socket.serve((batch) => {
      let started = false; // a query left to answer asynchronously
      const useMemo = memo !== undefined && !stopping && !debugging();
      const receivedAt = hook || observer ? now() : 0;
      for (let i = 0; i < batch.count; i++) {
        try {
          const data = batch.datagram(i);
          let respondWith = stopping ? shuttingDown : answering;
          if (hook) {
            const seen: QueryContext = {
              client: batch.senderNow(i),
              transport: "udp",
              receivedAt,
              size: data.length,
            };
            const verdict = hook(data, seen);
            if (verdict === "drop") {
              observer?.observe(data, null, seen.client, "udp", receivedAt, Source.ADMISSION, null, false);
              continue;
            }
            if (verdict === "refuse") respondWith = refusing;
          }
          // A cookie (RFC 7873): some queries are answered at once; the others' answers carry a fresh one.
          let check: CookieCheck | null = null;
          if (cookies !== null) {
            check = cookies.inspect(data, batch.senderNow(i));
            const early = cookies.early(data, check, true);
            if (early !== null) {
              if (recursionAvailable) patchRecursionAvailable(early, batch.senderNow(i), recursionAvailable);
              const out = limited(early, batch.senderNow(i), check);
              observer?.observe(
                data,
                early,
                batch.senderNow(i),
                "udp",
                receivedAt,
                Source.ERROR,
                null,
                out !== early,
              );
              if (out !== null && !batch.replyTo(i, out)) sendFailed(events, batch.senderNow(i));
              continue;
            }
          }
          // A question answered before: its kept bytes, with this query's ID, and nothing else to do.
          // Debug logging wants every query to pass through the stages, so it turns this path off.
          // A client that may not recurse never gets the memo's cached answers: its queries go to the stages.
          const kept = useMemo && respondWith === answering &&
              (!mayRecurse || mayRecurse(batch.senderNow(i)))
            ? memo.answer(data, arena)
            : null;
          if (kept) {
            const stamped = check === null ? kept : cookies!.stamp(kept, check, true);
            if (recursionAvailable) patchRecursionAvailable(stamped, batch.senderNow(i), recursionAvailable);
            const reply = limited(stamped, batch.senderNow(i), check);
            // Counted from the memo's record of the answer's source: no string, no allocation.
            if (observer !== null) {
              const source = memo!.lastSource;
              observer.observe(
                data,
                stamped,
                batch.senderNow(i),
                "udp",
                receivedAt,
                source,
                null,
                reply !== stamped,
              );
            }
            if (reply !== null && !batch.replyTo(i, reply)) sendFailed(events, batch.senderNow(i));
            continue;
          }
          const client = batch.sender(i);
          if (debug()) log.debug("Received packet from {peer}", { peer: peerName(client) });
          started = true;
          // Copied out: the batch's memory is overwritten by the next read while this query is in flight.
          const query = arena.copy(data);
          const context: QueryContext = observer === null
            ? { client, transport: "udp", receivedAt: receivedAt || now(), size: data.length }
            : {
              client,
              transport: "udp",
              receivedAt,
              size: data.length,
              trace: newTrace(respondWith === refusing),
            };
          if (check !== null) respondWith = { ...respondWith, send: sendStamped(cookies!, check) };
          void work.track(answerOrFail(query, context, respondWith));
        } catch (error) {
          // The rest of the batch goes on; a bug a packet can reach logs once per interval, not per packet.
          events.report(ServerEvent.DATAGRAM_ERROR, "error", "Error handling a datagram: {error}", { error });
        }
      }
      return started;
    }, (peer, error) => sendFailed(events, peer, error));
  }

  /** Serves until the socket closes; a socket that fails otherwise is logged and served again. */
  async function serveUntilClosed(): Promise<void> {
    while (!closed) {
      try {
        return await serveBatches();
      } catch (error) {
        events.report(ServerEvent.RECEIVE_FAILED, "error", "Receive failed: {error}", { error });
      }
    }
  }

  let closed = false;
  const finished = serveUntilClosed();
  return {
    async stop(graceMs) {
      stopping = true;
      await work.drained(graceMs);
      if (!closed) {
        closed = true;
        socket.close();
      }
      await finished;
    },
    finished,
    events,
  };
}
