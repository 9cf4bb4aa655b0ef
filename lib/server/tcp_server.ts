/**
 * DNS over TCP (RFC 7766, RFC 1035 section 4.2.2): two-octet length framing, several queries per
 * connection answered as each completes (pipelined, possibly out of order), and bounds that a
 * client cannot escape by never reading (as NSD's `tcp-query-count` and `tcp-timeout`, Knot's
 * `tcp-io-timeout` and `tcp-idle-timeout`): an idle timeout, a cap on queries in progress per
 * connection (reading pauses at it), a write timeout and a cap on octets queued per connection
 * (past either the connection is closed), and a cap on connections that makes room by closing
 * the most harmful one. What a client can cause goes through {@link RemoteEvents}.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate, newTrace, RemoteEvents } from "../observe/mod.ts";
import type { QueryContext, Resolve } from "../resolve/mod.ts";
import type { RespondOptions } from "./respond.ts";
import {
  admitQuery,
  type Answering,
  answerOrFail,
  type Gate,
  isClosed,
  peerName,
  type ServeOptions,
  streamResponding,
} from "./serving.ts";
import { mostHarmful } from "./tcp_eviction.ts";
import { Pipeline } from "./tcp_pipeline.ts";
import { FrameWriter, type QueueTally, type WriteFailure } from "./tcp_writer.ts";

const log = getLogger(["dnsd", "tcp"]);

/** Limits for TCP clients. */
export interface TcpServerOptions {
  /**
   * Close a connection with no query in progress after this long without a whole query or an
   * answer (RFC 7766 section 6.2.3).
   */
  readonly idleTimeoutMs?: number;
  /** The most connections open at once; past it the most harmful one is closed (RFC 7766 section 6.2.2). */
  readonly maxConnections?: number;
  /** The most queries in progress on one connection; reading pauses past it until answers drain. */
  readonly maxPipelined?: number;
  /** Close a connection when one answer cannot be written within this long (default 5,000 ms). */
  readonly writeTimeoutMs?: number;
  /**
   * Close a connection whose answers queued and not yet written pass this many octets while one of
   * them has waited 200 ms to be written (default 256 KiB).
   */
  readonly maxQueuedBytes?: number;
}

/** What the stream server accepts connections from: a TCP listener, or TLS ones (see tls_listener.ts). */
export type Acceptor = Pick<Deno.Listener, "accept" | "close">;

/** What {@link serveTcp} takes beside the limits: the transport its queries are told they came over. */
export interface StreamOptions {
  /**
   * `tls` for DNS over TLS (RFC 7858): the same framing and limits, answers padded when the query
   * asks (RFC 7830), and the stages, hooks and metrics told `tls`. Default `tcp`.
   */
  readonly transport?: "tcp" | "tls";
  /**
   * Cuts a connection's socket before it is closed: for TLS, whose `close()` leaves the socket of a
   * client stalled mid-handshake open (see lib/net's SocketSeverer). None for TCP.
   */
  readonly sever?: Sever | null;
}

/**
 * Cuts the socket of the connection between two addresses (read at accept: a TLS connection's
 * addresses cannot be read again while its handshake runs).
 */
export type Sever = (local: Deno.NetAddr, remote: Deno.NetAddr) => void;

/** A TCP server that is accepting. */
export interface TcpServer {
  /** Open connections now. */
  readonly connections: number;
  /** Octets of answers queued over all connections and not yet written. */
  readonly queuedBytes: number;
  /** The most octets of answers ever queued at once over all connections. */
  readonly peakQueuedBytes: number;
  /** Stops accepting, lets queries in progress finish (up to `graceMs`), then closes every connection. */
  stop(graceMs: number): Promise<void>;
  /** Settles when the accept loop has ended. */
  readonly finished: Promise<void>;
}

/**
 * A write pending this long marks a connection as stuck, for eviction and for the bound on queued
 * octets; a shorter one is a client being served (a burst of big answers to a reader is not cut off).
 */
const STUCK_MS = 200;

interface Session {
  readonly conn: Deno.Conn;
  readonly client: Deno.NetAddr;
  /** The address it came in on (the listener's). */
  readonly local: Deno.NetAddr;
  /** Whether any octet was read (over TLS: the handshake finished). */
  received: boolean;
  readonly peer: string;
  /** When the last whole query arrived or the last answer went out, or the connection opened. */
  lastActive: number;
  /** Restarts the idle timer (after a query in, or an answer out). */
  rearm: () => void;
  readonly work: Pipeline;
  readonly writer: FrameWriter;
  /** Whether part of a frame has arrived and the rest not yet (a cut frame if the connection ends). */
  partial: boolean;
  closed: boolean;
}

/** The message of `error`, without its stack: a client's doing is not dnsd's bug. */
function reason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Closes a session. `sever` (TLS) cuts the socket first when nothing was ever read from it: a
 * handshake that never finished, which Deno's close would leave open. Only the idle timer and
 * eviction pass it: a client that went away has no socket left to cut.
 */
function close(session: Session, sever?: Sever | null): void {
  if (session.closed) return;
  session.closed = true;
  try {
    if (!session.received) sever?.(session.local, session.client);
  } catch {
    // the socket is gone already
  }
  session.writer.close();
  session.work.close();
  try {
    session.conn.close();
  } catch {
    // already closed by the peer
  }
}

/** Sends an answer made at once (no resolving) on a connection; a failure to send is the writer's to report. */
async function sendEarly(answering: Answering, response: Uint8Array, context: QueryContext): Promise<void> {
  try {
    await answering.send(response, context);
  } catch {
    // the connection is gone: nothing to send on
  }
}

/** Serves DNS over TCP (or TLS, with `transport: "tls"`) on `listener` until `stop()`. */
export function serveTcp(
  listener: Acceptor,
  resolve: Resolve,
  options: TcpServerOptions & ServeOptions & StreamOptions = {},
): TcpServer {
  const { idleTimeoutMs = 10_000, maxConnections = 150, maxPipelined = 32 } = options;
  const { writeTimeoutMs = 5_000, maxQueuedBytes = 256 * 1024 } = options;
  const { hook = null, now = () => performance.now(), cookies = null, observer = null } = options;
  const { transport = "tcp", sever = null } = options;
  const gate: Gate = { hook, cookies, observer, padding: transport === "tls" };
  // Evictions, refusals, bad frames and stuck clients: counted, and logged at most once per 10 s per kind.
  const events = options.events ?? new RemoteEvents(log);
  const sessions = new Set<Session>();
  const tally: QueueTally = { queuedBytes: 0, peakBytes: 0 };
  let stopping = false;
  const debug = levelGate(log, "debug");
  const { responding, refusing, shuttingDown } = streamResponding(resolve, events, options);

  /** Makes room for one more connection by closing the most harmful one, or says no. */
  function admit(): boolean {
    if (sessions.size < maxConnections) return true;
    const victim = mostHarmful(
      [...sessions].map((session) => ({
        session,
        writingSince: session.writer.writingSince,
        queuedBytes: session.writer.queuedBytes,
        inProgress: session.work.size,
        lastActive: session.lastActive,
      })),
      { now: now(), stuckMs: STUCK_MS },
    );
    if (!victim) return false;
    const { session } = victim;
    events.report(
      "tcp-evicted",
      "warning",
      "Too many TCP connections ({max}): closed the one from {peer} ({why})",
      {
        max: maxConnections,
        peer: session.peer,
        why: victim.writingSince === null ? "idle longest" : "stuck writing",
      },
    );
    close(session, sever);
    sessions.delete(session);
    return true;
  }

  function writerFailed(session: Session, failure: WriteFailure, error: unknown): void {
    if (failure === "write-error") {
      if (!isClosed(error) && !session.closed) {
        events.report("tcp-write-error", "warning", "Cannot write to {peer}: {error}", {
          peer: session.peer,
          error: reason(error),
        });
      }
    } else if (failure === "write-timeout") {
      events.report(
        "tcp-write-timeout",
        "info",
        "Closing TCP connection from {peer}: no answer written in {ms} ms",
        {
          peer: session.peer,
          ms: writeTimeoutMs,
        },
      );
    } else {
      events.report(
        "tcp-queue-full",
        "info",
        "Closing TCP connection from {peer}: answers queued past {bytes} octets",
        { peer: session.peer, bytes: maxQueuedBytes },
      );
    }
    close(session);
  }

  /**
   * How one connection's queries are answered under `respond`: answers, and each message of a
   * streamed transfer, go out whole and one at a time, in the order they complete (RFC 7766 section 7).
   */
  function answeringOn(session: Session, respond: RespondOptions): Answering {
    const write = (message: Uint8Array) => session.writer.write(message);
    // A transfer's messages stop once the connection is gone: the error ends the handler.
    const stream = async (message: Uint8Array) => {
      await write(message);
      if (session.closed) throw new Deno.errors.BrokenPipe("the connection closed during a transfer");
    };
    return {
      respond: { ...respond, write: stream },
      async send(response) {
        await write(response);
        if (session.closed) return true;
        // The idle time counts from the last answer too, so a slow answer leaves the client its window.
        session.lastActive = now();
        session.rearm();
        return true;
      },
      debug,
      events,
      recursionAvailable: options.recursionAvailable,
      observer,
    };
  }

  async function serve(session: Session): Promise<void> {
    const answering = answeringOn(session, responding);
    const refused = answeringOn(session, refusing);
    const closing = answeringOn(session, shuttingDown);
    const chunk = new Uint8Array(16 * 1024);
    let pending = new Uint8Array(0);
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      if (session.closed) return;
      idle = setTimeout(function checkIdle() {
        // Busy connections are not idle; look again when their answers are out. A connection
        // whose answer is not being taken is not busy: the write timeout closes it, and this
        // stops a write timeout set above the idle timeout from keeping it forever.
        const since = session.writer.writingSince;
        if (session.work.size > 0 && (since === null || now() - since < idleTimeoutMs)) {
          idle = setTimeout(checkIdle, idleTimeoutMs);
          return;
        }
        if (session.partial) {
          events.report("tcp-cut-frame", "info", "Closing TCP connection from {peer}: a frame cut short", {
            peer: session.peer,
          });
        } else if (log.isEnabledFor("debug")) {
          log.debug("Closing idle TCP connection from {peer}", { peer: session.peer });
        }
        close(session, sever);
      }, idleTimeoutMs);
    };
    session.rearm = armIdle;
    armIdle();
    try {
      while (!session.closed) {
        await session.work.room(maxPipelined);
        if (session.closed) break;
        const count = await session.conn.read(chunk);
        if (count === null) break; // the client closed its side
        session.received = true;
        const joined = new Uint8Array(pending.length + count);
        joined.set(pending);
        joined.set(chunk.subarray(0, count), pending.length);
        let offset = 0;
        while (joined.length - offset >= 2 && !session.closed) {
          const length = (joined[offset]! << 8) | joined[offset + 1]!;
          if (length === 0) {
            events.report(
              "tcp-zero-frame",
              "info",
              "Closing TCP connection from {peer}: a zero-length frame",
              {
                peer: session.peer,
              },
            );
            close(session);
            break;
          }
          if (joined.length - offset - 2 < length) break;
          const query = joined.slice(offset + 2, offset + 2 + length);
          offset += 2 + length;
          session.lastActive = now();
          armIdle();
          // One read can hold many queries: the cap applies to each, not only between reads.
          await session.work.room(maxPipelined);
          if (session.closed) break;
          const trace = observer === null ? undefined : newTrace();
          const context: QueryContext = trace === undefined
            ? { client: session.client, transport, receivedAt: now(), size: length }
            : { client: session.client, transport, receivedAt: now(), size: length, trace };
          // While shutting down, a query on an open connection is told so (SERVFAIL, EDE Not Ready).
          const admitted = admitQuery(query, context, {
            answering: stopping ? closing : answering,
            refused,
            gate,
          });
          if (admitted === null) continue;
          if (admitted.early !== null) {
            session.work.track(sendEarly(admitted.answering, admitted.early, context));
            continue;
          }
          session.work.track(answerOrFail(query, context, admitted.answering));
        }
        pending = joined.slice(offset);
        session.partial = pending.length > 0;
      }
      if (session.partial && !session.closed) {
        events.report("tcp-cut-frame", "info", "TCP connection from {peer} ended inside a frame", {
          peer: session.peer,
        });
      }
      // The client is done sending: finish what it asked (each answer under the write timeout), then close.
      await session.work.drained(idleTimeoutMs);
    } catch (error) {
      if (!isClosed(error) && !session.closed) {
        events.report("tcp-read-error", "warning", "Closing TCP connection from {peer}: {error}", {
          peer: session.peer,
          error: reason(error),
        });
      }
    } finally {
      clearTimeout(idle);
      close(session);
      sessions.delete(session);
    }
  }

  async function acceptLoop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (isClosed(error) || stopping) return;
        log.error("TCP accept failed: {error}", { error });
        continue;
      }
      const client = conn.remoteAddr as Deno.NetAddr;
      const local = conn.localAddr as Deno.NetAddr;
      const peer = peerName(client);
      if (stopping || !admit()) {
        events.report(
          "tcp-refused",
          "warning",
          "Refusing a TCP connection from {peer}: at the limit of {max}",
          {
            peer,
            max: maxConnections,
          },
        );
        conn.close();
        continue;
      }
      const session: Session = {
        conn,
        local,
        received: false,
        client,
        peer,
        lastActive: now(),
        rearm: () => {},
        work: new Pipeline(),
        writer: new FrameWriter(conn, {
          writeTimeoutMs,
          maxQueuedBytes,
          stuckMs: STUCK_MS,
          now,
          tally,
          onFailure: (failure, error) => writerFailed(session, failure, error),
        }),
        partial: false,
        closed: false,
      };
      sessions.add(session);
      void serve(session);
    }
  }

  const finished = acceptLoop();
  return {
    get connections() {
      return sessions.size;
    },
    get queuedBytes() {
      return tally.queuedBytes;
    },
    get peakQueuedBytes() {
      return tally.peakBytes;
    },
    async stop(graceMs) {
      stopping = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      await Promise.all([...sessions].map((session) => session.work.drained(graceMs)));
      for (const session of sessions) close(session);
      await finished;
    },
    finished,
  };
}
