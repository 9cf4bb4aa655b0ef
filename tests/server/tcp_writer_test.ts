/**
 * FrameWriter, one TCP connection's answer side, against a fake connection whose writes can be
 * held: frames go out whole and in order; a frame not written in time, or a queue past its
 * octets, makes it give up once; closing settles every write.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { FrameWriter, type FrameWriterOptions, type WriteFailure } from "../../lib/server/tcp_writer.ts";

/** A connection that takes at most `step` octets per write and holds each write until released. */
function fakeConn(step = Infinity) {
  const written: number[] = [];
  const held: (() => void)[] = [];
  let holding = false;
  return {
    written,
    /** Holds writes from now on. */
    hold() {
      holding = true;
    },
    /** Lets held writes (and every later one) complete. */
    release() {
      holding = false;
      for (const go of held.splice(0)) go();
    },
    sink: {
      write(bytes: Uint8Array): Promise<number> {
        const n = Math.min(step, bytes.length);
        const take = () => written.push(...bytes.subarray(0, n));
        if (!holding) {
          take();
          return Promise.resolve(n);
        }
        return new Promise<number>((resolve) => held.push(() => (take(), resolve(n))));
      },
    },
  };
}

function writer(conn: ReturnType<typeof fakeConn>, options: Partial<FrameWriterOptions> = {}) {
  const failures: WriteFailure[] = [];
  const tally = { queuedBytes: 0, peakBytes: 0 };
  const frames = new FrameWriter(conn.sink, {
    writeTimeoutMs: 60_000,
    maxQueuedBytes: 1_000,
    stuckMs: 30,
    now: () => performance.now(),
    onFailure: (failure) => failures.push(failure),
    tally,
    ...options,
  });
  return { frames, failures, tally };
}

test("FrameWriter writes each message with its length prefix, whole and in order", async () => {
  const conn = fakeConn(3);
  const { frames, failures, tally } = writer(conn);
  await Promise.all([frames.write(Uint8Array.of(1, 2, 3, 4, 5)), frames.write(Uint8Array.of(9))]);
  deepEqual(conn.written, [0, 5, 1, 2, 3, 4, 5, 0, 1, 9]);
  deepEqual(failures, []);
  equal(tally.queuedBytes, 0);
  equal(frames.writingSince, null);
  frames.close();
});

test("FrameWriter gives up when octets past maxQueuedBytes wait behind a stuck frame", async () => {
  const conn = fakeConn();
  conn.hold();
  const { frames, failures, tally } = writer(conn, { maxQueuedBytes: 250 });
  const first = frames.write(new Uint8Array(98)); // 100 octets framed
  void frames.write(new Uint8Array(98));
  equal(frames.queuedBytes, 200);
  equal(tally.queuedBytes, 200);
  const started = performance.now();
  await frames.write(new Uint8Array(98)); // 300 > 250 behind a frame that is not taken
  const waited = performance.now() - started;
  deepEqual(failures, ["queue-full"]);
  ok(waited >= 25 && waited < 1_000, `gave up after ${waited} ms`);
  equal(frames.queuedBytes, 0, "what was queued is let go");
  equal(tally.queuedBytes, 0);
  equal(tally.peakBytes, 300);
  await first; // settled by the give-up, though never written
  conn.release();
});

test("FrameWriter lets a burst past maxQueuedBytes through to a client that takes it", async () => {
  const conn = fakeConn(64);
  const { frames, failures, tally } = writer(conn, { maxQueuedBytes: 250 });
  await Promise.all(Array.from({ length: 10 }, () => frames.write(new Uint8Array(98))));
  deepEqual(failures, []);
  equal(conn.written.length, 1_000);
  ok(tally.peakBytes > 250, `${tally.peakBytes} octets at most`);
  frames.close();
});

test("FrameWriter gives up when a frame is not written within writeTimeoutMs", async () => {
  const conn = fakeConn();
  const { frames, failures } = writer(conn, { writeTimeoutMs: 50 });
  await frames.write(Uint8Array.of(1)); // a timer now runs for the burst
  conn.hold();
  const started = performance.now();
  await frames.write(Uint8Array.of(2)); // held for ever: settled by the give-up
  const waited = performance.now() - started;
  deepEqual(failures, ["write-timeout"]);
  equal(waited >= 45 && waited < 1_000, true, `gave up after ${waited} ms`);
  equal(frames.queuedBytes, 0);
  conn.release();
});

test("FrameWriter does not give up on a client that takes its answers slowly but in time", async () => {
  const conn = fakeConn();
  const { frames, failures } = writer(conn, { writeTimeoutMs: 400 });
  conn.hold();
  const done = Promise.all([1, 2, 3].map((n) => frames.write(Uint8Array.of(n))));
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50)); // each frame takes an eighth of the timeout
    conn.release();
    conn.hold();
  }
  conn.release();
  await done;
  deepEqual(failures, []);
  deepEqual(conn.written, [0, 1, 1, 0, 1, 2, 0, 1, 3]);
  frames.close(); // stops the burst's timer
});
