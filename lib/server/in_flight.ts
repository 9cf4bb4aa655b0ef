/**
 * Counts work in progress, so a server can stop accepting and then wait for what it already took
 * on (graceful shutdown), with a bound on the wait.
 * @module
 */

/** A counter of pending promises with a way to wait for zero. */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** How many tracked promises have not settled. */
  get size(): number {
    return this.#count;
  }

  /** Counts `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#count++;
    const done = () => {
      if (--this.#count > 0) return;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    };
    work.then(done, done);
    return work;
  }

  /** Resolves true once nothing is in flight, or false when `ms` pass first. */
  drained(ms: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
