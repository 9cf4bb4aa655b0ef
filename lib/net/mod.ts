/**
 * Sockets: one datagram socket interface over Deno's sockets and the batched (recvmmsg through FFI)
 * ones. FFI, the UDP reactor, libc symbols and struct sockaddr live here and nowhere else.
 * @module
 */
export { fromDenoSocket, isClosedSocket, ReceiveBuffers } from "./datagram.ts";
export type { BatchHandler, DatagramBatch, DatagramSocket, DenoDatagram, ReplyFailed } from "./datagram.ts";
export { batchedUdpAvailable, listenBatchedUdp, openReactorSocket, ReusePortUnavailable } from "./ffi_udp.ts";
export { sockaddr, SocketPeer } from "./sockaddr.ts";
export { UdpReactor } from "./udp_reactor.ts";
export { ThreadCpuClock } from "./thread_cpu.ts";
export { listenUdp, openUpstreamSocket } from "./open.ts";
export {
  hostsAddresses,
  isLoopback,
  ListenAddressError,
  mergeDualStack,
  openResolverWarning,
  resolveListen,
} from "./listen_addresses.ts";
export type { BindAddress } from "./listen_addresses.ts";
export { disarmInspectorSignal, inspectorSignalHandler } from "./inspector_signal.ts";
export type { InspectorSignal } from "./inspector_signal.ts";
export { TcpSockets } from "./tcp_sockets.ts";
export type { Sweep } from "./tcp_sockets.ts";
