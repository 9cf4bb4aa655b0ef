/**
 * Opening UDP sockets of the right kind: batched when a reactor is given (lib/net/ffi_udp.ts),
 * Deno's otherwise. The caller gets a {@link DatagramSocket} either way.
 * @module
 */
import { type DatagramSocket, fromDenoSocket, type ReceiveBuffers } from "./datagram.ts";
import { listenBatchedUdp, openReactorSocket } from "./ffi_udp.ts";
import type { UdpReactor } from "./udp_reactor.ts";

/**
 * Binds a listening UDP socket on `hostname:port`: batched, waited on by `reactor`, when one is
 * given; Deno's otherwise.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function listenUdp(
  options: {
    readonly hostname: string;
    readonly port: number;
    readonly reactor?: UdpReactor | undefined;
    /** Join the port's SO_REUSEPORT group: batched sockets only (Deno's cannot set it). */
    readonly reusePort?: boolean;
    /** With `reusePort`: this socket opens the group (the main thread's), so the port must be free. */
    readonly opensGroup?: boolean;
    /** With `reusePort`: how many of the group's sockets take its queries, each its names' (0: the kernel's choice). */
    readonly steerAcross?: number;
  },
): DatagramSocket {
  const { hostname, port, reactor } = options;
  const group = {
    reusePort: options.reusePort ?? false,
    steerAcross: options.steerAcross ?? 0,
    opensGroup: options.opensGroup ?? false,
  };
  return reactor
    ? listenBatchedUdp({ hostname, port, reactor, ...group })
    : fromDenoSocket(Deno.listenDatagram({ transport: "udp", hostname, port }));
}

/**
 * Opens a socket on an ephemeral port of the wildcard address `hostname`, for talking to an
 * upstream: batched, on the port its first send binds, when a reactor is given; Deno's otherwise,
 * receiving into a buffer from `buffers` when given.
 */
export function openUpstreamSocket(
  hostname: string,
  reactor?: UdpReactor,
  buffers?: ReceiveBuffers,
): DatagramSocket {
  return reactor
    ? openReactorSocket(reactor, hostname)
    : fromDenoSocket(Deno.listenDatagram({ transport: "udp", hostname, port: 0 }), buffers);
}
