/**
 * The answer side of one TCP connection: frames go out whole, one at a time, in the order they
 * were queued, under two bounds that a client that never reads must not escape (as NSD's
 * `tcp-timeout` and Knot's `tcp-io-timeout`): a frame not written within the write timeout, or
 * octets queued past their bound behind a stuck frame, make the writer give up so the connection
 * can be closed.
 * @module
 */

/** Why a writer gave up on its connection. */
export type WriteFailure = "write-timeout" | "queue-full" | "write-error";

/** What a writer needs from its connection: Deno.Conn's `write`. */
export type FrameSink = Pick<Deno.Conn, "write">;

/** Options for {@link FrameWriter}. */
export interface FrameWriterOptions {
  /** The longest one frame may take to be written, in milliseconds. */
  readonly writeTimeoutMs: number;
  /**
   * The most octets queued and not yet written once the frame being written is stuck. A burst of
   * answers to a client that reads (say 32 answers of 60 KB at once) may pass it for a moment.
   */
  readonly maxQueuedBytes: number;
  /** How long a frame may wait to be written before it counts as stuck, in milliseconds. */
  readonly stuckMs: number;
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number;
  /** Told once when the writer gives up (the connection must then be closed), with the error if any. */
  readonly onFailure: (failure: WriteFailure, error?: unknown) => void;
  /** A server's count of octets queued over all its connections (and its high-water mark), kept up to date here. */
  readonly tally?: QueueTally;
}

/** Octets of answers queued over many connections: now, and the most ever at once. */
export interface QueueTally {
  queuedBytes: number;
  peakBytes: number;
}

interface Queued {
  readonly frame: Uint8Array;
  readonly written: () => void;
}

/**
 * Writes length-prefixed DNS messages (RFC 1035 section 4.2.2) to one connection. `write()` never
 * rejects: it settles once the frame is written or the writer has given up.
 */
export class FrameWriter {
  readonly #sink: FrameSink;
  readonly #options: FrameWriterOptions;
  readonly #queue: Queued[] = [];
  #queuedBytes = 0;
  #writingSince: number | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires, on the `now` clock. */
  #timerAt = 0;
  #pumping = false;
  #closed = false;

  constructor(sink: FrameSink, options: FrameWriterOptions) {
    this.#sink = sink;
    this.#options = options;
  }

  /** Octets queued and not yet handed to the kernel, the frame being written included. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** When the frame now being written was started (on the `now` clock), or null when none is. */
  get writingSince(): number | null {
    return this.#writingSince;
  }

  /** Frames `message` and queues it; settles once written, or at once when the writer gave up. */
  write(message: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // The two-octet prefix cannot say more: a longer message would go out with a wrapped length.
    if (message.length > 0xffff) {
      return Promise.reject(new RangeError(`a ${message.length}-octet message does not fit a TCP frame`));
    }
    const frame = new Uint8Array(message.length + 2);
    frame[0] = message.length >>> 8;
    frame[1] = message.length & 0xff;
    frame.set(message, 2);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#queue.push({ frame, written: resolve });
    this.#count(frame.length);
    if (!this.#pumping) void this.#pump();
    else if (this.#queuedBytes > this.#options.maxQueuedBytes) this.#check();
    return promise;
  }

  /** Drops what is queued (settling every `write()`) and stops the timer; the caller closes the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#writingSince = null;
    this.#count(-this.#queuedBytes);
    for (const { written } of this.#queue.splice(0)) written();
  }

  #count(delta: number): void {
    this.#queuedBytes += delta;
    const tally = this.#options.tally;
    if (!tally) return;
    tally.queuedBytes += delta;
    if (tally.queuedBytes > tally.peakBytes) tally.peakBytes = tally.queuedBytes;
  }

  #fail(failure: WriteFailure, error?: unknown): void {
    if (this.#closed) return;
    this.close();
    this.#options.onFailure(failure, error);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const { frame, written } = this.#queue[0]!;
        this.#writingSince = this.#options.now();
        this.#check();
        let rest = frame;
        while (rest.length > 0) rest = rest.subarray(await this.#sink.write(rest));
        if (this.#closed) return; // close() already settled it and uncounted it
        this.#queue.shift();
        this.#writingSince = null;
        this.#count(-frame.length);
        written();
      }
    } catch (error) {
      this.#fail("write-error", error);
    } finally {
      this.#pumping = false;
    }
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = this.#options.now() + ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#check();
    }, ms);
  }

  /**
   * Gives up when the frame being written is past the write timeout, or stuck with too many octets
   * queued; else makes sure the timer looks again when either could next be true. One timer serves
   * a whole burst of frames: when it fires it measures the frame then being written.
   */
  #check(): void {
    if (this.#writingSince === null || this.#closed) return;
    const { writeTimeoutMs, stuckMs, maxQueuedBytes } = this.#options;
    const waited = this.#options.now() - this.#writingSince;
    if (waited >= writeTimeoutMs) return this.#fail("write-timeout");
    const over = this.#queuedBytes > maxQueuedBytes;
    if (over && waited >= stuckMs) return this.#fail("queue-full");
    const next = this.#writingSince + (over ? stuckMs : writeTimeoutMs);
    if (this.#timer === undefined || next < this.#timerAt) this.#arm(next - this.#options.now());
  }
}
