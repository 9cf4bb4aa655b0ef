/**
 * The queries in progress on one TCP connection, so that reading can pause at a cap until
 * answers drain (what pipelining clients expect, RFC 7766 section 6.2.1.1) and a closing
 * connection can wait for what it took on.
 * @module
 */

interface Waiter {
  readonly ready: () => boolean;
  readonly wake: (ready: boolean) => void;
}

/** A count of one connection's queries in progress, with waits for room and for zero. */
export class Pipeline {
  #count = 0;
  #closed = false;
  #waiters: Waiter[] = [];

  /** Queries in progress: counted from arrival until the answer is written (or dropped). */
  get size(): number {
    return this.#count;
  }

  /** Counts `work` until it settles. */
  track(work: Promise<unknown>): void {
    this.#count++;
    const done = () => {
      this.#count--;
      this.#settle();
    };
    work.then(done, done);
  }

  /** Resolves once fewer than `limit` queries are in progress, or once the connection closes. */
  room(limit: number): Promise<void> {
    if (this.#count < limit || this.#closed) return Promise.resolve();
    return new Promise((resolve) =>
      this.#waiters.push({ ready: () => this.#count < limit, wake: () => resolve() })
    );
  }

  /** Resolves true once nothing is in progress, or false when `ms` pass first or the connection closes. */
  drained(ms: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        ready: () => this.#count === 0,
        wake: (ready) => {
          clearTimeout(timer);
          resolve(ready);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  /** Wakes every wait: nothing more will be read on this connection. */
  close(): void {
    this.#closed = true;
    this.#settle();
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      const ready = waiter.ready();
      if (ready || this.#closed) waiter.wake(ready);
      else still.push(waiter);
    }
    this.#waiters = still;
  }
}
