/**
 * Upstream queries over UDP, each from a port of its own that the kernel draws at random from the
 * ephemeral range (28,232 ports on Linux), let go of once its reply came or its try ended, as
 * unbound does with a socket per query. An off-path attacker must then guess the port as well as
 * the ID (RFC 5452 sections 9.2 and 10). A socket that can take a new port (`renew`, the batched
 * ones) is kept and used again with one, which costs one system call where a new socket costs two
 * and a descriptor; Deno's sockets are opened and closed each time. Each socket's reader hands
 * every reply to the query waiting for it (by ID, then checked as in RFC 5452 section 9.1). The
 * same code can share a socket among queries (`queriesPerSocket`), and does when no new socket can
 * be opened (out of descriptors): then the newest open one is used rather than failing.
 * @module
 */
import { UpstreamCookie } from "../policy/mod.ts";
import { getLogger } from "@logtape/logtape";
import { ByteArena, UpstreamError, UpstreamTimeout } from "../proto/mod.ts";
import { replyMismatch } from "./match.ts";
import { IdTable } from "./id_table.ts";
import { type DatagramSocket, openUpstreamSocket, ReceiveBuffers, sockaddr, SocketPeer } from "../net/mod.ts";
import {
  type AbortLike,
  canonicalHost,
  type DropReason,
  type Exchange,
  formatAddress,
  type Upstream,
  wildcardFor,
} from "./udp_exchange.ts";

const log = getLogger(["dnsd", "forward"]);

/** Octets per slab of kept replies: a few dozen replies each. */
const REPLY_SLAB = 8 * 1024;
/**
 * Sockets kept for reuse once done (those that can take a new port, `DatagramSocket.renew`): as
 * many as queries are usually in flight at once, so that a busy forwarder opens and closes none.
 */
const MAX_IDLE = 256;

/** The struct sockaddr of an upstream given as an IP address; null otherwise. */
function rawAddress(upstream: Upstream): Uint8Array | null {
  try {
    return sockaddr(upstream.hostname, upstream.port);
  } catch {
    return null;
  }
}

/** Deno sockets on ephemeral ports, one after another, handing on their receive buffers. */
function defaultOpen(): (upstream: Upstream) => DatagramSocket {
  const buffers = new ReceiveBuffers();
  return (upstream) => openUpstreamSocket(wildcardFor(upstream), undefined, buffers);
}

/** Options for {@link pooledUdpExchange}. */
export interface UdpPoolOptions {
  /** Sockets taking new queries at once (default 1). */
  readonly sockets?: number;
  /** Queries a socket sends before it is retired for a fresh one on a new random port (default 1). */
  readonly queriesPerSocket?: number;
  /** Milliseconds a socket is used before it is retired. */
  readonly maxSocketAgeMs?: number;
  /** Opens a socket; defaults to a Deno socket on an ephemeral port of the wildcard address. */
  readonly open?: (upstream: Upstream) => DatagramSocket;
  /** Told about every ignored datagram. */
  readonly onDrop?: (reason: DropReason, from: string) => void;
  /** Require the question's case exactly as sent (0x20). */
  readonly exactCase?: boolean;
  /** Milliseconds on a monotonic clock. */
  readonly now?: () => number;
  /**
   * Send a client cookie (RFC 7873) with every query that has EDNS, and drop a reply that does not
   * echo it (or lacks it, once the upstream has shown it speaks cookies). Default off.
   */
  readonly cookies?: boolean;
}

/** An exchange over pooled sockets; `close()` ends every receive loop and resolves once they have. */
export type PooledExchange = Exchange & { close(): Promise<void> };

interface Waiting {
  readonly query: Uint8Array;
  resolve(reply: Uint8Array): void;
  reject(error: Error): void;
}

interface PooledSocket {
  readonly conn: DatagramSocket;
  readonly waiting: IdTable<Waiting>;
  openedAt: number;
  sent: number;
  retired: boolean;
  closed: boolean;
}

/** An {@link Exchange} with one upstream over a pool of UDP sockets. */
export function pooledUdpExchange(upstream: Upstream, options: UdpPoolOptions = {}): PooledExchange {
  const {
    sockets: size = 1,
    queriesPerSocket = 1,
    maxSocketAgeMs = 10_000,
    open = defaultOpen(),
    onDrop = () => {},
    exactCase = false,
    now = () => performance.now(),
  } = options;
  // One client cookie per upstream, and the server cookie it last gave.
  const cookie = options.cookies ? new UpstreamCookie() : null;
  const expectedHost = canonicalHost(upstream.hostname);
  // The upstream's struct sockaddr, to check a reply's source without formatting it as text.
  const expectedRaw = rawAddress(upstream);
  // A batched socket then sends to it as it is, with no address to parse for each new socket.
  const target: Deno.NetAddr = expectedRaw
    ? new SocketPeer(expectedRaw)
    : { transport: "udp", hostname: upstream.hostname, port: upstream.port };
  const name = formatAddress(upstream);
  const active: PooledSocket[] = [];
  // Replies are kept (a cached answer is its reply's bytes): carved from small slabs, since an
  // ArrayBuffer each costs nearly a microsecond and a GC cost for as long as it lives. A slab
  // lives while any reply in it does; small slabs keep what a long-lived entry holds on to small.
  const replies = new ByteArena(REPLY_SLAB);
  const all = new Set<PooledSocket>();
  // Done with, on no port, waiting to be used again (most recent last).
  const idle: PooledSocket[] = [];
  const loops = new Set<Promise<void>>();
  let next = 0;
  let shut = false;

  function closeSocket(socket: PooledSocket): void {
    if (socket.closed) return;
    socket.closed = true;
    all.delete(socket);
    // A socket whose receive failed closes while still active: never hand it out again.
    const index = active.indexOf(socket);
    if (index >= 0) active.splice(index, 1);
    const parked = idle.indexOf(socket);
    if (parked >= 0) idle.splice(parked, 1);
    socket.conn.close();
    for (const waiting of socket.waiting.values()) {
      waiting.reject(new UpstreamError(`Socket to ${name} closed`));
    }
    socket.waiting.clear();
  }

  function retire(socket: PooledSocket): void {
    socket.retired = true;
    const index = active.indexOf(socket);
    if (index >= 0) active.splice(index, 1);
    if (socket.waiting.size === 0) release(socket);
  }

  /**
   * A retired socket whose last query is over: kept for another query when it can let go of its
   * port (the next send binds a new random one), closed otherwise.
   */
  function release(socket: PooledSocket): void {
    if (socket.closed) return;
    if (shut || idle.length >= MAX_IDLE || !socket.conn.renew?.()) {
      closeSocket(socket);
      return;
    }
    socket.sent = 0;
    socket.retired = false;
    idle.push(socket);
  }

  /**
   * Hands a datagram to the query waiting for it, after the checks of RFC 5452 section 9.1. One cut
   * short on reading (`cut`) would not decode: the query gets a stand-in instead, our own query
   * with QR and TC set, so that the forwarder asks again over TCP as for any truncated reply.
   */
  function deliver(socket: PooledSocket, data: Uint8Array, peer: Deno.NetAddr, cut: boolean): void {
    const fromUpstream = (expectedRaw !== null && SocketPeer.is(peer, expectedRaw)) ||
      (peer.port === upstream.port && canonicalHost(peer.hostname) === expectedHost);
    if (!fromUpstream) {
      onDrop("wrong-source", formatAddress(peer));
      return;
    }
    const id = data.length >= 2 ? (data[0]! << 8) | data[1]! : -1;
    const waiting = socket.waiting.get(id);
    if (!waiting) {
      onDrop("wrong-id", name);
      return;
    }
    const mismatch = replyMismatch(waiting.query, data, exactCase) ??
      (cut ? null : cookie?.check(data) ?? null);
    if (mismatch !== null) {
      onDrop(mismatch, name);
      return;
    }
    socket.waiting.delete(id);
    let reply: Uint8Array;
    if (cut) {
      reply = replies.copy(waiting.query);
      reply[2] = reply[2]! | 0x82; // QR, TC
    } else {
      reply = replies.copy(data);
    }
    waiting.resolve(reply);
    if (socket.retired && socket.waiting.size === 0) release(socket);
  }

  /** Hands every datagram the socket reads to deliver(); closes the socket when serving ends. */
  function serve(socket: PooledSocket): void {
    const loop = socket.conn.serve((batch) => {
      for (let i = 0; i < batch.count && !socket.closed; i++) {
        deliver(socket, batch.datagram(i), batch.senderNow(i), batch.cut(i));
      }
      return batch.count > 0; // replies resolve the queries' promises: microtasks to run before a wait
    }).catch((error) => {
      if (!socket.closed) log.warning("Upstream socket for {name} failed: {error}", { name, error });
    }).finally(() => {
      closeSocket(socket);
      loops.delete(loop);
    });
    loops.add(loop);
  }

  function pick(): PooledSocket {
    const time = now();
    // Backwards: retire() takes the socket out of `active`.
    for (let i = active.length - 1; i >= 0; i--) {
      const socket = active[i]!;
      if (socket.sent >= queriesPerSocket || time - socket.openedAt >= maxSocketAgeMs) retire(socket);
    }
    if (active.length < size) {
      const reused = idle.pop();
      if (reused) {
        reused.openedAt = time;
        active.push(reused);
        return reused;
      }
      let conn: DatagramSocket;
      try {
        conn = open(upstream);
      } catch (error) {
        // Out of descriptors, say: share the newest socket still open rather than fail the query.
        const spare = newest();
        if (!spare) throw error;
        return spare;
      }
      const socket: PooledSocket = {
        conn,
        waiting: new IdTable(),
        openedAt: time,
        sent: 0,
        retired: false,
        closed: false,
      };
      active.push(socket);
      all.add(socket);
      serve(socket);
      return socket;
    }
    return active[next++ % active.length]!;
  }

  /** The socket opened last of those still open (a retired one waits for replies). */
  function newest(): PooledSocket | undefined {
    let found: PooledSocket | undefined;
    for (const socket of all) found = socket; // a Set iterates in insertion order
    return found;
  }

  const exchange = function pooledUdpExchange(query: Uint8Array, signal: AbortLike): Promise<Uint8Array> {
    if (signal.aborted) return Promise.reject(new UpstreamTimeout(`No time left to query ${name}`));
    if (shut) return Promise.reject(new UpstreamError(`Upstream sockets for ${name} are closed`));
    let socket: PooledSocket;
    try {
      socket = pick();
    } catch (error) {
      return Promise.reject(new UpstreamError(`Cannot open a socket to query ${name}`, { cause: error }));
    }
    socket.sent++;
    // The forwarder's ID, unless another query waits on it on this socket: then a fresh one.
    let id = (query[0]! << 8) | query[1]!;
    let sent = query;
    while (socket.waiting.has(id)) id = crypto.getRandomValues(new Uint16Array(1))[0]!;
    if (id !== ((query[0]! << 8) | query[1]!)) {
      sent = query.slice();
      sent[0] = id >>> 8;
      sent[1] = id & 0xff;
    }
    if (cookie !== null) sent = cookie.addTo(sent);
    return new Promise<Uint8Array>((resolve, reject) => {
      const settle = () => {
        signal.removeEventListener("abort", onAbort);
        if (socket.retired && socket.waiting.size === 0) release(socket);
      };
      const onAbort = () => {
        if (socket.waiting.get(id) !== waiting) return;
        socket.waiting.delete(id);
        settle();
        reject(new UpstreamTimeout(`No reply from ${name}`));
      };
      const waiting: Waiting = {
        query: sent,
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      socket.waiting.set(id, waiting);
      signal.addEventListener("abort", onAbort, { once: true });
      // Its last query: no other joins it, and its port goes once this one has its reply or gives up.
      if (!socket.retired && socket.sent >= queriesPerSocket) retire(socket);
      const failed = (error: unknown) => {
        if (socket.waiting.get(id) !== waiting) return;
        socket.waiting.delete(id);
        settle();
        reject(new UpstreamError(`Cannot query ${name}`, { cause: error }));
      };
      const refused = () => failed(new Error("the kernel refused the datagram"));
      // A batched socket sends at once (no promise); Deno's through an op.
      try {
        const sending = socket.conn.send(sent, target);
        if (sending === false) refused();
        else if (sending !== true) sending.catch(failed);
      } catch (error) {
        failed(error);
      }
    });
  } as PooledExchange;
  exchange.close = async () => {
    shut = true;
    idle.length = 0;
    for (const socket of [...all]) closeSocket(socket);
    active.length = 0;
    await Promise.all(loops);
  };
  return exchange;
}
