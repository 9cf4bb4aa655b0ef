/**
 * TCP sockets under TLS that Deno gives no hold on, cut with shutdown(2) through FFI:
 *
 * - A client that stops in the middle of its TLS handshake keeps its socket after
 *   `TlsConn.close()`, since Deno finishes (or waits out) the handshake first (denoland/deno#14547).
 *   {@link TcpSockets.sever} shuts down the socket found by its two addresses; the handshake ends
 *   with an EOF, and Deno lets the socket go.
 * - `Deno.serve` (DNS over HTTPS) has no handshake or idle timeout and no connection limit, and
 *   hands out no connection. {@link TcpSockets.sweep} looks at every socket accepted on a port and
 *   shuts down those idle too long (by the kernel's TCP_INFO times of the last data each way), and
 *   the idlest past a cap on their number.
 *
 * The descriptors are tried in turn (/proc/self/fd cannot be listed without --allow-all), up to the
 * soft RLIMIT_NOFILE, stopping after {@link GAP} in a row that are not sockets: the kernel hands out
 * the lowest free descriptor, so the sockets in use sit low. A miss costs one failed getsockname(2),
 * about 0.3 µs. Linux with glibc and `--allow-ffi`, as batched UDP; elsewhere none is made
 * (docs/encrypted.md says so).
 * @module
 */
import { batchedUdpAvailable } from "./ffi_udp.ts";
import { sockaddr, SOCKADDR_ROOM } from "./sockaddr.ts";

const SHUT_RDWR = 2;
const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const IPPROTO_TCP = 6;
const TCP_INFO = 11;
const RLIMIT_NOFILE = 7;
/** The most descriptors looked at, whatever the limit says. */
const MOST_FDS = 1_048_576;
/** Descriptors in a row that are not sockets after which the rest are taken to be free too. */
const GAP = 4_096;
/** struct tcp_info's room, and its fields read here (Linux, include/uapi/linux/tcp.h). */
const TCP_INFO_ROOM = 104;
const TCPI_STATE = 0;
const TCPI_LAST_DATA_SENT = 44;
const TCPI_LAST_DATA_RECV = 52;
const TCP_ESTABLISHED = 1;

const SYMBOLS = {
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

/** Whether two struct sockaddrs name the same family, port and address (not the IPv6 flow label or scope). */
function same(got: Uint8Array, want: Uint8Array): boolean {
  const end = want.length === 16 ? 8 : 24;
  for (let i = 0; i < end; i++) {
    if (want.length === 28 && i >= 4 && i < 8) continue;
    if (got[i] !== want[i]) return false;
  }
  return true;
}

/** What one sweep found: sockets accepted on the port, and how many it shut down. */
export interface Sweep {
  readonly open: number;
  readonly closed: number;
}

/** Finds and shuts down TCP sockets of this process (see the module). */
export class TcpSockets {
  readonly #libc: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #highest: number;
  readonly #address = new Uint8Array(SOCKADDR_ROOM);
  readonly #size = new Uint32Array(1);

  private constructor(libc: Deno.DynamicLibrary<typeof SYMBOLS>) {
    this.#libc = libc;
    const limit = new BigUint64Array(2);
    const soft = libc.symbols.getrlimit(RLIMIT_NOFILE, limit) === 0 ? Number(limit[0]) : MOST_FDS;
    this.#highest = Math.min(MOST_FDS, soft);
  }

  /** One where FFI and glibc are there; null elsewhere. */
  static open(): TcpSockets | null {
    if (!batchedUdpAvailable()) return null;
    return new TcpSockets(Deno.dlopen("libc.so.6", SYMBOLS));
  }

  #name(fd: number, peer: boolean): Uint8Array | null {
    this.#size[0] = SOCKADDR_ROOM;
    const call = peer ? this.#libc.symbols.getpeername : this.#libc.symbols.getsockname;
    return call(fd, this.#address, this.#size) === 0 ? this.#address : null;
  }

  /**
   * Shuts down the socket connected from `remote` to `local`, both ways.
   * @returns whether one was found
   */
  sever(local: Deno.NetAddr, remote: Deno.NetAddr): boolean {
    let want: { local: Uint8Array; remote: Uint8Array };
    try {
      want = { local: sockaddr(local.hostname, local.port), remote: sockaddr(remote.hostname, remote.port) };
    } catch {
      return false; // not an IP address
    }
    for (let fd = 0, misses = 0; fd < this.#highest && misses < GAP; fd++) {
      const peer = this.#name(fd, true);
      misses = peer === null ? misses + 1 : 0;
      if (peer === null || !same(peer, want.remote)) continue;
      const own = this.#name(fd, false);
      if (own === null || !same(own, want.local)) continue;
      return this.#libc.symbols.shutdown(fd, SHUT_RDWR) === 0;
    }
    return false;
  }

  /**
   * Shuts down the connections accepted on `local` that have had no data either way for `idleMs`,
   * then the idlest of the rest past `maxConnections`.
   */
  sweep(local: Deno.NetAddr, idleMs: number, maxConnections: number): Sweep {
    let want: Uint8Array;
    try {
      want = sockaddr(local.hostname, local.port);
    } catch {
      return { open: 0, closed: 0 };
    }
    const { getsockopt, shutdown } = this.#libc.symbols;
    const info = new Uint8Array(TCP_INFO_ROOM);
    const view = new DataView(info.buffer);
    const flag = new Int32Array(1);
    const size = new Uint32Array(1);
    const live: { fd: number; idle: number }[] = [];
    let closed = 0;
    for (let fd = 0, misses = 0; fd < this.#highest && misses < GAP; fd++) {
      const own = this.#name(fd, false);
      misses = own === null ? misses + 1 : 0;
      if (own === null || !same(own, want)) continue;
      size[0] = 4;
      if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, flag, size) !== 0 || flag[0] !== 0) continue; // the listener
      size[0] = TCP_INFO_ROOM;
      if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, size) !== 0) continue;
      if (info[TCPI_STATE] !== TCP_ESTABLISHED) continue;
      const idle = Math.min(
        view.getUint32(TCPI_LAST_DATA_RECV, true),
        view.getUint32(TCPI_LAST_DATA_SENT, true),
      );
      if (idle >= idleMs) {
        if (shutdown(fd, SHUT_RDWR) === 0) closed++;
      } else {
        live.push({ fd, idle });
      }
    }
    const open = live.length + closed;
    if (live.length > maxConnections) {
      live.sort((a, b) => b.idle - a.idle);
      for (const { fd } of live.slice(0, live.length - maxConnections)) {
        if (shutdown(fd, SHUT_RDWR) === 0) closed++;
      }
    }
    return { open, closed };
  }

  /** Unloads libc. */
  close(): void {
    this.#libc.close();
  }
}
