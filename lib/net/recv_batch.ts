/**
 * recvmmsg(2)'s arrays: the headers, iovecs, sender addresses and datagram slots of one batch, in
 * one ArrayBuffer whose memory never moves. The listening socket has a batch of its own; the
 * upstream sockets of one reactor share one (see `UdpReactor.upstreamBatch`).
 * @module
 */
import type { Libc } from "./udp_reactor.ts";
import { SOCKADDR_ROOM, sockaddrLength, SocketPeer } from "./sockaddr.ts";

const MSG_DONTWAIT = 0x40;
/** Set in a datagram's msg_flags when it was longer than its slot and arrived cut short. */
const MSG_TRUNC = 0x20;
const MMSGHDR = 64; // struct msghdr (56) + msg_len (4) + padding (4) on LP64
const MSG_FLAGS = 48; // msghdr.msg_flags
const MSG_LEN = 56; // mmsghdr.msg_len
const NAME_SLOT = 32; // a struct sockaddr_in6 (28), aligned

/** The address of `bytes`' memory, as a struct's pointer field holds it. */
export function pointerOf(bytes: ArrayBufferView): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/** recvmmsg(2)'s arrays for `slots` datagrams of up to `slotSize` octets, in memory that never moves. */
export class RecvBatch {
  readonly #headers: Uint8Array;
  readonly #view: DataView;
  readonly #names: Uint8Array;
  readonly #slots: Uint8Array;
  readonly #slotSize: number;
  #peers: SocketPeer[] | undefined;
  /** How many datagrams the last read got. */
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

  /** Reads up to `max` datagrams that have arrived on `fd`, without waiting; the count (0 when nothing). */
  read(libc: Libc, fd: number, max: number = this.slots): number {
    for (let i = 0; i < max; i++) this.#view.setUint32(i * MMSGHDR + 8, SOCKADDR_ROOM, true); // msg_namelen
    const got = libc.symbols.recvmmsg(fd, this.#headers, max, MSG_DONTWAIT, null);
    this.count = got > 0 ? got : 0;
    return this.count;
  }

  /** Datagram `i` of the last read, in place (overwritten by the next read). */
  datagram(i: number): Uint8Array {
    const start = i * this.#slotSize;
    return this.#slots.subarray(start, start + this.#view.getUint32(i * MMSGHDR + MSG_LEN, true));
  }

  /** Whether datagram `i` was longer than its slot, so that only its start was read. */
  cut(i: number): boolean {
    return (this.#view.getInt32(i * MMSGHDR + MSG_FLAGS, true) & MSG_TRUNC) !== 0;
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
