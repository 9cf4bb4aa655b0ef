/**
 * A UDP socket that receives in batches: recvmmsg(2) through FFI takes up to 64 datagrams in one
 * call, where `Deno.DatagramConn` costs one async op per datagram, which caps a Deno server well
 * below a native one (see the README's Benchmarks). Replies go out with sendto(2), one call each,
 * with no op in between. It offers the same `receive`/`send`/`close` as `Deno.DatagramConn`, so the
 * server loop is the same. Linux on 64-bit CPUs, IPv4, `--allow-ffi`; everything else uses
 * `Deno.listenDatagram`.
 * @module
 */

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_RCVTIMEO = 20;
const MSG_WAITFORONE = 0x10000;
const BATCH = 64;
const SLOT = 65_535;
const MMSGHDR = 64; // struct msghdr (56) + msg_len (4) + padding (4) on LP64
/** How often a blocked receive wakes to see whether the socket was closed. */
const WAKE_MS = 100;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // On a worker thread; resolves once at least one datagram is in, or the wake-up timeout passes.
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32", nonblocking: true },
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

/** A batched UDP socket, shaped like the part of `Deno.DatagramConn` the server uses. */
export interface BatchedDatagram {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** The next datagram (copied into `buffer` when one is given) and its sender. */
  receive(buffer?: Uint8Array<ArrayBuffer>): Promise<[Uint8Array<ArrayBuffer>, Deno.Addr]>;
  /** Sends one datagram. */
  send(data: Uint8Array, addr: Deno.Addr): Promise<number>;
  /** Closes the socket; a pending `receive()` rejects with `Deno.errors.BadResource`. */
  close(): void;
}

/**
 * Binds a batched UDP socket on an IPv4 address.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function listenBatchedUdp(
  options: { readonly hostname: string; readonly port: number },
): BatchedDatagram {
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
  const memory = new ArrayBuffer(BATCH * (MMSGHDR + 16 + 16 + SLOT));
  const headers = new Uint8Array(memory, 0, BATCH * MMSGHDR);
  const iovecs = new BigUint64Array(memory, BATCH * MMSGHDR, BATCH * 2);
  const names = new Uint8Array(memory, BATCH * (MMSGHDR + 16), BATCH * 16);
  const slots = new Uint8Array(memory, BATCH * (MMSGHDR + 32), BATCH * SLOT);
  const view = new DataView(memory, 0, BATCH * MMSGHDR);
  const nameView = new DataView(memory, BATCH * (MMSGHDR + 16), BATCH * 16);
  const [slotBase, nameBase, iovecBase] = [pointerOf(slots), pointerOf(names), pointerOf(iovecs)];
  for (let i = 0; i < BATCH; i++) {
    view.setBigUint64(i * MMSGHDR, nameBase + BigInt(i * 16), true); // msg_name
    view.setBigUint64(i * MMSGHDR + 16, iovecBase + BigInt(i * 16), true); // msg_iov
    view.setBigUint64(i * MMSGHDR + 24, 1n, true); // msg_iovlen
    iovecs[2 * i] = slotBase + BigInt(i * SLOT);
    iovecs[2 * i + 1] = BigInt(SLOT);
  }

  let count = 0; // datagrams in the current batch
  let next = 0; // the next one to hand out
  let closed = false;
  let receiving: Promise<number> | null = null;
  const target = new Uint8Array(16);

  function peerOf(i: number): Deno.NetAddr {
    const at = i * 16;
    const hostname = `${names[at + 4]}.${names[at + 5]}.${names[at + 6]}.${names[at + 7]}`;
    return { transport: "udp", hostname, port: nameView.getUint16(at + 2, false) };
  }

  let shutDown = false;
  function shut(): void {
    if (shutDown) return;
    shutDown = true;
    libc.symbols.close(fd);
    libc.close();
  }

  async function fill(): Promise<void> {
    while (!closed) {
      for (let i = 0; i < BATCH; i++) view.setUint32(i * MMSGHDR + 8, 16, true); // msg_namelen
      const started = performance.now();
      receiving = libc.symbols.recvmmsg(fd, headers, BATCH, MSG_WAITFORONE, null);
      const got = await receiving;
      receiving = null;
      if (closed) break;
      if (got > 0) {
        count = got;
        next = 0;
        return;
      }
      // -1 after the wake-up timeout (EAGAIN) is the normal idle case. A quick -1 is an error that
      // would repeat: pause briefly rather than spin.
      if (performance.now() - started < WAKE_MS / 2) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    shut();
    throw new Deno.errors.BadResource("the socket is closed");
  }

  return {
    addr,
    async receive(buffer) {
      if (closed) throw new Deno.errors.BadResource("the socket is closed");
      if (next >= count) await fill();
      const i = next++;
      const length = view.getUint32(i * MMSGHDR + 56, true);
      const slot = slots.subarray(i * SLOT, i * SLOT + length);
      const data = buffer ? buffer.subarray(0, length) : new Uint8Array(length);
      data.set(slot);
      return [data, peerOf(i)];
    },
    send(data, to) {
      if (closed) return Promise.reject(new Deno.errors.BadResource("the socket is closed"));
      const peer = to as Deno.NetAddr;
      target.set(sockaddr(peer.hostname, peer.port));
      const sent = libc.symbols.sendto(fd, data, BigInt(data.length), 0, target, 16);
      return Promise.resolve(Number(sent));
    },
    close() {
      if (closed) return;
      closed = true;
      // A receive blocked in the worker thread returns within WAKE_MS and closes the socket then.
      if (!receiving) shut();
    },
  };
}
