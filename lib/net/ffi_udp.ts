/**
 * UDP sockets read in batches through FFI: recvmmsg(2) takes up to 64 datagrams in one call,
 * where `Deno.DatagramConn` costs one async op per datagram, which caps a Deno server well below
 * a native one (see the README's Benchmarks). The listening socket's replies go out together by
 * sendmmsg(2) (see `queueReply`); upstream queries by sendto(2), with no op in between. Every
 * socket hands each batch to its handler as it comes (`serve`): the listening one to the server,
 * the upstream ones (one per query in flight, each query on a new port) to the upstream pool,
 * reading into buffers they share. A {@link UdpReactor} waits for all of them. IPv4
 * and IPv6; Linux with glibc on 64-bit CPUs and `--allow-ffi`: elsewhere `Deno.listenDatagram`.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { ByteArena } from "../proto/mod.ts";
import type { BatchHandler, DatagramBatch, DatagramSocket, ReplyFailed } from "./datagram.ts";
import { RecvBatch } from "./recv_batch.ts";
import { steeringProgram } from "./reuseport_steering.ts";
import { lastErrno, type Libc, UdpReactor, type Watcher } from "./udp_reactor.ts";
import { SendBatch } from "./send_batch.ts";
import { familyOf, sockaddr, SOCKADDR_ROOM, SocketPeer, targetOf } from "./sockaddr.ts";

const log = getLogger(["dnsd", "server"]);

const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SOCK_NONBLOCK = 0x800;
/** Batches read for one wake-up before other sockets get their turn. */
const ROUNDS = 4;

/** SO_REUSEPORT could not be set on a socket (a kernel before Linux 3.9). */
export class ReusePortUnavailable extends Error {
  /** The error class name. */
  override name = "ReusePortUnavailable";
}

/** Whether batched UDP can work here: Linux, a 64-bit CPU, and permission to load libc. */
export function batchedUdpAvailable(): boolean {
  if (Deno.build.os !== "linux" || (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64")) {
    return false;
  }
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
  try {
    Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } }).close();
    return true;
  } catch {
    return false; // not glibc (musl, say): no libc.so.6 to load
  }
}

function sendTo(libc: Libc, fd: number, data: Uint8Array, to: Uint8Array): number {
  return Number(libc.symbols.sendto(fd, data, BigInt(data.length), 0, to, to.length));
}

/** The error Deno would throw for a failed bind(2), by errno, with Deno's wording. */
function bindError(code: number): Error {
  switch (code) {
    case 98: // EADDRINUSE
      return new Deno.errors.AddrInUse("Address already in use (os error 98)");
    case 99: // EADDRNOTAVAIL
      return new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)");
    case 13: // EACCES
      return new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    default:
      return new Error(`bind(2) failed (os error ${code})`);
  }
}

/** A new non-blocking UDP socket of `hostname`'s family, not yet bound. */
function newSocket(libc: Libc, hostname: string): number {
  // Non-blocking, as Deno's own sockets are: a full send buffer drops a datagram (as a busy network
  // would) rather than stall the thread every other answer waits on. Reads never wait either.
  const fd = libc.symbols.socket(familyOf(hostname), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw new Error(`socket(2) failed (os error ${lastErrno(libc)})`);
  return fd;
}

/** The address `fd` is bound to: its port is 0 until it is bound or has sent. */
function boundAddress(libc: Libc, fd: number, hostname: string): Deno.NetAddr {
  const bound = new Uint8Array(SOCKADDR_ROOM);
  libc.symbols.getsockname(fd, bound, new Uint32Array([SOCKADDR_ROOM]));
  return { transport: "udp", hostname, port: new DataView(bound.buffer).getUint16(2, false) };
}

const SOL_SOCKET = 1;
const SO_REUSEPORT = 15;
const SO_ATTACH_REUSEPORT_CBPF = 51;

/**
 * Has the SO_REUSEPORT group of `fd` (bound) pick a socket by the query's name, among its first
 * `count` (reuseport_steering.ts); replaces the program the group had. The group keeps it: sockets
 * that join later follow it. Returns 0, or errno when the kernel refuses (before Linux 4.5).
 */
function attachSteering(libc: Libc, fd: number, count: number): number {
  const program = steeringProgram(count);
  // struct sock_fprog: the number of instructions, then (8-aligned) a pointer to them.
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, program.length / 8, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(program))), true);
  return libc.symbols.setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog, fprog.length) === 0
    ? 0
    : lastErrno(libc);
}

/** {@link attachSteering}; a kernel that refuses leaves the choice by the sender's address and port, and the log says so. */
function steerByQueryName(libc: Libc, fd: number, count: number, hostname: string): boolean {
  const code = attachSteering(libc, fd, count);
  if (code === 0) return true;
  log.warning(
    "UDP on {hostname} goes to a worker by the sender's address and port, not by the query's name: " +
      "setsockopt(SO_ATTACH_REUSEPORT_CBPF) failed (os error {code}); each worker may cache a name again",
    { hostname, code },
  );
  return false;
}

/**
 * The port a new SO_REUSEPORT group may open on: `port` when no socket has it (`port` 0: one the
 * kernel picks), by binding a socket without SO_REUSEPORT there and closing it. Without this, a
 * socket setting SO_REUSEPORT would join the group of another process of the same user on that
 * port and take part of its traffic: for good when that process binds no TCP there; until its own
 * TCP bind fails when it is a second dnsd, the queries it took then lost. The operator expects
 * `address already in use`, at once.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
function freePort(libc: Libc, hostname: string, port: number): number {
  const address = sockaddr(hostname, port);
  const fd = newSocket(libc, hostname);
  try {
    if (libc.symbols.bind(fd, address, address.length) !== 0) throw bindError(lastErrno(libc));
    return boundAddress(libc, fd, hostname).port;
  } finally {
    libc.symbols.close(fd);
  }
}

/**
 * Opens a UDP socket bound to `hostname:port` (IPv4 or IPv6, by the address); its bound address
 * too. No SO_REUSEADDR (nor does `Deno.listenDatagram` set it): no other socket may share the port
 * and take its datagrams, unless `reusePort` asks for SO_REUSEPORT, which only this process's
 * workers set (the kernel lets only sockets of the same user join a port's group, and spreads
 * datagrams over them by the sender's address and port).
 * @throws {Deno.errors.AddrInUse} when the port is taken (AddrNotAvailable, PermissionDenied as Deno's)
 */
function bindSocket(
  libc: Libc,
  hostname: string,
  port: number,
  reusePort: boolean,
  steerAcross = 0,
  opensGroup = false,
): { fd: number; addr: Deno.NetAddr } {
  const address = sockaddr(hostname, opensGroup && reusePort ? freePort(libc, hostname, port) : port);
  const fd = newSocket(libc, hostname);
  if (reusePort && libc.symbols.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, new Int32Array([1]), 4) !== 0) {
    const code = lastErrno(libc);
    libc.symbols.close(fd);
    throw new ReusePortUnavailable(`setsockopt(SO_REUSEPORT) failed (os error ${code})`);
  }
  if (libc.symbols.bind(fd, address, address.length) !== 0) {
    const code = lastErrno(libc);
    libc.symbols.close(fd);
    throw bindError(code);
  }
  if (reusePort && steerAcross > 0) steerByQueryName(libc, fd, steerAcross, hostname);
  return { fd, addr: boundAddress(libc, fd, hostname) };
}

/** What a handler sees of `batch`; a sender it keeps is copied by `keep`. */
function viewOf(
  batch: RecvBatch,
  keep: (name: Uint8Array) => Uint8Array,
  replyTo: (i: number, data: Uint8Array) => boolean,
): DatagramBatch {
  return {
    get count() {
      return batch.count;
    },
    datagram: (i) => batch.datagram(i),
    cut: (i) => batch.cut(i),
    sender: (i) => new SocketPeer(keep(batch.name(i))),
    senderNow: (i) => batch.peer(i),
    replyTo,
  };
}

/** How a batched socket reads: into which batch, and what closing it also closes. */
interface BatchShape {
  /** Where it reads: its own, or one it shares with sockets whose handlers copy what they keep. */
  readonly batch: RecvBatch;
  /** Copies a sender's struct sockaddr that a handler keeps. */
  readonly keep: (name: Uint8Array) => Uint8Array;
  /** Called once the socket has closed (a reactor of its own, say). */
  readonly onClose?: () => void;
  /**
   * Where replies made through `replyTo` wait until the batch that asked for them is done, to go
   * out in one sendmmsg(2): the listening socket's. Without it, each goes at once by sendto(2).
   */
  readonly replies?: SendBatch;
  /** Whether it may let go of its port for a new one (see `DatagramSocket.renew`): upstream sockets. */
  readonly renewable?: boolean;
  /** Whether it may steer its port's group (see `DatagramSocket.steer`): a listening socket that opened it. */
  readonly steers?: boolean;
  /**
   * Datagrams it reads per wake-up. An upstream socket waits for one reply to one query: asking
   * recvmmsg(2) for more makes the kernel try, and fail, to take a second each time (about 0.3 µs
   * per answer). Anything more stays queued, and the next wait finds the socket readable again.
   */
  readonly perWake?: number;
}

/** struct sockaddr with family AF_UNSPEC: connect(2) to it undoes a UDP socket's association. */
const UNSPECIFIED = new Uint8Array(16);

/**
 * A socket `fd` as a {@link DatagramSocket} read through `reactor`: the listening socket and the
 * upstream sockets alike. Watched once served; the reactor closes the descriptor on unwatch.
 */
function batchedSocket(
  reactor: UdpReactor,
  fd: number,
  address: (closed: boolean) => Deno.NetAddr,
  shape: BatchShape,
): DatagramSocket {
  const libc = reactor.libc;
  const batch = shape.batch;
  let handler: BatchHandler | null = null;
  let closed = false;
  let parked = false; // renewed and not sent from since: no port, nothing to wait for
  let addr: Deno.NetAddr | undefined;
  let lastTarget: Deno.Addr | null = null;
  let lastRaw: Uint8Array = new Uint8Array(16);
  let ended = () => {};
  const finished = new Promise<void>((resolve) => ended = resolve);

  /** An upstream socket sends every query to one address: its struct sockaddr is made once. */
  function rawOf(to: Deno.Addr): Uint8Array {
    if (to !== lastTarget) {
      lastRaw = targetOf(to);
      lastTarget = to;
    }
    return lastRaw;
  }

  const replies = shape.replies;
  let replyFailed: ReplyFailed | undefined;
  // A failing counter must not keep the rest of the batch from going (nor, from a microtask, end
  // the process): logged instead.
  const refused = (to: Uint8Array, code: number) => {
    try {
      replyFailed?.(new SocketPeer(to.slice()), new Error(`sendmmsg(2) failed (os error ${code})`));
    } catch (error) {
      log.error("Counting a failed UDP reply failed: {error}", { error });
    }
  };
  /** Sends the replies the batch made (see `BatchShape.replies`). */
  function sendReplies(): void {
    if (replies && replies.count > 0 && !closed) replies.send(libc, fd, refused);
  }
  /**
   * Queues a reply made outside a batch's handler (a forwarded query's, when its upstream answers)
   * for one sendmmsg(2) once the microtasks queued so far have run: the replies that one wake-up's
   * upstream datagrams lead to reach `send()` in the same round of microtasks, and go out in one
   * system call instead of a sendto(2) each. False when it cannot wait (no room ever: sent alone).
   */
  function queueReply(data: Uint8Array, to: Uint8Array): boolean {
    if (replies!.count === 0) queueMicrotask(sendReplies);
    if (replies!.add(data, to)) return true;
    sendReplies(); // full: send those first
    if (!replies!.add(data, to)) return false;
    queueMicrotask(sendReplies);
    return true;
  }
  function replyTo(i: number, data: Uint8Array): boolean {
    if (closed) return false;
    if (replies) {
      if (replies.add(data, batch.name(i))) return true;
      sendReplies(); // full: send those first
      if (replies.add(data, batch.name(i))) return true;
    }
    return sendTo(libc, fd, data, batch.name(i)) >= 0;
  }
  const view = viewOf(batch, shape.keep, replyTo);
  let lastRead = 0;
  const watcher: Watcher = {
    fd,
    get lastRead() {
      return lastRead;
    },
    gathers: replies !== undefined,
    wanted: () => handler !== null && !parked,
    readable() {
      let pending = false;
      if (shape.perWake !== undefined) {
        lastRead = batch.read(libc, fd, shape.perWake);
        if (lastRead > 0 && handler!(view)) pending = true;
        batch.count = 0;
        return pending;
      }
      lastRead = 0;
      // A few batches while they come full, then the other sockets' turn.
      for (let round = 0; round < ROUNDS && !closed; round++) {
        const got = batch.read(libc, fd);
        lastRead += got;
        if (got === 0) break;
        try {
          if (handler!(view)) pending = true;
        } finally {
          sendReplies(); // the answers this batch had at hand, in one system call
        }
        if (got < batch.slots) break;
      }
      batch.count = 0;
      return pending;
    },
  };

  return {
    get addr() {
      // Read when first asked: an upstream socket's port is the kernel's pick at its first send.
      return addr ??= address(closed);
    },
    serve(serving, failed) {
      if (handler) throw new Error("the socket is served already");
      if (closed) return Promise.resolve();
      handler = serving;
      replyFailed = failed;
      reactor.watch(watcher);
      return finished;
    },
    send(data, to) {
      if (closed) throw new Deno.errors.BadResource("the socket is closed");
      if (replies && queueReply(data, rawOf(to))) return true;
      const sent = sendTo(libc, fd, data, rawOf(to)) >= 0;
      if (parked) {
        parked = false;
        addr = undefined;
        reactor.changed(); // a wait that left it out must look again
      }
      return sent;
    },
    ...(shape.steers ? { steer: (count: number) => !closed && attachSteering(libc, fd, count) === 0 } : {}),
    ...(shape.renewable
      ? {
        renew() {
          if (closed) return false;
          // Linux unhashes a UDP socket whose port it picked (not one bind(2) chose) when the
          // socket is disconnected, and binds it anew, at random, on its next send: what a new
          // socket would get, for one system call instead of socket(2) and close(2).
          if (libc.symbols.connect(fd, UNSPECIFIED, UNSPECIFIED.length) !== 0) return false;
          parked = true;
          addr = undefined;
          return true;
        },
      }
      : {}),
    close() {
      if (closed) return;
      sendReplies(); // replies queued in this round of microtasks still go
      closed = true;
      if (handler) reactor.unwatch(watcher);
      else libc.symbols.close(fd);
      shape.onClose?.();
      ended();
    },
  };
}

/**
 * Binds a batched UDP socket on an IPv4 or IPv6 address. Without a `reactor`, it has one of its
 * own, closed with it.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function listenBatchedUdp(
  options: {
    readonly hostname: string;
    readonly port: number;
    readonly reactor?: UdpReactor;
    /** Join the port's SO_REUSEPORT group (dnsd's workers; see {@link bindSocket}). */
    readonly reusePort?: boolean;
    /** With `reusePort`: this socket opens the group (the main thread's), so the port must be free. */
    readonly opensGroup?: boolean;
    /**
     * With `reusePort`: the first this many sockets of the group take the queries, each those for
     * its names. 0 (default): the kernel's choice. A socket that opens its group can steer it later
     * (`steer`).
     */
    readonly steerAcross?: number;
  },
): DatagramSocket {
  const reactor = options.reactor ?? new UdpReactor();
  const onClose = options.reactor ? undefined : () => void reactor.close();
  let bound: { fd: number; addr: Deno.NetAddr };
  try {
    bound = bindSocket(
      reactor.libc,
      options.hostname,
      options.port,
      options.reusePort ?? false,
      options.steerAcross,
      options.opensGroup,
    );
  } catch (error) {
    onClose?.();
    throw error;
  }
  // Senders outlive their batch (a forwarded query answers later): copied out of slabs, not allocated each.
  const senders = new ByteArena();
  return batchedSocket(reactor, bound.fd, () => bound.addr, {
    batch: new RecvBatch(64, 65_535),
    replies: new SendBatch(),
    keep: (name) => senders.copy(name),
    ...(onClose ? { onClose } : {}),
    steers: (options.reusePort ?? false) && (options.opensGroup ?? false),
  });
}

/**
 * Opens an upstream socket of `hostname`'s family (0.0.0.0, or :: for IPv6 upstreams), waited on
 * by `reactor`; meant for one query. It is not bound: its first send binds it to the wildcard
 * address on a port the kernel draws at random from the ephemeral range, as bind(2) to port 0
 * would, with one system call fewer. It reads into the reactor's shared upstream batch, so it
 * costs a descriptor and no buffer of its own; datagrams go to the handler given to `serve()` as
 * they are read, with no promise each.
 * @throws {Error} when no socket can be made (too many open files, say)
 */
export function openReactorSocket(reactor: UdpReactor, hostname = "0.0.0.0"): DatagramSocket {
  const libc = reactor.libc;
  const fd = newSocket(libc, hostname);
  // Once closed, the descriptor may be another socket's: no port to tell.
  const address = (closed: boolean) =>
    closed ? { transport: "udp" as const, hostname, port: 0 } : boundAddress(libc, fd, hostname);
  return batchedSocket(reactor, fd, address, {
    batch: reactor.upstreamBatch,
    keep: (name) => name.slice(), // rare: the upstream pool looks at senders in place
    renewable: true,
    perWake: 1,
  });
}
