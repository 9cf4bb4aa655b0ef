/**
 * serveTcp() on 127.0.0.1 against clients that never read: the octets queued for answers stay
 * under the bound (counted by the server, not guessed from RSS), a connection whose answer is not
 * taken is closed within the write timeout, and reading pauses at the cap on queries in progress
 * for as long as they last, not only for an idle timeout; bad frames are counted and logged once
 * per kind per interval (issue 12, defects 1 and 3).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { RemoteEvents } from "../../lib/observe/remote_events.ts";
import { reply } from "../../lib/proto/message.ts";
import type { Message } from "../../lib/proto/types.ts";
import { RRType } from "../../lib/proto/types.ts";
import { authoritative } from "../../lib/resolve/authority.ts";
import { chain } from "../../lib/resolve/resolver.ts";
import type { Resolve } from "../../lib/resolve/request.ts";
import type { ServeOptions } from "../../lib/server/serving.ts";
import { serveTcp, type TcpServerOptions } from "../../lib/server/tcp_server.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { connectTcp, framed, idOf, query, txtStrings, waitUntil } from "../_tcp_client.ts";

/** One name whose answer is about 42 KB: a few fill the kernel's buffers of a client that never reads. */
const HUGE = "huge.dnsd.test";
const huge: Resolve = chain([
  authoritative(fixedData({ mappings: mappingRecords({ [HUGE]: { TXT: txtStrings(200, 200) } }) })),
]);

/** `count` queries for the huge answer, framed, in one buffer. */
function hugeQueries(count: number): Uint8Array {
  const one = framed(query(HUGE, { type: RRType.TXT }));
  const all = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) all.set(one, i * one.length);
  return all;
}

/** Events recorded as lines, with their properties, instead of logged. */
function recorder() {
  const lines: string[] = [];
  const line = (message: string, properties: Record<string, unknown>) =>
    void lines.push(`${message} ${JSON.stringify(properties)}`);
  return { lines, events: new RemoteEvents({ info: line, warning: line, error: line }) };
}

/** Runs `fn` with a TCP server on 127.0.0.1, then stops it and waits until it has let go of everything. */
async function withTcp(
  resolve: Resolve,
  options: TcpServerOptions & ServeOptions,
  fn: (server: ReturnType<typeof serveTcp>, address: Deno.NetAddr) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = serveTcp(listener, resolve, options);
  try {
    await fn(server, listener.addr as Deno.NetAddr);
  } finally {
    await server.stop(0);
  }
}

test("serveTcp closes a client that never reads once its queued answers pass maxQueuedBytes", async () => {
  const { events } = recorder();
  const maxQueuedBytes = 128 * 1024;
  // A write timeout far off, so only the bound on queued octets can close the connection.
  const maxPipelined = 8;
  const options = { maxQueuedBytes, maxPipelined, writeTimeoutMs: 60_000, idleTimeoutMs: 60_000, events };
  await withTcp(huge, options, async (server, address) => {
    const client = await connectTcp(address);
    try {
      void client.write(hugeQueries(400)).catch(() => {}); // 17 MB of answers asked for, none read
      await waitUntil(() => events.count("tcp-queue-full") === 1, "the connection to be closed", 10_000);
      await waitUntil(() => server.connections === 0, "the connection to be let go");
      // Past the bound only by the answers already in progress, and only until the stuck check.
      const most = server.peakQueuedBytes;
      ok(most > maxQueuedBytes, `only ${most} octets were ever queued`);
      ok(most <= maxQueuedBytes + maxPipelined * 65_537, `${most} octets queued for one connection`);
      equal(server.queuedBytes, 0);
    } finally {
      client.close();
    }
  });
});

test("serveTcp closes a connection whose answer is not taken within writeTimeoutMs", async (t) => {
  for (const halfClose of [false, true]) {
    await t.step(
      halfClose ? "a client that half-closes and never reads" : "a client that never reads",
      async () => {
        const { events } = recorder();
        const options = {
          writeTimeoutMs: 300,
          maxQueuedBytes: 64 * 1024 * 1024,
          idleTimeoutMs: 60_000,
          events,
        };
        await withTcp(huge, options, async (server, address) => {
          const client = await connectTcp(address);
          try {
            await client.write(hugeQueries(200));
            if (halfClose) await client.closeWrite();
            await waitUntil(() => events.count("tcp-write-timeout") === 1, "the write timeout", 10_000);
            await waitUntil(() => server.connections === 0, "the connection to be let go");
            equal(server.queuedBytes, 0);
          } finally {
            client.close();
          }
        });
      },
    );
  }
});

test("serveTcp stops reading at maxPipelined for as long as the queries take", async () => {
  const held: (() => void)[] = [];
  const resolve: Resolve = (request) =>
    new Promise<Message>((done) => held.push(() => done(reply(request.message, { answers: [] }))));
  // The idle timeout passes several times while the queries are held: reading must not resume.
  await withTcp(resolve, { maxPipelined: 4, idleTimeoutMs: 50 }, async (_server, address) => {
    const client = await connectTcp(address);
    try {
      await client.write(
        Uint8Array.from([1, 2, 3, 4, 5, 6].flatMap((id) => [...framed(query("a.test", { id }))])),
      );
      await waitUntil(() => held.length === 4, "four queries in progress");
      await new Promise((resolve) => setTimeout(resolve, 300));
      equal(held.length, 4, "read past the cap while the queries were in progress");
      const ids: number[] = [];
      for (const answer of held.splice(0)) answer();
      for (let i = 0; i < 4; i++) ids.push(idOf((await client.read())!));
      await waitUntil(() => held.length === 2, "the last two read once there was room");
      for (const answer of held.splice(0)) answer();
      for (let i = 0; i < 2; i++) ids.push(idOf((await client.read())!));
      deepEqual(ids.toSorted(), [1, 2, 3, 4, 5, 6]);
    } finally {
      client.close();
    }
  });
});

test("serveTcp counts bad frames and logs each kind once per interval, without a stack trace", async () => {
  const { lines, events } = recorder();
  await withTcp(huge, { events }, async (server, address) => {
    for (let i = 0; i < 20; i++) {
      const zero = await connectTcp(address);
      await zero.write(Uint8Array.of(0, 0));
      equal(await zero.read(), null);
      zero.close();
      const cut = await connectTcp(address);
      await cut.write(Uint8Array.of(0, 40, 1, 2, 3)); // 40 octets promised, 3 sent
      await cut.closeWrite();
      equal(await cut.read(), null);
      cut.close();
    }
    await waitUntil(() => server.connections === 0, "every connection to be let go");
    deepEqual([events.count("tcp-zero-frame"), events.count("tcp-cut-frame")], [20, 20]);
    equal(lines.length, 2, lines.join(" | "));
  });
});
