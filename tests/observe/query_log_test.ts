/**
 * The query log's buffer: lines written in batches (by size and on close), a full buffer drops
 * and counts, and a reopen writes what was buffered to the old sink before opening a new one.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { hex } from "../_hex.ts";
import { type LogSink, QueryLog, Source } from "../../lib/observe/mod.ts";

const QUERY = hex`1234 0100 0001 0000 0000 0000  01 61 04 74657374 00  0001 0001`;
const CLIENT: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 5353 };

/** Sinks that keep their writes, one per open, and can be held so writes wait. */
function sinks() {
  const opened: { writes: string[]; closed: boolean }[] = [];
  let gate: Promise<void> = Promise.resolve();
  return {
    opened,
    hold(until: Promise<void>) {
      gate = until;
    },
    open(): Promise<LogSink> {
      const sink = { writes: [] as string[], closed: false };
      opened.push(sink);
      return Promise.resolve({
        async write(bytes: Uint8Array) {
          await gate;
          sink.writes.push(new TextDecoder().decode(bytes));
        },
        close() {
          sink.closed = true;
        },
      });
    },
  };
}

const names = (write: string) => write.trim().split("\n").map((line) => JSON.parse(line).name);

test("query log: batches by size, drops past its bound, and writes the rest on close", async () => {
  const s = sinks();
  let release!: () => void;
  s.hold(new Promise((resolve) => release = resolve));
  const log = new QueryLog({ open: s.open, batchLines: 2, maxLines: 3, flushMs: 60_000, now: () => 10 });
  for (let i = 0; i < 2; i++) log.observe(QUERY, null, CLIENT, "udp", 10, Source.LOCAL, null, false);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the first write has begun, off the answer path
  // The first batch is being written (held); three more fit in the buffer, the next two are dropped.
  for (let i = 0; i < 5; i++) log.observe(QUERY, null, CLIENT, "udp", 10, Source.LOCAL, null, false);
  equal(log.dropped, 2);
  release();
  await log.close();
  const sink = s.opened[0]!;
  deepEqual(sink.writes.map(names), [["a.test", "a.test"], ["a.test", "a.test", "a.test"]]);
  equal(sink.closed, true);
  log.observe(QUERY, null, CLIENT, "udp", 10, Source.LOCAL, null, false); // after close: ignored
  equal(log.dropped, 2);
});

test("query log: reopen writes the buffer to the old file, then opens the path again", async () => {
  const s = sinks();
  const log = new QueryLog({ open: s.open, flushMs: 60_000 });
  log.observe(QUERY, null, CLIENT, "tcp", performance.now(), Source.CACHE, null, false);
  await log.reopen();
  log.observe(QUERY, null, CLIENT, "tcp", performance.now(), Source.UPSTREAM, "192.0.2.1:53", false);
  await log.close();
  equal(s.opened.length, 2);
  deepEqual(s.opened.map((sink) => sink.closed), [true, true]);
  deepEqual(JSON.parse(s.opened[0]!.writes[0]!).source, "cache");
  deepEqual(JSON.parse(s.opened[1]!.writes[0]!).upstream, "192.0.2.1:53");
});
