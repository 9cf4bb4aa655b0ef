/**
 * UDP sockets read in batches through FFI: recvmmsg(2) takes up to 64 datagrams in one call,
 * where `Deno.DatagramConn` costs one async op per datagram, which caps a Deno server well below
 * a native one (see the README's Benchmarks). Datagrams go out with sendto(2), with no op in
 * between. The listening socket hands each batch to the server as it comes (`serve`); upstream
 * sockets offer `Deno.DatagramConn`'s `send`/`receive`/`close`, so the upstream pool is the same.
 * A {@link UdpReactor} waits for all of them. IPv4 and IPv6; Linux with glibc on 64-bit CPUs and
 * `--allow-ffi`: everywhere else dnsd uses `Deno.listenDatagram`.
 * @module
 */
import { ByteArena } from "../proto/mod.ts";
import type { BatchHandler, DatagramBatch, DatagramSocket } from "./datagram.ts";
import { type Libc, UdpReactor, type Watcher } from "./udp_reactor.ts";
import { familyOf, sockaddr, SOCKADDR_ROOM, sockaddrLength, SocketPeer, targetOf } from "./sockaddr.ts";

const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SOCK_NONBLOCK = 0x800;
const MSG_DONTWAIT = 0x40;
const MMSGHDR = 64; // struct msghdr (56) + msg_len (4) + padding (4) on LP64
const NAME_SLOT = 32; // a struct sockaddr_in6 (28), aligned
/** Batches read for one wake-up before other sockets get their turn. */
const ROUNDS = 4;

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

function pointerOf(bytes: ArrayBufferView): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/** recvmmsg(2)'s arrays for `slots` datagrams of up to `slotSize` octets, in memory that never moves. */
class Batch {
  readonly #headers: Uint8Array;
  readonly #view: DataView;
  readonly #names: Uint8Array;
  readonly #slots: Uint8Array;
  readonly #slotSize: number;
  #peers: SocketPeer[] | undefined;
  count = 0;

  constructor(readonly slots: number, slotSize: number) {
    // One ArrayBuffer for everything the kernel reads pointers to: a small typed array may live
    // on V8's heap and move in a garbage collection, which would leave the kernel a stale pointer.
    const memory = new ArrayBuffer(slots * (MMSGHDR + 16 + NAME_SLOT + slotSize));
    this.#headers = new Uint8Array(memory, 0, slots * MMSGHDR);
    this.#view = new DataView(memory, 0, slots * MMSGHDR);
    const iovecs = new BigUint64Array(memory, slots * MMSGHDR, slots * 2);
    this.#names = new Uint8Array(memory, slots * (MMSGHDR + 16), slots * NAME_SLOT);
    this.#slots = new Uint8Array(memory, slots * (MMSGHDR + 16 + NAME_SLOT), slots * slotSize);
    this.#slotSize = slotSize;
    const [slotBase, nameBase, iovecBase] = [
      pointerOf(this.#slots),
      pointerOf(this.#names),
      pointerOf(iovecs),
    ];
    for (let i = 0; i < slots; i++) {
      this.#view.setBigUint64(i * MMSGHDR, nameBase + BigInt(i * NAME_SLOT), true); // msg_name
      this.#view.setBigUint64(i * MMSGHDR + 16, iovecBase + BigInt(i * 16), true); // msg_iov
      this.#view.setBigUint64(i * MMSGHDR + 24, 1n, true); // msg_iovlen
      iovecs[2 * i] = slotBase + BigInt(i * slotSize);
      iovecs[2 * i + 1] = BigInt(slotSize);
    }
  }

  /** Reads what has arrived on `fd` without waiting; the count (0 when nothing). */
  read(libc: Libc, fd: number): number {
    for (let i = 0; i < this.slots; i++) this.#view.setUint32(i * MMSGHDR + 8, SOCKADDR_ROOM, true); // msg_namelen
    const got = libc.symbols.recvmmsg(fd, this.#headers, this.slots, MSG_DONTWAIT, null);
    this.count = got > 0 ? got : 0;
    return this.count;
  }

  datagram(i: number): Uint8Array {
    const start = i * this.#slotSize;
    return this.#slots.subarray(start, start + this.#view.getUint32(i * MMSGHDR + 56, true));
  }

  /** The sender's struct sockaddr, in place (overwritten by the next read). */
  name(i: number): Uint8Array {
    const start = i * NAME_SLOT;
    return this.#names.subarray(start, start + sockaddrLength(this.#names, start));
  }

  /**
   * The sender of datagram `i` as a peer good until the next read: one object per slot, made once,
   * over the slot's own memory (for handlers that only look at it during the call).
   */
  peer(i: number): SocketPeer {
    const peers = this.#peers ??= Array.from(
      { length: this.slots },
      (_, slot) => new SocketPeer(this.#names.subarray(slot * NAME_SLOT, slot * NAME_SLOT + SOCKADDR_ROOM)),
    );
    return peers[i]!;
  }
}

function sendTo(libc: Libc, fd: number, data: Uint8Array, to: Uint8Array): number {
  return Number(libc.symbols.sendto(fd, data, BigInt(data.length), 0, to, to.length));
}

/** errno after a failed call on this thread. */
function errno(libc: Libc): number {
  const location = libc.symbols.__errno_location();
  return location ? new Deno.UnsafePointerView(location).getInt32() : 0;
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

/**
 * Opens a UDP socket bound to `hostname:port` (IPv4 or IPv6, by the address); its bound address
 * too. No SO_REUSEADDR (nor does `Deno.listenDatagram` set it): no other socket may share the port
 * and take its datagrams.
 * @throws {Deno.errors.AddrInUse} when the port is taken (AddrNotAvailable, PermissionDenied as Deno's)
 */
function bindSocket(libc: Libc, hostname: string, port: number): { fd: number; addr: Deno.NetAddr } {
  const address = sockaddr(hostname, port);
  // Non-blocking, as Deno's own sockets are: a full send buffer drops a datagram (as a busy network
  // would) rather than stall the thread every other answer waits on. Reads never wait either.
  const fd = libc.symbols.socket(familyOf(hostname), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw new Error(`socket(2) failed with errno ${errno(libc)}`);
  if (libc.symbols.bind(fd, address, address.length) !== 0) {
    const code = errno(libc);
    libc.symbols.close(fd);
    throw bindError(code);
  }
  const bound = new Uint8Array(SOCKADDR_ROOM);
  libc.symbols.getsockname(fd, bound, new Uint32Array([SOCKADDR_ROOM]));
  return { fd, addr: { transport: "udp", hostname, port: new DataView(bound.buffer).getUint16(2, false) } };
}

/** What a handler sees of `batch`; senders it keeps are copied into `senders`' slabs. */
function viewOf(
  batch: Batch,
  senders: ByteArena,
  replyTo: (i: number, data: Uint8Array) => boolean,
): DatagramBatch {
  return {
    get count() {
      return batch.count;
    },
    datagram: (i) => batch.datagram(i),
    sender: (i) => new SocketPeer(senders.copy(batch.name(i))),
    senderNow: (i) => batch.peer(i),
    replyTo,
  };
}

/** How a batched socket reads: its batch's size, and what closing it also closes. */
interface BatchShape {
  /** Datagrams per recvmmsg(2) call. */
  readonly slots: number;
  /** Octets per datagram; a longer one arrives cut short. */
  readonly slotSize: number;
  /** Called once the socket has closed (a reactor of its own, say). */
  readonly onClose?: () => void;
}

/**
 * A bound socket `fd` as a {@link DatagramSocket} read through `reactor`: the listening socket and
 * the upstream sockets alike. Watched once served; the reactor closes the descriptor on unwatch.
 */
function batchedSocket(
  reactor: UdpReactor,
  bound: { readonly fd: number; readonly addr: Deno.NetAddr },
  shape: BatchShape,
): DatagramSocket {
  const libc = reactor.libc;
  const { fd, addr } = bound;
  const batch = new Batch(shape.slots, shape.slotSize);
  // Senders outlive their batch (a forwarded query answers later): copied out of slabs, not allocated each.
  const senders = new ByteArena();
  let handler: BatchHandler | null = null;
  let closed = false;
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

  const view = viewOf(batch, senders, (i, data) => !closed && sendTo(libc, fd, data, batch.name(i)) >= 0);
  const watcher: Watcher = {
    fd,
    wanted: () => handler !== null,
    readable() {
      let pending = false;
      // A few batches while they come full, then the other sockets' turn.
      for (let round = 0; round < ROUNDS && !closed; round++) {
        const got = batch.read(libc, fd);
        if (got === 0) break;
        if (handler!(view)) pending = true;
        if (got < batch.slots) break;
      }
      batch.count = 0;
      return pending;
    },
  };

  return {
    addr,
    serve(serving) {
      if (handler) throw new Error("the socket is served already");
      if (closed) return Promise.resolve();
      handler = serving;
      reactor.watch(watcher);
      return finished;
    },
    send(data, to) {
      if (closed) throw new Deno.errors.BadResource("the socket is closed");
      return sendTo(libc, fd, data, rawOf(to)) >= 0;
    },
    close() {
      if (closed) return;
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
  options: { readonly hostname: string; readonly port: number; readonly reactor?: UdpReactor },
): DatagramSocket {
  const reactor = options.reactor ?? new UdpReactor();
  const onClose = options.reactor ? undefined : () => void reactor.close();
  let bound: { fd: number; addr: Deno.NetAddr };
  try {
    bound = bindSocket(reactor.libc, options.hostname, options.port);
  } catch (error) {
    onClose?.();
    throw error;
  }
  return batchedSocket(reactor, bound, { slots: 64, slotSize: 65_535, ...(onClose ? { onClose } : {}) });
}

/**
 * Opens an upstream socket on an ephemeral port of `hostname` (0.0.0.0, or :: for IPv6 upstreams),
 * waited on by `reactor`. Replies larger than 4,096 octets arrive cut short (dnsd asks for 1,232 at
 * most). Datagrams go to the handler given to `serve()` as they are read, with no promise each.
 */
export function openReactorSocket(reactor: UdpReactor, hostname = "0.0.0.0"): DatagramSocket {
  return batchedSocket(reactor, bindSocket(reactor.libc, hostname, 0), { slots: 16, slotSize: 4096 });
}
