/**
 * A UDP socket that receives in batches: recvmmsg(2) through FFI takes up to 64 datagrams in one
 * call, where `Deno.DatagramConn` costs one async op per datagram, which caps a Deno server well
 * below a native one (see the README's Benchmarks). Replies go out with sendto(2), one call each,
 * with no op in between, and the server takes a batch at a time (`nextBatch`).
 *
 * Waiting: when idle, a worker thread waits in recvmmsg (FFI `nonblocking`) while Deno's event
 * loop runs as usual. While datagrams keep coming, that hand-over (a worker thread's wake-up and
 * a promise) costs more than an answer, so the socket waits on the main thread instead, in
 * poll(2) on itself and on Deno's own epoll descriptors: anything the event loop has to do (a
 * reply on an upstream socket, a timer set, a signal) makes those readable and ends the wait,
 * and the event loop gets a turn at least every 2 ms for its timers. It never blocks while a
 * microtask is queued, so answers in progress go on. Linux on 64-bit CPUs, IPv4, `--allow-ffi`;
 * everything else uses `Deno.listenDatagram`.
 * @module
 */

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_RCVTIMEO = 20;
const MSG_WAITFORONE = 0x10000;
const MSG_DONTWAIT = 0x40;
const POLLIN = 1;
const BATCH = 64;
const SLOT = 65_535;
const MMSGHDR = 64; // struct msghdr (56) + msg_len (4) + padding (4) on LP64
/** How often a blocked receive wakes to see whether the socket was closed. */
const WAKE_MS = 100;
/**
 * The longest a busy socket keeps the main thread from Deno's event loop, waiting or answering:
 * timers (upstream timeouts, say) fire at most this late.
 */
const LOOP_TURN_MS = 2;

import { afterMicrotasks, eventLoopDescriptors } from "./event_loop_fds.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // On a worker thread; resolves once at least one datagram is in, or the wake-up timeout passes.
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32", nonblocking: true },
  // The same call on the main thread, with MSG_DONTWAIT: what has arrived already, at once.
  recvmmsgNow: { name: "recvmmsg", parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

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

function sockaddr(hostname: string, port: number): Uint8Array {
  const octets = hostname.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) {
    throw new TypeError(`batched UDP takes an IPv4 address, not "${hostname}"`);
  }
  const address = new Uint8Array(16);
  const view = new DataView(address.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  address.set(octets, 4);
  return address;
}

/** A sender as the kernel gave it (struct sockaddr_in); its text is made only when asked for. */
class SocketPeer implements Deno.NetAddr {
  readonly transport = "udp";
  readonly #raw: Uint8Array;
  constructor(raw: Uint8Array) {
    this.#raw = raw;
  }
  get hostname(): string {
    const raw = this.#raw;
    return `${raw[4]}.${raw[5]}.${raw[6]}.${raw[7]}`;
  }
  get port(): number {
    return (this.#raw[2]! << 8) | this.#raw[3]!;
  }
  /** The struct sockaddr_in, for sendto(2). */
  static raw(peer: SocketPeer): Uint8Array {
    return peer.#raw;
  }
}

/** A batched UDP socket, shaped like the part of `Deno.DatagramConn` the server uses. */
export interface BatchedDatagram {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /**
   * Waits for datagrams and says how many came in (1 to 64); they stay readable through
   * `datagram(i)` and `sender(i)` until the next call. `callerSettled`: the caller started no
   * asynchronous work since its last call, so the wait may block the thread without delaying it.
   * @throws {Deno.errors.BadResource} once the socket is closed
   */
  nextBatch(callerSettled: boolean): Promise<number>;
  /** Datagram `i` of the batch: a view of the socket's own memory, overwritten by the next batch. */
  datagram(i: number): Uint8Array;
  /** The sender of datagram `i`. */
  sender(i: number): Deno.NetAddr;
  /** Sends `data` to the sender of datagram `i` now; false when the kernel refused it. */
  replyTo(i: number, data: Uint8Array): boolean;
  /** The next datagram (copied into `buffer` when one is given) and its sender. */
  receive(buffer?: Uint8Array<ArrayBuffer>): Promise<[Uint8Array<ArrayBuffer>, Deno.Addr]>;
  /** Sends one datagram. */
  send(data: Uint8Array, addr: Deno.Addr): Promise<number>;
  /** Closes the socket; a pending `receive()` rejects with `Deno.errors.BadResource`. */
  close(): void;
}

/** Whether `conn` reads in batches (so the server can take a batch at a time). */
export function isBatched(conn: object): conn is BatchedDatagram {
  return "nextBatch" in conn;
}

/**
 * Binds a batched UDP socket on an IPv4 address.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function listenBatchedUdp(
  options: {
    readonly hostname: string;
    readonly port: number;
    /** How long the main thread may go without an event loop turn (ms); for tests. */
    readonly loopTurnMs?: number;
  },
): BatchedDatagram {
  const loopTurnMs = options.loopTurnMs ?? LOOP_TURN_MS;
  const libc = Deno.dlopen("libc.so.6", SYMBOLS);
  const fd = libc.symbols.socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    libc.close();
    throw new Error("socket(2) failed");
  }
  // As Deno.listenDatagram does; and a receive timeout, so a blocked receive notices close().
  libc.symbols.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new Int32Array([1]), 4);
  const wake = new BigInt64Array([0n, BigInt(WAKE_MS * 1000)]); // struct timeval
  libc.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, wake, 16);
  if (libc.symbols.bind(fd, sockaddr(options.hostname, options.port), 16) !== 0) {
    libc.symbols.close(fd);
    libc.close();
    throw new Deno.errors.AddrInUse(`cannot bind ${options.hostname}:${options.port}`);
  }
  const bound = new Uint8Array(16);
  libc.symbols.getsockname(fd, bound, new Uint32Array([16]));
  const addr: Deno.NetAddr = {
    transport: "udp",
    hostname: options.hostname,
    port: new DataView(bound.buffer).getUint16(2, false),
  };

  // One large buffer for everything the kernel reads pointers to: a small typed array may live
  // on V8's heap and move in a garbage collection, which would leave the kernel a stale pointer.
  const loopFds = eventLoopDescriptors();
  const memory = new ArrayBuffer(BATCH * (MMSGHDR + 16 + 16 + SLOT) + 8 * (1 + loopFds.length));
  const headers = new Uint8Array(memory, 0, BATCH * MMSGHDR);
  const iovecs = new BigUint64Array(memory, BATCH * MMSGHDR, BATCH * 2);
  const names = new Uint8Array(memory, BATCH * (MMSGHDR + 16), BATCH * 16);
  const slots = new Uint8Array(memory, BATCH * (MMSGHDR + 32), BATCH * SLOT);
  const view = new DataView(memory, 0, BATCH * MMSGHDR);
  // struct pollfd for poll(2): this socket, then Deno's event loop.
  const pollFds = new Uint8Array(memory, BATCH * (MMSGHDR + 32 + SLOT), 8 * (1 + loopFds.length));
  const pollView = new DataView(memory, pollFds.byteOffset, pollFds.byteLength);
  [fd, ...loopFds].forEach((each, i) => {
    pollView.setInt32(i * 8, each, true);
    pollView.setInt16(i * 8 + 4, POLLIN, true);
  });
  const [slotBase, nameBase, iovecBase] = [pointerOf(slots), pointerOf(names), pointerOf(iovecs)];
  for (let i = 0; i < BATCH; i++) {
    view.setBigUint64(i * MMSGHDR, nameBase + BigInt(i * 16), true); // msg_name
    view.setBigUint64(i * MMSGHDR + 16, iovecBase + BigInt(i * 16), true); // msg_iov
    view.setBigUint64(i * MMSGHDR + 24, 1n, true); // msg_iovlen
    iovecs[2 * i] = slotBase + BigInt(i * SLOT);
    iovecs[2 * i + 1] = BigInt(SLOT);
  }

  let count = 0; // datagrams in the current batch
  let next = 0; // the next one receive() hands out
  let closed = false;
  let receiving: Promise<number> | null = null;

  let shutDown = false;
  function shut(): void {
    if (shutDown) return;
    shutDown = true;
    libc.symbols.close(fd);
    libc.close();
  }

  function take(got: number): number {
    count = got;
    next = 0;
    return got;
  }

  function resetNameLengths(): void {
    for (let i = 0; i < BATCH; i++) view.setUint32(i * MMSGHDR + 8, 16, true); // msg_namelen
  }

  function receiveNow(): number {
    resetNameLengths();
    return libc.symbols.recvmmsgNow(fd, headers, BATCH, MSG_DONTWAIT, null);
  }

  let turnAt = 0; // when the event loop last had a turn: the wait last went to a worker thread
  let busy = false; // datagrams came lately: wait on this thread
  let settled = false; // no microtask of anyone's is waiting: blocking the thread delays nothing

  /**
   * While datagrams keep coming, waits for the next on the main thread with poll(2): a worker
   * thread's wake-up and hand-over cost more than the answer. It waits only when nothing else
   * needs the thread (every microtask has run and Deno's event loop has nothing ready), and at
   * most `loopTurnMs` in all before the event loop gets a turn for its timers. 0 when the wait
   * should go to a worker thread, which lets the event loop run meanwhile.
   */
  async function fillBusy(callerSettled: boolean): Promise<number> {
    if (!busy || loopFds.length === 0) return 0;
    if (!callerSettled) settled = false;
    while (true) {
      const left = turnAt + loopTurnMs - performance.now();
      if (left <= 0) break;
      const got = receiveNow();
      if (got > 0) return take(got);
      if (!settled) {
        await afterMicrotasks();
        if (closed) return 0;
        settled = true;
        continue;
      }
      if (libc.symbols.poll(pollFds, BigInt(1 + loopFds.length), Math.ceil(left)) <= 0) break; // quiet
      if ((pollView.getInt16(6, true) & POLLIN) === 0) break; // the event loop has work
    }
    busy = false;
    return 0;
  }

  async function fill(callerSettled: boolean): Promise<number> {
    const got = await fillBusy(callerSettled);
    if (got > 0) return got;
    while (!closed) {
      resetNameLengths();
      const started = performance.now();
      turnAt = started;
      receiving = libc.symbols.recvmmsg(fd, headers, BATCH, MSG_WAITFORONE, null);
      const got = await receiving;
      receiving = null;
      if (closed) break;
      if (got > 0) {
        // The event loop ran while this waited: what it queued runs before the thread blocks.
        busy = true;
        settled = false;
        return take(got);
      }
      // -1 after the wake-up timeout (EAGAIN) is the normal idle case. A quick -1 is an error that
      // would repeat: pause briefly rather than spin.
      if (performance.now() - started < WAKE_MS / 2) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    shut();
    throw new Deno.errors.BadResource("the socket is closed");
  }

  function datagram(i: number): Uint8Array {
    return slots.subarray(i * SLOT, i * SLOT + view.getUint32(i * MMSGHDR + 56, true));
  }

  function sendTo(data: Uint8Array, to: Uint8Array): number {
    return Number(libc.symbols.sendto(fd, data, BigInt(data.length), 0, to, 16));
  }

  return {
    addr,
    nextBatch(callerSettled) {
      if (closed) return Promise.reject(new Deno.errors.BadResource("the socket is closed"));
      return fill(callerSettled);
    },
    datagram,
    sender(i) {
      return new SocketPeer(names.slice(i * 16, i * 16 + 16));
    },
    replyTo(i, data) {
      return !closed && sendTo(data, names.subarray(i * 16, i * 16 + 16)) >= 0;
    },
    async receive(buffer) {
      if (closed) throw new Deno.errors.BadResource("the socket is closed");
      // One at a time is never a settled caller: it goes on with the datagram after this returns.
      if (next >= count) await fill(false);
      const i = next++;
      const data = datagram(i);
      const copy = buffer ? buffer.subarray(0, data.length) : new Uint8Array(data.length);
      copy.set(data);
      return [copy, new SocketPeer(names.slice(i * 16, i * 16 + 16))];
    },
    send(data, to) {
      if (closed) return Promise.reject(new Deno.errors.BadResource("the socket is closed"));
      const target = to instanceof SocketPeer
        ? SocketPeer.raw(to)
        : sockaddr((to as Deno.NetAddr).hostname, (to as Deno.NetAddr).port);
      return Promise.resolve(sendTo(data, target));
    },
    close() {
      if (closed) return;
      closed = true;
      // A receive blocked in the worker thread returns within WAKE_MS and closes the socket then.
      if (!receiving) shut();
    },
  };
}
