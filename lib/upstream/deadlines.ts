/**
 * Many timeouts on one timer. Every forwarded query gets a deadline and nearly all of them end
 * long before it; a timer each costs about a microsecond to set and clear. Here deadlines wait in
 * a min-heap, one timer is set for the earliest, and a cancelled deadline is only marked (and
 * swept when marks outnumber the rest).
 * @module
 */

/** Options for {@link Deadlines}; the defaults are the real clock and timers. */
export interface DeadlineOptions {
  /** Milliseconds on a monotonic clock. */
  readonly now?: () => number;
  /** Sets a timer; returns its handle. */
  readonly setTimer?: (callback: () => void, ms: number) => unknown;
  /** Clears a timer by its handle. */
  readonly clearTimer?: (timer: unknown) => void;
}

type TimerHandle = ReturnType<typeof setTimeout>;

interface Deadline {
  readonly at: number;
  /** Let go of once cancelled: what it holds (a whole query) is garbage long before it is swept. */
  callback: () => void;
  cancelled: boolean;
}

const NOTHING = () => {};

/** Below this many, cancelled deadlines are left for the heap to drop as they come up. */
const SWEEP_ABOVE = 1024;

/** Deadlines on one timer. */
export class Deadlines {
  readonly #heap: Deadline[] = [];
  readonly #now: () => number;
  /** The clock deadlines are on (for callers that pass the time they read). */
  readonly clock: () => number;
  readonly #setTimer: (callback: () => void, ms: number) => unknown;
  readonly #clearTimer: (timer: unknown) => void;
  #cancelled = 0;
  #timer: unknown = null;
  #timerAt = Infinity;

  /**
   * Makes an empty set of deadlines.
   * @param options clock and timers
   */
  constructor(options: DeadlineOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.clock = this.#now;
    this.#setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.#clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as TimerHandle));
  }

  /**
   * Calls `callback` once `ms` have passed, unless the returned function is called first.
   * @param now the time on this clock, when the caller has just read it (a clock read costs)
   */
  after(ms: number, callback: () => void, now: number = this.#now()): () => void {
    const deadline: Deadline = { at: now + ms, callback, cancelled: false };
    this.#push(deadline);
    if (deadline.at < this.#timerAt) this.#arm();
    return () => {
      if (deadline.cancelled) return;
      deadline.cancelled = true;
      deadline.callback = NOTHING;
      if (++this.#cancelled > SWEEP_ABOVE && this.#cancelled * 2 > this.#heap.length) this.#sweep();
    };
  }

  /** Deadlines waiting (cancelled ones not yet swept included). */
  get size(): number {
    return this.#heap.length;
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const time = this.#now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= time) {
      const deadline = this.#pop();
      if (deadline.cancelled) {
        this.#cancelled--;
        continue;
      }
      deadline.cancelled = true; // once only
      deadline.callback();
    }
    this.#arm();
  }

  /** Sets the timer for the earliest deadline still wanted. */
  #arm(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) {
      this.#pop();
      this.#cancelled--;
    }
    if (this.#timer !== null) this.#clearTimer(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
    if (this.#heap.length === 0) return;
    this.#timerAt = this.#heap[0]!.at;
    this.#timer = this.#setTimer(() => this.#fire(), Math.max(0, this.#timerAt - this.#now()));
  }

  #sweep(): void {
    const live = this.#heap.filter((deadline) => !deadline.cancelled);
    this.#heap.length = 0;
    this.#cancelled = 0;
    for (const deadline of live) this.#push(deadline);
    this.#arm();
  }

  #push(deadline: Deadline): void {
    const heap = this.#heap;
    let i = heap.push(deadline) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= deadline.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = deadline;
  }

  #pop(): Deadline {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    while (true) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
