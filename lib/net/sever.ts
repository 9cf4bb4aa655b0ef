/**
 * Cutting a TCP connection under a TLS stream that Deno will not close: a client that stops in the
 * middle of its TLS handshake keeps its socket after `TlsConn.close()`, since Deno finishes (or
 * waits out) the handshake first (denoland/deno#14547). A remote party could hold sockets that
 * way without end. shutdown(2) on the socket's descriptor, found by its two addresses, ends the
 * handshake with an EOF, and Deno then lets the socket go. Linux with glibc and `--allow-ffi`,
 * as batched UDP; elsewhere nothing is done (docs/encrypted.md says so).
 * @module
 */
import { batchedUdpAvailable } from "./ffi_udp.ts";
import { sockaddr, SOCKADDR_ROOM } from "./sockaddr.ts";

const SHUT_RDWR = 2;
/**
 * The descriptors looked at, lowest first (Deno hands out the lowest free one): /proc/self/fd
 * cannot be listed without --allow-all, so they are tried in turn; a miss costs one failed
 * getpeername(2) each, about 0.3 µs.
 */
const HIGHEST_FD = 65_536;

const SYMBOLS = {
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
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

/** Shuts down TCP connections by their addresses (see the module). */
export class SocketSeverer {
  readonly #libc: Deno.DynamicLibrary<typeof SYMBOLS>;

  private constructor(libc: Deno.DynamicLibrary<typeof SYMBOLS>) {
    this.#libc = libc;
  }

  /** One where FFI and glibc are there; null elsewhere. */
  static open(): SocketSeverer | null {
    if (!batchedUdpAvailable()) return null;
    return new SocketSeverer(Deno.dlopen("libc.so.6", SYMBOLS));
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
    const { getpeername, getsockname, shutdown } = this.#libc.symbols;
    const peer = new Uint8Array(SOCKADDR_ROOM);
    const own = new Uint8Array(SOCKADDR_ROOM);
    const size = new Uint32Array(1);
    for (let fd = 0; fd < HIGHEST_FD; fd++) {
      size[0] = SOCKADDR_ROOM;
      if (getpeername(fd, peer, size) !== 0 || !same(peer, want.remote)) continue;
      size[0] = SOCKADDR_ROOM;
      if (getsockname(fd, own, size) !== 0 || !same(own, want.local)) continue;
      return shutdown(fd, SHUT_RDWR) === 0;
    }
    return false;
  }

  /** Unloads libc. */
  close(): void {
    this.#libc.close();
  }
}
