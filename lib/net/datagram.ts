/**
 * One interface for a UDP socket, whichever kind it is: Deno's (`Deno.DatagramConn`, one async op
 * per datagram) or the batched one read through FFI (recvmmsg, lib/net/ffi_udp.ts). Knot DNS puts
 * its plain, recvmmsg and XDP I/O behind one `udp_api_t` the same way: nothing above this folder
 * asks which kind it has. Datagrams are pushed to a handler a batch at a time (a batch of one for
 * Deno's sockets), and a send says at once, or through a promise, whether the kernel took it.
 * @module
 */
import { getLogger } from "@logtape/logtape";

const log = getLogger(["dnsd", "net"]);

/** The datagrams of one wake-up, readable until the handler returns. */
export interface DatagramBatch {
  /** How many datagrams it holds (1 to 64). */
  readonly count: number;
  /** Datagram `i`: a view of the socket's own memory, overwritten by the next batch. */
  datagram(i: number): Uint8Array;
  /**
   * Whether datagram `i` was longer than the room for it, so that only its start was read. Never
   * with the buffers dnsd reads into (each has room for the largest UDP payload); a safety net.
   */
  cut(i: number): boolean;
  /** The sender of datagram `i`, as an address of its own that may be kept. */
  sender(i: number): Deno.NetAddr;
  /** The sender of datagram `i`, good only until the handler returns (no copy is made). */
  senderNow(i: number): Deno.NetAddr;
  /** Sends `data` to the sender of datagram `i`; false when it could not be sent. */
  replyTo(i: number, data: Uint8Array): boolean;
}

/**
 * Called with each batch as it comes. Returns true when it started asynchronous work, so a socket
 * that waits in FFI lets microtasks run before it blocks the thread again.
 */
export type BatchHandler = (batch: DatagramBatch) => boolean;

/**
 * Told when a reply made through {@link DatagramBatch.replyTo} turned out not to be sent, for a
 * socket that learns it only later (Deno's). A remote party can cause it (a spoofed source port 0),
 * so the server counts it rather than logging each one.
 */
export type ReplyFailed = (to: Deno.NetAddr, error: unknown) => void;

/** A UDP socket of either kind. */
export interface DatagramSocket {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /**
   * Hands every batch that arrives to `handler` until the socket closes, then settles. Rejects when
   * the socket fails for another reason; it may then be served again.
   */
  serve(handler: BatchHandler, replyFailed?: ReplyFailed): Promise<void>;
  /**
   * Sends one datagram. A batched upstream socket sends at once and says whether the kernel took it;
   * a batched listening socket queues it to go with the others made in the same round of microtasks
   * (true), and tells one the kernel refuses to `serve()`'s `replyFailed`. Deno's goes through an op:
   * its promise settles when the datagram is sent, and rejects when it is not.
   * (The op's own promise is handed back as it is: a `.then` would cost every answer a promise.)
   * @throws {Deno.errors.BadResource} when the socket is closed
   */
  send(data: Uint8Array, to: Deno.Addr): boolean | Promise<unknown>;
  /**
   * Lets go of the socket's port, so that its next send binds a new one the kernel draws at random;
   * datagrams to the old port are refused from then on. Only sockets that can (batched upstream
   * ones) have it; false when it failed, and the socket should be closed instead.
   */
  renew?(): boolean;
  /**
   * Has the first `count` sockets of the port's SO_REUSEPORT group take its queries, each those
   * for its names (lib/net/reuseport_steering.ts). Only a listening socket opened to steer its
   * group (`steerAcross`) has it; false when the kernel refused.
   */
  steer?(count: number): boolean;
  /** Closes the socket; `serve()` settles. A second close does nothing. */
  close(): void;
}

/** The part of a `Deno.DatagramConn` {@link fromDenoSocket} uses (so tests can pass a fake). */
export type DenoDatagram = Pick<Deno.DatagramConn, "send" | "receive" | "close" | "addr">;

/** Whether `error` means the socket was closed (which ends serving quietly). */
export function isClosedSocket(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/** Without a {@link ReplyFailed} of the server's: one line each. */
function logReplyFailure(to: Deno.NetAddr, error: unknown): void {
  log.error("Cannot send to {peer}: {error}", { peer: `${to.hostname}:${to.port}`, error });
}

/** The largest UDP payload (RFC 768 over IPv4), so no datagram is ever cut short on receive. */
const RECEIVE_BUFFER = 65_535;
/** Buffers a {@link ReceiveBuffers} keeps for reuse. */
const SPARE_BUFFERS = 256;

/**
 * Receive buffers passed from one short-lived Deno socket to the next (one per upstream query):
 * a fresh 64 KiB buffer costs about 11 µs to allocate, zero and collect, as much as the rest of
 * the socket. A buffer is given back only once its socket's last receive has settled, when Deno
 * no longer writes into it.
 */
export class ReceiveBuffers {
  readonly #spare: Uint8Array[] = [];

  /** A buffer of 65,535 octets, used before or new. */
  take(): Uint8Array {
    return this.#spare.pop() ?? new Uint8Array(RECEIVE_BUFFER);
  }

  /** Gives `buffer` back for another socket. */
  give(buffer: Uint8Array): void {
    if (this.#spare.length < SPARE_BUFFERS) this.#spare.push(buffer);
  }
}

/**
 * A Deno socket behind {@link DatagramSocket}: one receive loop with one reused buffer, each
 * datagram handed over as a batch of one. A reply made during the handler is awaited before the
 * next receive: one op at a time is cheaper than many in flight.
 */
export function fromDenoSocket(conn: DenoDatagram, buffers?: ReceiveBuffers): DatagramSocket {
  let closed = false;
  return {
    addr: conn.addr as Deno.NetAddr,
    async serve(handler, replyFailed = logReplyFailure) {
      const buffer = buffers?.take() ?? new Uint8Array(RECEIVE_BUFFER);
      try {
        await receiveLoop(buffer, handler, replyFailed);
      } finally {
        buffers?.give(buffer); // every receive has settled: Deno writes into it no more
      }
    },
    send(data, to) {
      return conn.send(data, to);
    },
    close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };

  async function receiveLoop(
    buffer: Uint8Array,
    handler: BatchHandler,
    replyFailed: ReplyFailed,
  ): Promise<void> {
    let data: Uint8Array = buffer;
    let peer: Deno.NetAddr = { transport: "udp", hostname: "", port: 0 };
    let replying: Promise<number> | null = null;
    const batch: DatagramBatch = {
      count: 1,
      datagram: () => data,
      cut: () => false, // the buffer holds the largest UDP payload
      sender: () => peer,
      senderNow: () => peer,
      replyTo(_, bytes) {
        replying = conn.send(bytes, peer);
        return true;
      },
    };
    while (!closed) {
      try {
        const [received, from] = await conn.receive(buffer);
        data = received;
        peer = from as Deno.NetAddr;
      } catch (error) {
        if (closed || isClosedSocket(error)) return;
        throw error;
      }
      handler(batch);
      if (replying) {
        try {
          await replying;
        } catch (error) {
          if (closed || isClosedSocket(error)) return;
          replyFailed(peer, error);
        }
        replying = null;
      }
    }
  }
}
