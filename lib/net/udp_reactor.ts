/**
 * One wait for every UDP socket dnsd reads through FFI: the listening socket and the upstream
 * sockets. When idle, a worker thread waits in poll(2) (FFI `nonblocking`) while Deno's event
 * loop runs as usual. While datagrams keep coming, that hand-over (a worker thread's wake-up and
 * a promise) costs more than an answer, so the reactor waits on the main thread instead, in
 * poll(2) on the sockets and on Deno's own epoll descriptors: anything the event loop has to do
 * (a TCP connection, a timer set, a signal) makes those readable and ends the wait, and the event
 * loop gets a turn at least every `loopTurnMs` (2 ms) for its timers, through an immediate (a
 * macrotask: Deno polls its timers and I/O before it runs one). It never blocks the thread while a
 * microtask is queued, so answers in progress go on. While busy with queries coming faster than
 * one at a time, it pauses a moment before the next wait so that more gather for one read
 * (`coalesce.ts`). Linux on 64-bit CPUs.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { COALESCE_US, coalescePause } from "./coalesce.ts";
import { afterMicrotasks, eventLoopDescriptors } from "./event_loop_fds.ts";
import { RecvBatch } from "./recv_batch.ts";

const log = getLogger(["dnsd", "server"]);

const POLLIN = 0x1;
const POLL_READY = 0x1 | 0x8 | 0x10 | 0x20; // POLLIN, POLLERR, POLLHUP, POLLNVAL
const EFD_NONBLOCK = 0x800;
const EFD_CLOEXEC = 0x80000;
/** How long a worker thread's wait lasts before it looks again (a safety net; wakes are explicit). */
const IDLE_WAIT_MS = 1000;
/** The longest a busy reactor keeps the main thread from Deno's event loop. */
const LOOP_TURN_MS = 2;
/** Room in the struct pollfd array before it grows. */
const INITIAL_FDS = 32;
/** Datagrams per read of the upstream sockets' shared batch: one (see `BatchShape.perWake`). */
const UPSTREAM_SLOTS = 1;
/** The largest UDP payload (RFC 768 over IPv4): no upstream reply is ever cut short. */
const MAX_DATAGRAM = 65_535;

/** The C functions the FFI sockets use. */
export const LIBC_SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  // With a timeout in nanoseconds (poll's is in ms): the pause that lets datagrams gather.
  ppoll: { parameters: ["buffer", "u64", "buffer", "pointer"], result: "i32" },
  // The same on a worker thread: the main thread goes on meanwhile.
  pollInWorker: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  // glibc's thread-local errno, read right after a failed call on the same thread.
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** libc, opened with {@link LIBC_SYMBOLS}. */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;

/** errno after a failed call on this thread. */
export function lastErrno(libc: Libc): number {
  const location = libc.symbols.__errno_location();
  return location ? new Deno.UnsafePointerView(location).getInt32() : 0;
}

/** A socket the reactor waits on. */
export interface Watcher {
  /** Its file descriptor. */
  readonly fd: number;
  /** Whether it has room for more datagrams now (one with unread datagrams is left out of the wait). */
  wanted(): boolean;
  /** Reads what is there without blocking. True when that left promise work queued. */
  readable(): boolean;
  /** Datagrams the last `readable()` took. */
  readonly lastRead: number;
  /**
   * Whether its datagrams may wait a moment to be read together (a listening socket's queries);
   * not a socket whose datagram a client already waits for (an upstream reply).
   */
  readonly gathers: boolean;
}

/** Options for {@link UdpReactor}. */
export interface UdpReactorOptions {
  /** The longest the main thread goes without an event loop turn while busy (ms); for tests. */
  readonly loopTurnMs?: number;
  /** Octets per slot of the upstream sockets' shared batch (default 65,535); smaller for tests. */
  readonly upstreamSlotSize?: number;
  /** The longest pause for queries to gather while busy (µs; default 100, 0: none); see `coalesce.ts`. */
  readonly coalesceUs?: number;
}

/** Waits for many FFI sockets at once; see the module documentation. */
export class UdpReactor {
  /** libc, for the sockets this reactor waits on (they share its handle). */
  readonly libc: Libc;
  readonly #loopFds: number[];
  readonly #wakeFd: number;
  readonly #wakeBuffer = new BigUint64Array(new ArrayBuffer(8));
  readonly #watchers = new Set<Watcher>();
  readonly #loopTurnMs: number;
  readonly #upstreamSlotSize: number;
  readonly #coalesceUs: number;
  /** struct pollfd for Deno's epoll descriptors alone: a pause ends when the event loop has work. */
  readonly #loopPollBytes: Uint8Array;
  /** struct timespec of a pause, and the pause it holds (µs). */
  readonly #pauseSpec = new BigInt64Array(2);
  #pauseUs = 0;
  #upstreamBatch: RecvBatch | undefined;
  /** Descriptors closed once no wait in a worker thread can still be looking at them. */
  readonly #closing: number[] = [];
  readonly #polled: Watcher[] = [];
  // struct pollfd array: in an ArrayBuffer's own memory, which never moves while a worker thread uses it.
  #pollBytes = new Uint8Array(new ArrayBuffer(8 * INITIAL_FDS));
  #pollView = new DataView(this.#pollBytes.buffer);
  #running: Promise<void> | null = null;
  #looping = false;
  #waitingInWorker = false;
  #busy = false; // datagrams came lately: wait on this thread
  #settled = true; // no microtask is queued by what the reactor handed out
  #turnAt = 0; // when the event loop last had a turn
  #closed = false;
  #lastRead = 0; // datagrams the last dispatch read from listening sockets
  #awaitingReplies = false; // an upstream socket is among those waited on

  /** Opens libc and the wake-up descriptor. */
  constructor(options: UdpReactorOptions = {}) {
    this.libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
    this.#wakeFd = this.libc.symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    this.#loopFds = eventLoopDescriptors((path, target, size) =>
      this.libc.symbols.readlink(path, target, size)
    );
    this.#loopTurnMs = options.loopTurnMs ?? LOOP_TURN_MS;
    this.#coalesceUs = options.coalesceUs ?? COALESCE_US;
    this.#loopPollBytes = new Uint8Array(new ArrayBuffer(8 * Math.max(1, this.#loopFds.length)));
    const loopPoll = new DataView(this.#loopPollBytes.buffer);
    this.#loopFds.forEach((fd, i) => {
      loopPoll.setInt32(i * 8, fd, true);
      loopPoll.setInt32(i * 8 + 4, POLLIN, true);
    });
    this.#upstreamSlotSize = options.upstreamSlotSize ?? MAX_DATAGRAM;
  }

  /**
   * The buffer every upstream socket of this reactor reads into (64 KiB), made on first use. One
   * serves them all: a socket's read and its handler run to the end within one dispatch, one
   * socket at a time, and the handler copies what it keeps. So a socket per upstream query costs
   * a descriptor, not a megabyte.
   */
  get upstreamBatch(): RecvBatch {
    return this.#upstreamBatch ??= new RecvBatch(UPSTREAM_SLOTS, this.#upstreamSlotSize);
  }

  /** Starts waiting on `watcher`. */
  watch(watcher: Watcher): void {
    if (this.#closed) throw new Deno.errors.BadResource("the UDP reactor is closed");
    this.#watchers.add(watcher);
    this.changed();
    // Not `#running ??=`: a loop that has just seen its last watcher go is over even though its
    // promise has yet to settle, and a socket per upstream query makes that common.
    if (!this.#looping) {
      this.#looping = true;
      this.#running = this.#run();
    }
  }

  /** Stops waiting on `watcher` and closes its descriptor (once no wait uses it). */
  unwatch(watcher: Watcher): void {
    if (!this.#watchers.delete(watcher)) return;
    if (this.#waitingInWorker) {
      this.#closing.push(watcher.fd);
      this.changed();
    } else {
      this.libc.symbols.close(watcher.fd);
    }
  }

  /** A watcher became wanted, or the set changed: a wait in a worker thread must look again. */
  changed(): void {
    if (!this.#waitingInWorker) return;
    this.#wakeBuffer[0] = 1n;
    this.libc.symbols.write(this.#wakeFd, this.#wakeBuffer, 8n);
  }

  /** Closes the reactor once every watcher is gone; resolves when its wait has ended. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const watcher of [...this.#watchers]) this.unwatch(watcher);
    await this.#running;
    this.libc.symbols.close(this.#wakeFd);
    this.libc.close();
  }

  /** Writes the struct pollfd array: wanted watchers, then `extra`; returns how many. */
  #fill(extra: readonly number[]): number {
    const polled = this.#polled;
    polled.length = 0;
    let awaitingReplies = false;
    for (const watcher of this.#watchers) {
      if (!watcher.wanted()) continue;
      polled.push(watcher);
      if (!watcher.gathers) awaitingReplies = true;
    }
    this.#awaitingReplies = awaitingReplies;
    const count = polled.length + extra.length;
    if (count * 8 > this.#pollBytes.length) {
      this.#pollBytes = new Uint8Array(new ArrayBuffer(count * 16));
      this.#pollView = new DataView(this.#pollBytes.buffer);
    }
    const view = this.#pollView;
    for (let i = 0; i < count; i++) {
      view.setInt32(i * 8, i < polled.length ? polled[i]!.fd : extra[i - polled.length]!, true);
      view.setInt32(i * 8 + 4, POLLIN, true); // events, and revents cleared
    }
    return count;
  }

  /** Lets every watcher that poll(2) found ready read; says whether any was. */
  #dispatch(): boolean {
    const view = this.#pollView;
    let any = false;
    let gathered = 0;
    for (let i = 0; i < this.#polled.length; i++) {
      if ((view.getInt16(i * 8 + 6, true) & POLL_READY) === 0) continue;
      const watcher = this.#polled[i]!;
      if (!this.#watchers.has(watcher)) continue; // closed meanwhile
      any = true;
      try {
        if (watcher.readable()) this.#settled = false;
        if (watcher.gathers) gathered += watcher.lastRead;
      } catch (error) {
        // A socket's reader failing must not stop the wait for every other socket.
        this.#settled = false;
        log.error("Reading UDP failed: {error}", { error });
      }
    }
    this.#lastRead = gathered;
    return any;
  }

  async #run(): Promise<void> {
    try {
      while (this.#watchers.size > 0) {
        // Whatever was handed out runs before the next wait: consumers come back for more first.
        if (!this.#settled) {
          await afterMicrotasks(); // an event loop turn as well: timers, TCP and signals had theirs
          this.#settled = true;
          this.#turnAt = performance.now();
          continue;
        }
        if (this.#busy && this.#loopFds.length > 0) {
          const left = this.#turnAt + this.#loopTurnMs - performance.now();
          if (left <= 0) {
            // The event loop's turn, taken here: handing the wait to a worker thread and back costs
            // tens of microseconds across threads, an immediate about one.
            await afterMicrotasks();
            this.#turnAt = performance.now();
            continue;
          }
          this.#waitHere(left);
        } else await this.#waitInWorker();
      }
    } finally {
      this.#looping = false; // at once, so the next watch() starts a loop
    }
  }

  /** One wait on the main thread, for at most `left` ms (until the event loop's next turn). */
  #waitHere(left: number): void {
    const watched = this.#fill(this.#loopFds);
    const pauseUs = coalescePause({
      limitUs: this.#coalesceUs,
      lastRead: this.#lastRead,
      awaitingReplies: this.#awaitingReplies,
      untilTurnMs: left,
    });
    if (pauseUs > 0) {
      // The sockets are left out: what comes meanwhile waits for the read after the pause. Work for
      // the event loop ends the pause (the wait below then sees it too).
      if (pauseUs !== this.#pauseUs) {
        this.#pauseUs = pauseUs;
        this.#pauseSpec[1] = BigInt(pauseUs * 1000);
      }
      this.libc.symbols.ppoll(this.#loopPollBytes, BigInt(this.#loopFds.length), this.#pauseSpec, null);
    }
    const ready = this.libc.symbols.poll(this.#pollBytes, BigInt(watched), Math.ceil(left));
    if (ready <= 0) {
      this.#busy = false; // quiet: the event loop runs while a worker thread waits
      return;
    }
    // The event loop has work and no socket is ready: let it run.
    if (!this.#dispatch()) this.#busy = false;
  }

  /** One wait in a worker thread, while the event loop runs. */
  async #waitInWorker(): Promise<void> {
    const watched = this.#fill([this.#wakeFd]);
    this.#turnAt = performance.now();
    this.#waitingInWorker = true;
    let ready: number;
    try {
      ready = await this.libc.symbols.pollInWorker(this.#pollBytes, BigInt(watched), IDLE_WAIT_MS);
    } finally {
      this.#waitingInWorker = false;
      for (const fd of this.#closing.splice(0)) this.libc.symbols.close(fd);
    }
    if (ready < 0) {
      await new Promise((resolve) => setTimeout(resolve, 10)); // an error that would repeat: no spinning
      return;
    }
    if (this.#pollView.getInt16((watched - 1) * 8 + 6, true) & POLL_READY) {
      this.libc.symbols.read(this.#wakeFd, this.#wakeBuffer, 8n);
    }
    if (this.#dispatch()) this.#busy = true;
  }
}
