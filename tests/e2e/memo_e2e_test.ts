/**
 * The response memo end to end over real UDP on 127.0.0.1: startServer() on port 0 with swappable
 * local data, a cache and a fake upstream. Kept answers must look exactly like fresh ones (bar the
 * ID), end with a reload, keep counting TTLs down, and step aside for debug logging and shutdown.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { buildLocalData, type LocalData } from "../../lib/zone/local_data.ts";
import { mappingRecords, type Mappings } from "../../lib/zone/static_map.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { type Behaviour, FAKE_TTL, type FakeUpstream, startFakeUpstream } from "../_fake_upstream.ts";
import { within } from "../_dnsd_process.ts";
import { idOf, query, WAIT_MS, waitUntil } from "../_tcp_client.ts";
import { udpAsk } from "../_udp_client.ts";

const behaviours: Readonly<Record<string, Behaviour>> = {
  "forward.dnsd.test": { kind: "answer", address: "192.0.2.1" },
  "slow.dnsd.test": { kind: "answer", address: "192.0.2.2", delayMs: 300 },
  // What the world says once local data no longer has the name.
  "memo.dnsd.test": { kind: "answer", address: "198.51.100.53" },
};

const CACHE = { limits: { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 } };

function localData(mappings: Mappings): LocalData {
  return buildLocalData({ zones: [], hosts: [], mappings: mappingRecords(mappings) });
}

interface Memoized {
  readonly server: RunningServer;
  readonly upstream: FakeUpstream;
  /** Swaps the local data, as a reload does. */
  swap(mappings: Mappings): void;
  /** One UDP exchange with the server. */
  ask(bytes: Uint8Array): Promise<Uint8Array>;
  /** Moves the server's clock forward by `ms`. */
  advance(ms: number): void;
}

/** Runs `fn` against a fresh dnsd (with a cache when asked) and fake upstream, then closes both. */
async function withServer(
  options: { readonly cache?: boolean },
  fn: (memoized: Memoized) => Promise<void>,
): Promise<void> {
  const upstream = startFakeUpstream(behaviours);
  let data = localData({ "memo.dnsd.test": "192.0.2.53" });
  let server: RunningServer | undefined;
  let offset = 0;
  try {
    server = startServer({
      clock: () => performance.now() + offset,
      host: "127.0.0.1",
      port: 0,
      upstreams: [upstream.address],
      timeoutMs: 2_000,
      localData: () => data,
      ...(options.cache ? { cache: CACHE } : {}),
    });
    const address = server.address;
    await fn({
      server,
      upstream,
      swap: (mappings) => data = localData(mappings),
      ask: (bytes) => udpAsk(address, bytes),
      advance: (ms) => offset += ms,
    });
  } finally {
    if (server) {
      await server.stop(0);
      await server.finished;
    }
    await upstream.close();
  }
}

function answersOf(bytes: Uint8Array): unknown[] {
  return decodeMessage(bytes).answers.map(({ data }) => data);
}

function ttlOf(bytes: Uint8Array): number {
  return decodeMessage(bytes).answers[0]!.ttl;
}

test("dnsd answers a repeated local question with the same octets, bar the ID", async () => {
  await withServer({}, async ({ ask }) => {
    for (const edns of [undefined, {}, { dnssecOk: true }]) {
      const options = edns ? { edns } : {};
      const first = await ask(query("memo.dnsd.test", { id: 0x1001, ...options }));
      const second = await ask(query("memo.dnsd.test", { id: 0x2002, ...options }));
      const third = await ask(query("memo.dnsd.test", { id: 0x3003, ...options }));
      deepEqual([idOf(first), idOf(second), idOf(third)], [0x1001, 0x2002, 0x3003]);
      deepEqual(second.subarray(2), first.subarray(2));
      deepEqual(third.subarray(2), first.subarray(2));
      deepEqual(answersOf(third), [{ type: "A", address: "192.0.2.53" }]);
    }
    // Another case is another question: answered in that case, not from the other's bytes.
    const upper = decodeMessage(await ask(query("MEMO.dnsd.test", { id: 0x4004 })));
    equal(upper.questions[0]!.name, "MEMO.dnsd.test");
    equal(upper.answers[0]!.name, "MEMO.dnsd.test");
  });
});

test("dnsd answers from the new local data on the first query after a reload", async () => {
  await withServer({}, async ({ ask, swap }) => {
    const kept = query("memo.dnsd.test", { id: 0x0101, edns: {} });
    await ask(kept);
    deepEqual(answersOf(await ask(kept)), [{ type: "A", address: "192.0.2.53" }]);
    swap({ "memo.dnsd.test": "192.0.2.54" });
    deepEqual(answersOf(await ask(kept)), [{ type: "A", address: "192.0.2.54" }]);
    swap({ "other.dnsd.test": "192.0.2.55" });
    // Not local any more: forwarded.
    deepEqual(answersOf(await ask(kept)), [{ type: "A", address: "198.51.100.53" }]);
  });
});

test("dnsd counts TTLs down in repeated cached answers, asking upstream once", async () => {
  await withServer({ cache: true }, async ({ server, upstream, ask, advance }) => {
    const bytes = query("forward.dnsd.test", { id: 0x0a01 });
    const first = await ask(bytes);
    equal(ttlOf(first), FAKE_TTL);
    const repeats = [];
    for (let i = 0; i < 3; i++) repeats.push(await ask(bytes));
    for (const repeat of repeats) deepEqual(repeat.subarray(2), repeats[0]!.subarray(2));
    // The cache stage saw fewer than all three: the rest came from the kept bytes.
    ok(server.cache!.counters.hits < 3, `${server.cache!.counters.hits} cache hits`);
    const before = ttlOf(repeats[0]!);

    advance(1_100); // TTLs tick in whole seconds: the server's clock moves, no sleep
    const later = await ask(query("forward.dnsd.test", { id: 0x0a02 }));
    ok(ttlOf(later) <= before - 1, `TTL ${ttlOf(later)} after ${before}, 1.1 s apart`);
    deepEqual(answersOf(later), [{ type: "A", address: "192.0.2.1" }]);
    equal(upstream.count("udp", "forward.dnsd.test"), 1);
  });
});

test("dnsd logs every repeated query while debug logging is on", async (t) => {
  const configs = [
    { name: "for all of dnsd", category: ["dnsd"] },
    { name: "for queries only", category: ["dnsd", "query"] },
  ];
  for (const { name, category } of configs) {
    await t.step(name, async () => {
      const messages: string[] = [];
      configureSync({
        sinks: { memory: (record: LogRecord) => messages.push(record.message.join("")) },
        loggers: [
          { category, lowestLevel: "debug", sinks: ["memory"] },
          { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
        ],
      });
      try {
        await withServer({}, async ({ ask }) => {
          for (let id = 1; id <= 3; id++) await ask(query("memo.dnsd.test", { id }));
        });
        const received = messages.filter((m) => m.startsWith("Received query for domain: memo.dnsd.test"));
        equal(received.length, 3, messages.join("\n"));
      } finally {
        resetSync();
      }
    });
  }
});

test("dnsd refuses a repeated query as Not Ready while it stops, not from the kept bytes", async () => {
  await withServer({}, async ({ server, upstream, ask }) => {
    const kept = query("memo.dnsd.test", { id: 0x0001, edns: {} });
    await ask(kept);
    deepEqual(answersOf(await ask(kept)), [{ type: "A", address: "192.0.2.53" }]);

    const slow = ask(query("slow.dnsd.test", { id: 0x0002 }));
    await waitUntil(() => upstream.count("udp", "slow.dnsd.test") === 1, "the slow query to go upstream");
    const stopped = server.stop(WAIT_MS);

    const refused = decodeMessage(await ask(query("memo.dnsd.test", { id: 0x0003, edns: {} })));
    equal(refused.id, 0x0003);
    equal(refused.rcode, Rcode.SERVFAIL);
    deepEqual(refused.answers, []);
    deepEqual(edeOf(refused.edns).map(({ code }) => code), [14]);

    deepEqual(answersOf(await slow), [{ type: "A", address: "192.0.2.2" }]);
    await within(stopped, WAIT_MS, () => "stop() did not settle");
  });
});
