/**
 * DNS over TLS to one upstream (RFC 7858): one connection, kept open and reused, queries
 * pipelined on it with two-octet length framing (RFC 7766 section 6.2.1) and replies matched by
 * ID, in whatever order they come. Each query gets an ID of the connection's own, unique among
 * those in flight, so two queries that happen to share one (or a retry of the same bytes) never
 * take each other's reply; the reply is handed back under the query's ID.
 * @module
 */
import { UpstreamError, UpstreamTimeout } from "../proto/mod.ts";
import { replyMismatch } from "./match.ts";
import { type DropReason, type Exchange, formatAddress, type Upstream } from "./udp_exchange.ts";
import type { Stream } from "./tcp_exchange.ts";

/** Options for {@link tlsExchange}. */
export interface TlsExchangeOptions {
  /** More CA certificates (PEM) to trust besides the default roots (`--upstream-ca`). */
  readonly caCerts?: readonly string[];
  /** Opens the TLS connection; defaults to TCP to the address, then TLS checked against the name. */
  readonly connect?: (upstream: Upstream, signal: AbortSignal) => Promise<Stream>;
  /** Told about every reply that did not match its query. */
  readonly onDrop?: (reason: DropReason, from: string) => void;
  /** Require the question's case exactly as sent (0x20). */
  readonly exactCase?: boolean;
  /** An idle connection is closed after this many ms (default 10 s, unbound's tcp-idle-timeout). */
  readonly idleMs?: number;
  /** The most queries in flight on the connection; past it a query fails at once (default 200). */
  readonly maxInFlight?: number;
  /** The longest a connection and its handshake may take, in ms (default 5 s). */
  readonly connectMs?: number;
}

/** A DoT exchange; `close()` closes its connection and fails the queries in flight. */
export type TlsExchange = Exchange & { close(): Promise<void> };

/** A query waiting for its reply on the connection. */
interface Pending {
  /** The query as sent (with the connection's ID), to check the reply against. */
  readonly sent: Uint8Array;
  /** The query's own ID, put back on the reply. */
  readonly id: number;
  /** Sent again on a new connection once already: a second loss fails it. */
  retried: boolean;
  /** The connection it was last sent on. */
  on?: Connection;
  resolve(reply: Uint8Array): void;
  reject(error: Error): void;
}

/** One open (or opening) connection and the queries sent on it. */
interface Connection {
  readonly ready: Promise<Stream>;
  readonly pending: Map<number, Pending>;
  /** Writes in order: two queries' frames never interleave. */
  writing: Promise<void>;
  idle: ReturnType<typeof setTimeout> | undefined;
  closed: boolean;
  stream?: Stream;
  /** Queries given up on since the last reply: a connection that answers none of several is dead. */
  unanswered: number;
}

/** Queries in a row that may time out on an open connection before it is taken for dead. */
const SILENT_LIMIT = 3;

/**
 * Opens TCP to the upstream's address, then TLS checked against its name (or its address). `signal`
 * bounds the whole of it, the handshake too: an upstream that accepts and then says nothing is
 * let go of when it aborts. A failure closes what was opened (the TLS connection, once startTls
 * has taken the TCP one over), so no socket is left behind.
 */
function connectTls(caCerts: readonly string[]) {
  return async (upstream: Upstream, signal: AbortSignal): Promise<Stream> => {
    const tcp = await Deno.connect({ hostname: upstream.hostname, port: upstream.port, signal });
    let tls: Deno.TlsConn | undefined;
    const abandon = () => {
      try {
        (tls ?? tcp).close();
      } catch {
        // closed already
      }
    };
    signal.addEventListener("abort", abandon, { once: true });
    try {
      // Deno.connectTls has no separate server name: the name checked is given to startTls.
      tls = await Deno.startTls(tcp, {
        hostname: upstream.tls?.name ?? upstream.hostname,
        caCerts: [...caCerts],
        alpnProtocols: ["dot"], // RFC 7858 section 3.1's ALPN id (IANA), harmless when ignored
      });
      if (signal.aborted) throw signal.reason;
      await tls.handshake();
      if (signal.aborted) throw signal.reason;
      return tls;
    } catch (error) {
      abandon();
      throw signal.aborted ? signal.reason : error;
    } finally {
      signal.removeEventListener("abort", abandon);
    }
  };
}

/** Reads length-prefixed messages from `stream`, handing each to `deliver`, until it ends. */
async function readFrames(stream: Stream, deliver: (message: Uint8Array) => void): Promise<void> {
  let have = new Uint8Array(0);
  const chunk = new Uint8Array(16_384);
  while (true) {
    while (have.length >= 2 && have.length >= 2 + ((have[0]! << 8) | have[1]!)) {
      const end = 2 + ((have[0]! << 8) | have[1]!);
      deliver(have.slice(2, end));
      have = have.subarray(end);
    }
    const count = await stream.read(chunk);
    if (count === null) return;
    const joined = new Uint8Array(have.length + count);
    joined.set(have);
    joined.set(chunk.subarray(0, count), have.length);
    have = joined;
  }
}

/**
 * An {@link Exchange} with one upstream over DNS over TLS (`upstream.tls`): the certificate must
 * chain to a trusted root (the default store or `caCerts`) and carry `upstream.tls.name`, or the
 * address when none is given. A connection that closes or fails fails its queries in flight, each
 * sent again once on a new connection while its time lasts; the next query opens a new one.
 */
export function tlsExchange(upstream: Upstream, options: TlsExchangeOptions = {}): TlsExchange {
  const {
    connect = connectTls(options.caCerts ?? []),
    onDrop = () => {},
    exactCase = false,
    idleMs = 10_000,
    maxInFlight = 200,
    connectMs = 5_000,
  } = options;
  const name = formatAddress(upstream);
  let current: Connection | null = null;
  let shut = false;
  let nextId = crypto.getRandomValues(new Uint16Array(1))[0]!;

  function open(): Connection {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error("timed out connecting")), connectMs);
    const ready = connect(upstream, controller.signal).finally(() => clearTimeout(timer));
    const connection: Connection = {
      ready,
      pending: new Map(),
      writing: Promise.resolve(),
      idle: undefined,
      closed: false,
      unanswered: 0,
    };
    ready.then((stream) => {
      connection.stream = stream;
      if (connection.closed) return closeStream(stream);
      readFrames(stream, (reply) => settle(connection, reply)).then(
        () => lose(connection, new Error("the upstream closed the connection")),
        (error) => lose(connection, error),
      );
    }, (error) => lose(connection, error));
    return connection;
  }

  function closeStream(stream: Stream): void {
    try {
      stream.close();
    } catch {
      // closed already
    }
  }

  /** A reply read: its query settled, or it is dropped as a stranger's. */
  function settle(connection: Connection, reply: Uint8Array): void {
    const wire = reply.length >= 2 ? (reply[0]! << 8) | reply[1]! : -1;
    const pending = connection.pending.get(wire);
    const mismatch = pending ? replyMismatch(pending.sent, reply, exactCase) : "wrong-id";
    if (!pending || mismatch !== null) return onDrop(mismatch ?? "wrong-id", name);
    connection.pending.delete(wire);
    connection.unanswered = 0;
    reply[0] = pending.id >>> 8;
    reply[1] = pending.id & 0xff;
    pending.resolve(reply);
    if (connection.pending.size === 0) idleFrom(connection);
  }

  /** No query waiting: the connection closes after `idleMs` unless one comes. */
  function idleFrom(connection: Connection): void {
    clearTimeout(connection.idle);
    connection.idle = setTimeout(() => {
      if (connection.pending.size === 0) lose(connection, new Error("idle"));
    }, idleMs);
  }

  /** The connection is gone: its queries are sent again on a new one once, or fail. */
  function lose(connection: Connection, cause: unknown): void {
    if (connection.closed) return;
    connection.closed = true;
    clearTimeout(connection.idle);
    if (current === connection) current = null;
    if (connection.stream) closeStream(connection.stream);
    const waiting = [...connection.pending.values()];
    connection.pending.clear();
    for (const pending of waiting) {
      // A server may close an idle connection (RFC 7766 section 6.2.3): a query sent as it did is
      // sent again. One that never connected (refused, a bad certificate) is not.
      if (!pending.retried && !shut && connection.stream) {
        pending.retried = true;
        send(pending);
      } else {
        // Why, in the message: the forwarder's warning shows it (a bad certificate, a refusal).
        const why = cause instanceof Error ? cause.message : String(cause);
        const what = connection.stream ? `Connection to ${name} lost` : `Cannot connect to ${name} over TLS`;
        pending.reject(new UpstreamError(`${what}: ${why}`, { cause }));
      }
    }
  }

  /** Sends `pending` on the current connection (opened if none), under an ID free on it. */
  function send(pending: Pending): void {
    const connection = current ??= open();
    clearTimeout(connection.idle);
    let wire = nextId;
    while (connection.pending.has(wire)) wire = (wire + 1) & 0xffff;
    nextId = (wire + 1) & 0xffff;
    pending.sent[0] = wire >>> 8;
    pending.sent[1] = wire & 0xff;
    connection.pending.set(wire, pending);
    pending.on = connection;
    const framed = new Uint8Array(pending.sent.length + 2);
    framed[0] = pending.sent.length >>> 8;
    framed[1] = pending.sent.length & 0xff;
    framed.set(pending.sent, 2);
    connection.writing = connection.writing.then(async () => {
      const stream = await connection.ready;
      if (connection.closed || connection.pending.get(wire) !== pending) return;
      let rest = framed;
      while (rest.length > 0) rest = rest.subarray(await stream.write(rest));
    }).catch((error) => lose(connection, error));
  }

  async function close(): Promise<void> {
    shut = true;
    if (current) lose(current, new Error("closed"));
    await Promise.resolve();
  }

  function exchange(query: Uint8Array, signal: Parameters<Exchange>[1]): Promise<Uint8Array> {
    if (signal.aborted) return Promise.reject(new UpstreamTimeout(`No time left to query ${name}`));
    if (shut) return Promise.reject(new UpstreamError(`Exchange with ${name} is closed`));
    if ((current?.pending.size ?? 0) >= maxInFlight) {
      return Promise.reject(new UpstreamError(`${maxInFlight} queries in flight to ${name} already`));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: Pending = {
        sent: query.slice(), // ours to renumber; the forwarder's bytes may be shared
        id: (query[0]! << 8) | query[1]!,
        retried: false,
        resolve(reply) {
          signal.removeEventListener("abort", abort);
          resolve(reply);
        },
        reject(error) {
          signal.removeEventListener("abort", abort);
          reject(error);
        },
      };
      // Aborted: the query leaves the connection's table; the connection stays for the others.
      const abort = () => {
        const connection = pending.on;
        const wire = (pending.sent[0]! << 8) | pending.sent[1]!;
        if (connection?.pending.get(wire) === pending) {
          connection.pending.delete(wire);
          // Open, yet silent for query after query (a peer gone without a FIN): a new one is
          // opened for the next query rather than this one kept alive by its idle timer.
          if (connection.stream && ++connection.unanswered >= SILENT_LIMIT) {
            lose(connection, new Error(`${SILENT_LIMIT} queries in a row got no reply`));
          } else if (connection.pending.size === 0) idleFrom(connection);
        }
        reject(new UpstreamTimeout(`No reply from ${name} over TLS`));
      };
      signal.addEventListener("abort", abort, { once: true });
      send(pending);
    });
  }
  return Object.assign(exchange, { close });
}
