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

/** A UDP socket of either kind. */
export interface DatagramSocket {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /**
   * Hands every batch that arrives to `handler` until the socket closes, then settles. Rejects when
   * the socket fails for another reason; it may then be served again.
   */
  serve(handler: BatchHandler): Promise<void>;
  /**
   * Sends one datagram. A batched socket sends at once and says whether the kernel took it; Deno's
   * goes through an op: its promise settles when the datagram is sent, and rejects when it is not.
   * (The op's own promise is handed back as it is: a `.then` would cost every answer a promise.)
   * @throws {Deno.errors.BadResource} when the socket is closed
   */
  send(data: Uint8Array, to: Deno.Addr): boolean | Promise<unknown>;
  /** Closes the socket; `serve()` settles. A second close does nothing. */
  close(): void;
}

/** The part of a `Deno.DatagramConn` {@link fromDenoSocket} uses (so tests can pass a fake). */
export type DenoDatagram = Pick<Deno.DatagramConn, "send" | "receive" | "close" | "addr">;

/** Whether `error` means the socket was closed (which ends serving quietly). */
export function isClosedSocket(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/** The largest UDP payload (RFC 768 over IPv4), so no datagram is ever cut short on receive. */
const RECEIVE_BUFFER = 65_535;

/**
 * A Deno socket behind {@link DatagramSocket}: one receive loop with one reused buffer, each
 * datagram handed over as a batch of one. A reply made during the handler is awaited before the
 * next receive: one op at a time is cheaper than many in flight.
 */
export function fromDenoSocket(conn: DenoDatagram): DatagramSocket {
  let closed = false;
  return {
    addr: conn.addr as Deno.NetAddr,
    async serve(handler) {
      const buffer = new Uint8Array(RECEIVE_BUFFER);
      let data: Uint8Array = buffer;
      let peer: Deno.NetAddr = { transport: "udp", hostname: "", port: 0 };
      let replying: Promise<number> | null = null;
      const batch: DatagramBatch = {
        count: 1,
        datagram: () => data,
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
            log.error("Cannot send to {peer}: {error}", { peer: `${peer.hostname}:${peer.port}`, error });
          }
          replying = null;
        }
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
}
