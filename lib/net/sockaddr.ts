/**
 * struct sockaddr_in and sockaddr_in6 for the FFI sockets (lib/ffi_udp.ts), Linux layout: the
 * family in host order (little-endian on the CPUs batched UDP runs on), then the port in network
 * order; an IPv4 address at offset 4, an IPv6 one at offset 8 after the flow label.
 * @module
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../proto/mod.ts";

export const AF_INET = 2;
export const AF_INET6 = 10;
/** The room a received sender's address needs: struct sockaddr_in6. */
export const SOCKADDR_ROOM = 28;

/** The address family `hostname` belongs to. */
export function familyOf(hostname: string): typeof AF_INET | typeof AF_INET6 {
  return hostname.includes(":") ? AF_INET6 : AF_INET;
}

/**
 * The struct sockaddr for an IP address and port.
 * @throws {TypeError} for text that is not an IP address (a name, or a zone such as `%eth0`)
 */
export function sockaddr(hostname: string, port: number): Uint8Array {
  const v6 = familyOf(hostname) === AF_INET6;
  const octets = v6 ? parseIPv6(hostname) : parseIPv4(hostname);
  if (!octets) throw new TypeError(`batched UDP takes an IP address, not "${hostname}"`);
  const address = new Uint8Array(v6 ? 28 : 16);
  const view = new DataView(address.buffer);
  view.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  view.setUint16(2, port, false);
  address.set(octets, v6 ? 8 : 4);
  return address;
}

/** How long the struct sockaddr at `start` of `raw` is, by its family. */
export function sockaddrLength(raw: Uint8Array, start = 0): number {
  return (raw[start]! | (raw[start + 1]! << 8)) === AF_INET6 ? 28 : 16;
}

/**
 * A sender as the kernel gave it (a struct sockaddr); its text is made only when asked for. Its
 * length follows from its family: `raw` may be longer (a receive slot).
 */
export class SocketPeer implements Deno.NetAddr {
  readonly transport = "udp";
  readonly #raw: Uint8Array;
  /** @param raw the struct sockaddr, which the peer keeps (no copy) */
  constructor(raw: Uint8Array) {
    this.#raw = raw;
  }
  get hostname(): string {
    const raw = this.#raw;
    return sockaddrLength(raw) === 28 ? formatIPv6(raw.subarray(8, 24)) : formatIPv4(raw.subarray(4, 8));
  }
  get port(): number {
    return (this.#raw[2]! << 8) | this.#raw[3]!;
  }
  /** The struct sockaddr, for sendto(2). */
  static raw(peer: SocketPeer): Uint8Array {
    const raw = peer.#raw;
    const length = sockaddrLength(raw);
    return raw.length === length ? raw : raw.subarray(0, length);
  }

  /** Whether `peer` is exactly `raw` (family, port and address): a check with no text made. */
  static is(peer: Deno.NetAddr, raw: Uint8Array): boolean {
    if (!(peer instanceof SocketPeer)) return false;
    const own = peer.#raw;
    if (sockaddrLength(own) !== raw.length) return false;
    // The family and port, then the address (an IPv6 one after the flow label, which is not compared).
    for (let i = 0; i < 4; i++) if (own[i] !== raw[i]) return false;
    const [from, to] = raw.length === 28 ? [8, 24] : [4, 8];
    for (let i = from; i < to; i++) if (own[i] !== raw[i]) return false;
    return true;
  }
}

/** The struct sockaddr to send to `to`: a received peer's own, or one made from its text. */
export function targetOf(to: Deno.Addr): Uint8Array {
  if (to instanceof SocketPeer) return SocketPeer.raw(to);
  const { hostname, port } = to as Deno.NetAddr;
  return sockaddr(hostname, port);
}
