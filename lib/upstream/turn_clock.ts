/**
 * A clock read once per turn. `performance.now()` is an op in Deno, and a forwarded query reads
 * the time in several stages (the cache, the forwarder, the upstream pool, the try's deadline)
 * within microseconds of each other: the first read of a turn is kept until the microtasks queued
 * so far have run, so one read serves every query of a batch.
 * @module
 */

/**
 * A monotonic clock in milliseconds whose value is read at most once per turn of the microtask
 * queue: it can lag the true time by as long as the synchronous work since its first read in that
 * turn (a batch of queries: well under the millisecond). A new task always reads afresh.
 * @param read the underlying clock
 */
export function turnClock(read: () => number = () => performance.now()): () => number {
  let kept = -1;
  const forget = () => {
    kept = -1;
  };
  return function now() {
    if (kept < 0) {
      kept = read();
      queueMicrotask(forget);
    }
    return kept;
  };
}
