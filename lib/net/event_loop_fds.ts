/**
 * What a socket read through FFI needs to wait on the main thread without starving Deno: the
 * epoll descriptors of Deno's own event loop, which turn readable whenever the loop has work
 * (a socket, a timer set, a worker thread done), and a way to let every queued microtask run.
 * @module
 */
import { setImmediate } from "node:timers";

/** Descriptors above this were opened after Deno started; its event loop's come first. */
const HIGHEST_LOOKED_AT = 256;

/**
 * The process's epoll descriptors (Deno's event loop among them), read from /proc/self/fd with
 * readlink(2) through FFI (Deno's own file API wants --allow-all for /proc/self). None when they
 * cannot be read: the caller then never waits on the main thread.
 */
export function eventLoopDescriptors(
  readlink: (path: Uint8Array, target: Uint8Array, size: bigint) => number | bigint,
): number[] {
  const encoder = new TextEncoder();
  const wanted = encoder.encode("anon_inode:[eventpoll]");
  const target = new Uint8Array(64);
  const found: number[] = [];
  for (let fd = 0; fd <= HIGHEST_LOOKED_AT; fd++) {
    const length = Number(readlink(encoder.encode(`/proc/self/fd/${fd}\0`), target, 64n));
    if (length === wanted.length && wanted.every((octet, i) => target[i] === octet)) found.push(fd);
  }
  return found;
}

/**
 * Settles after every microtask queued before it has run, and those they queue in turn: an
 * immediate is a macrotask, and microtasks always drain before the next macrotask. Unlike a
 * timer, it costs about a microsecond.
 */
export function afterMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
