/**
 * sendmmsg(2)'s arrays: the replies one wake-up of the listening socket makes, sent in one system
 * call when the batch that asked for them is done, instead of one sendto(2) each. Each reply and
 * its client's struct sockaddr are copied in (the caller's bytes are scratch memory, reused by the
 * next answer), in one ArrayBuffer whose memory never moves.
 * @module
 */
import { lastErrno, type Libc } from "./udp_reactor.ts";
import { pointerOf } from "./recv_batch.ts";
import { SOCKADDR_ROOM } from "./sockaddr.ts";

const MMSGHDR = 64; // struct msghdr (56) + msg_len (4) + padding (4) on LP64, as recv_batch.ts
const NAME_SLOT = 32; // a struct sockaddr_in6 (28), aligned
/** Replies a batch holds: as many as one read of the listening socket brings. */
const SLOTS = 64;
/** Room for their octets: 64 answers of 4 KiB, the most a client usually takes over UDP. */
const ROOM = SLOTS * 4096;

/** Told of a reply the kernel did not take, with its client's struct sockaddr and errno. */
export type SendFailed = (to: Uint8Array, errno: number) => void;

/** Replies waiting to be sent by one sendmmsg(2); see the module documentation. */
export class SendBatch {
  readonly #headers: Uint8Array;
  readonly #view: DataView;
  readonly #iovecs: BigUint64Array;
  readonly #names: Uint8Array;
  readonly #data: Uint8Array;
  readonly #dataBase: bigint;
  #count = 0;
  #used = 0;

  constructor() {
    // One ArrayBuffer for everything the kernel reads pointers to: a small typed array may live
    // on V8's heap and move in a garbage collection, which would leave the kernel a stale pointer.
    const memory = new ArrayBuffer(SLOTS * (MMSGHDR + 16 + NAME_SLOT) + ROOM);
    this.#headers = new Uint8Array(memory, 0, SLOTS * MMSGHDR);
    this.#view = new DataView(memory, 0, SLOTS * MMSGHDR);
    this.#iovecs = new BigUint64Array(memory, SLOTS * MMSGHDR, SLOTS * 2);
    this.#names = new Uint8Array(memory, SLOTS * (MMSGHDR + 16), SLOTS * NAME_SLOT);
    this.#data = new Uint8Array(memory, SLOTS * (MMSGHDR + 16 + NAME_SLOT), ROOM);
    this.#dataBase = pointerOf(this.#data);
    const namesBase = pointerOf(this.#names);
    const iovecsBase = pointerOf(this.#iovecs);
    for (let i = 0; i < SLOTS; i++) {
      this.#view.setBigUint64(i * MMSGHDR, namesBase + BigInt(i * NAME_SLOT), true); // msg_name
      this.#view.setBigUint64(i * MMSGHDR + 16, iovecsBase + BigInt(i * 16), true); // msg_iov
      this.#view.setBigUint64(i * MMSGHDR + 24, 1n, true); // msg_iovlen
    }
  }

  /** How many replies wait. */
  get count(): number {
    return this.#count;
  }

  /**
   * Copies `data` in, to go to `to` (a struct sockaddr); false when there is no room for it now
   * (send the batch, then add it again) or ever (more than the whole room: send it alone).
   */
  add(data: Uint8Array, to: Uint8Array): boolean {
    if (this.#count === SLOTS || this.#used + data.length > ROOM || to.length > SOCKADDR_ROOM) return false;
    const slot = this.#count++;
    this.#data.set(data, this.#used);
    this.#names.set(to, slot * NAME_SLOT);
    this.#view.setUint32(slot * MMSGHDR + 8, to.length, true); // msg_namelen
    this.#iovecs[2 * slot] = this.#dataBase + BigInt(this.#used);
    this.#iovecs[2 * slot + 1] = BigInt(data.length);
    this.#used += data.length;
    return true;
  }

  /**
   * Sends every reply waiting on `fd`, then empties the batch. A reply the kernel refuses (a full
   * send buffer, a client port of 0) is dropped and told to `failed`, as one sendto(2) would drop
   * it, and the rest still go: sendmmsg(2) stops at the first one it cannot send.
   */
  send(libc: Libc, fd: number, failed: SendFailed): void {
    const count = this.#count;
    let at = 0;
    while (at < count) {
      const headers = at === 0 ? this.#headers : this.#headers.subarray(at * MMSGHDR);
      const sent = libc.symbols.sendmmsg(fd, headers, count - at, 0);
      if (sent > 0) {
        at += sent;
        continue;
      }
      const start = at * NAME_SLOT;
      const length = this.#view.getUint32(at * MMSGHDR + 8, true);
      failed(this.#names.subarray(start, start + length), lastErrno(libc));
      at++;
    }
    this.#count = 0;
    this.#used = 0;
  }
}
