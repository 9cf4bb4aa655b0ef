/**
 * How long the calling thread has wanted a CPU: the time it ran plus the time it waited in a run
 * queue, from /proc/thread-self/schedstat (Linux with schedstats), or the CPU time alone from
 * getrusage(2) where that file is missing. One event loop's own thread, not the process's. The
 * waiting counts: on a machine whose cores other processes share (the load generator, other
 * servers), a loop that always has datagrams to read may get only 60% of a core, and is full all
 * the same. Read through libc (Deno's file API wants --allow-all for /proc/thread-self), so Linux
 * with glibc and `--allow-ffi`.
 * @module
 */

const RUSAGE_THREAD = 1;
/** struct rusage: 2 timevals (16 octets each on 64-bit Linux), then 14 longs. */
const RUSAGE_SIZE = 144;
const O_RDONLY_CLOEXEC = 0x80000;

const SYMBOLS = {
  getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

const SCHEDSTAT = new TextEncoder().encode("/proc/thread-self/schedstat\0");

/** Reads the calling thread's time on and waiting for a CPU; one per thread (a worker opens its own). */
export class ThreadCpuClock {
  readonly #libc: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #usage = new BigInt64Array(RUSAGE_SIZE / 8);
  readonly #text = new Uint8Array(128);

  /** @throws {Error} where libc cannot be opened (no --allow-ffi, not glibc) */
  constructor() {
    this.#libc = Deno.dlopen("libc.so.6", SYMBOLS);
  }

  /**
   * Seconds this thread has run or waited to run since it started (NaN when neither can be read).
   * Only differences between two calls on the same thread mean anything.
   */
  seconds(): number {
    return this.#scheduled() ?? this.#cpu();
  }

  /** Run plus run-queue time from schedstat ("<run ns> <wait ns> <slices>"); undefined without it. */
  #scheduled(): number | undefined {
    const { open, read, close } = this.#libc.symbols;
    const fd = open(SCHEDSTAT, O_RDONLY_CLOEXEC);
    if (fd < 0) return undefined;
    const length = Number(read(fd, this.#text, BigInt(this.#text.length)));
    close(fd);
    if (length <= 0) return undefined;
    const [run, wait] = new TextDecoder().decode(this.#text.subarray(0, length)).split(" ").map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? (run! + wait!) / 1e9 : undefined;
  }

  /** User and system CPU time from getrusage(RUSAGE_THREAD). */
  #cpu(): number {
    if (this.#libc.symbols.getrusage(RUSAGE_THREAD, this.#usage) !== 0) return NaN;
    const u = this.#usage;
    // ru_utime and ru_stime: tv_sec, tv_usec each.
    return Number(u[0]! + u[2]!) + Number(u[1]! + u[3]!) / 1e6;
  }

  /** Lets go of libc. */
  close(): void {
    this.#libc.close();
  }
}
