/**
 * DNS over TCP (RFC 7766, RFC 1035 section 4.2.2): two-octet length framing, several queries per
 * connection answered as each completes (pipelined, possibly out of order), an idle timeout, and
 * a cap on connections that closes the longest-idle one first.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate } from "../observe/mod.ts";
import { NotReady } from "../proto/mod.ts";
import type { QueryContext, Resolve } from "../resolve/mod.ts";
import { InFlight } from "./in_flight.ts";
import type { RespondOptions } from "./respond.ts";
import {
  type Answering,
  answerOrFail,
  isClosed,
  peerName,
  policyRefusal,
  reportError,
  type ServeOptions,
} from "./serving.ts";

const log = getLogger(["dnsd", "tcp"]);

/** Limits for TCP clients. */
export interface TcpServerOptions {
  /**
   * Close a connection with no query in progress after this long without a whole query or an
   * answer (RFC 7766 section 6.2.3).
   */
  readonly idleTimeoutMs?: number;
  /** The most connections open at once; past it the longest-idle one is closed (RFC 7766 section 6.2.2). */
  readonly maxConnections?: number;
  /** The most queries in progress on one connection; reading pauses past it. */
  readonly maxPipelined?: number;
}

/** A TCP server that is accepting. */
export interface TcpServer {
  /** Open connections now. */
  readonly connections: number;
  /** Stops accepting, lets queries in progress finish (up to `graceMs`), then closes every connection. */
  stop(graceMs: number): Promise<void>;
  /** Settles when the accept loop has ended. */
  readonly finished: Promise<void>;
}

/** The largest DNS message; TCP answers are never truncated below it. */
const MAX_MESSAGE = 65_535;

interface Session {
  readonly conn: Deno.Conn;
  readonly client: Deno.NetAddr;
  readonly peer: string;
  /** When the last whole query arrived or the last answer went out, or the connection opened. */
  lastQuery: number;
  /** Restarts the idle timer (after a query in, or an answer out). */
  rearm: () => void;
  readonly work: InFlight;
  closed: boolean;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let rest = bytes;
  while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
}

function close(session: Session): void {
  if (session.closed) return;
  session.closed = true;
  try {
    session.conn.close();
  } catch {
    // already closed by the peer
  }
}

/** Serves DNS over TCP on `listener` until `stop()`. */
export function serveTcp(
  listener: Deno.Listener,
  resolve: Resolve,
  options: TcpServerOptions & ServeOptions = {},
): TcpServer {
  const { idleTimeoutMs = 10_000, maxConnections = 150, maxPipelined = 32 } = options;
  const { hook = null, now = () => performance.now() } = options;
  const sessions = new Set<Session>();
  let stopping = false;
  const debug = levelGate(log, "debug");
  const responding: RespondOptions = {
    resolve,
    report: reportError,
    limit: MAX_MESSAGE,
    ...(options.handlers ? { handlers: options.handlers } : {}),
  };
  const refusing = policyRefusal(responding);
  const shuttingDown: RespondOptions = {
    ...responding,
    resolve: () => Promise.reject(new NotReady("the server is shutting down")),
  };

  /** Makes room for one more connection: closes the longest-idle one, or says no. */
  function admit(): boolean {
    if (sessions.size < maxConnections) return true;
    let oldest: Session | undefined;
    for (const session of sessions) {
      if (session.work.size === 0 && (!oldest || session.lastQuery < oldest.lastQuery)) oldest = session;
    }
    if (!oldest) return false;
    log.warning("Too many TCP connections ({max}): closing the longest idle, from {peer}", {
      max: maxConnections,
      peer: oldest.peer,
    });
    close(oldest);
    sessions.delete(oldest);
    return true;
  }

  /**
   * How one connection's queries are answered under `respond`: answers, and each message of a
   * streamed transfer, go out whole and one at a time, in the order they complete (RFC 7766 section 7).
   */
  function answeringOn(
    session: Session,
    writes: { chain: Promise<void> },
    respond: RespondOptions,
  ): Answering {
    function write(message: Uint8Array): Promise<void> {
      if (session.closed) return Promise.resolve();
      const framed = new Uint8Array(message.length + 2);
      framed[0] = message.length >>> 8;
      framed[1] = message.length & 0xff;
      framed.set(message, 2);
      writes.chain = writes.chain.then(() => session.closed ? undefined : writeAll(session.conn, framed))
        .catch(
          (error) => {
            if (!isClosed(error)) {
              log.warning("Cannot write to {peer}: {error}", { peer: session.peer, error });
            }
            close(session);
          },
        );
      return writes.chain;
    }
    return {
      respond: { ...respond, write },
      async send(response) {
        await write(response);
        // The idle time counts from the last answer too, so a slow answer leaves the client its window.
        session.lastQuery = Date.now();
        session.rearm();
        return true;
      },
      debug,
    };
  }

  async function serve(session: Session): Promise<void> {
    const writes = { chain: Promise.resolve() };
    const answering = answeringOn(session, writes, responding);
    const refused = answeringOn(session, writes, refusing);
    const closing = answeringOn(session, writes, shuttingDown);
    const chunk = new Uint8Array(16 * 1024);
    let pending = new Uint8Array(0);
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(function checkIdle() {
        // Busy connections are not idle; look again when their answers are out.
        if (session.work.size > 0) {
          idle = setTimeout(checkIdle, idleTimeoutMs);
          return;
        }
        if (log.isEnabledFor("debug")) {
          log.debug("Closing idle TCP connection from {peer}", { peer: session.peer });
        }
        close(session);
      }, idleTimeoutMs);
    };
    session.rearm = armIdle;
    armIdle();
    try {
      while (!session.closed) {
        if (session.work.size >= maxPipelined) await session.work.drained(idleTimeoutMs);
        const count = await session.conn.read(chunk);
        if (count === null) break; // the client closed its side
        const joined = new Uint8Array(pending.length + count);
        joined.set(pending);
        joined.set(chunk.subarray(0, count), pending.length);
        let offset = 0;
        while (joined.length - offset >= 2) {
          const length = (joined[offset]! << 8) | joined[offset + 1]!;
          if (length === 0) throw new RangeError("a zero-length frame");
          if (joined.length - offset - 2 < length) break;
          const query = joined.slice(offset + 2, offset + 2 + length);
          offset += 2 + length;
          session.lastQuery = Date.now();
          armIdle();
          // One read can hold many queries: the cap applies to each, not only between reads.
          if (session.work.size >= maxPipelined) await session.work.drained(idleTimeoutMs);
          const context: QueryContext = {
            client: session.client,
            transport: "tcp",
            receivedAt: now(),
            size: length,
          };
          // While shutting down, a query on an open connection is told so (SERVFAIL, EDE Not Ready).
          let answerWith = stopping ? closing : answering;
          if (hook) {
            const verdict = hook(query, context);
            if (verdict === "drop") continue;
            if (verdict === "refuse") answerWith = refused;
          }
          void session.work.track(answerOrFail(query, context, answerWith));
        }
        pending = joined.slice(offset);
      }
      // The client is done sending: finish what it asked, then close.
      await session.work.drained(idleTimeoutMs);
      await writes.chain;
    } catch (error) {
      if (!isClosed(error) && !session.closed) {
        log.warning("Closing TCP connection from {peer}: {error}", { peer: session.peer, error });
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
      const peer = peerName(client);
      if (stopping || !admit()) {
        log.warning("Refusing a TCP connection from {peer}: at the limit of {max}", {
          peer,
          max: maxConnections,
        });
        conn.close();
        continue;
      }
      const session: Session = {
        conn,
        client,
        peer,
        lastQuery: Date.now(),
        rearm: () => {},
        work: new InFlight(),
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
