/**
 * TCP clients that never read, end to end through startServer() on 127.0.0.1 (issue 12, defects
 * 1 and 3): they must not keep a legitimate client out, must be closed within the write timeout,
 * must not get a quiet long-lived connection evicted in their place, and what they cause is logged
 * once per kind per interval, without a stack trace.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { logged } from "../_log_capture.ts";
import { RRType } from "../../lib/proto/types.ts";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import type { TcpServerOptions } from "../../lib/server/tcp_server.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import {
  connectTcp,
  framed,
  idOf,
  LOCAL,
  query,
  type TcpClient,
  txtStrings,
  waitUntil,
} from "../_tcp_client.ts";

/**
 * A name whose answer is about 63 KB. Loopback takes about 6 MB of answers for a client that does
 * not read before writes block, so each client below asks for 8 MB.
 */
const HUGE = "huge.dnsd.test";
const HUGE_QUERIES = 128;

/** Runs `fn` against startServer() on 127.0.0.1 serving {@link LOCAL} and {@link HUGE}, then stops it. */
async function withServer(
  tcp: TcpServerOptions,
  fn: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const upstream = startFakeUpstream({});
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 2_000,
    localData: fixedData({ mappings: mappingRecords({ ...LOCAL, [HUGE]: { TXT: txtStrings(240, 250) } }) }),
    tcp,
  });
  try {
    await fn(server);
  } finally {
    await server.stop(0);
    await server.finished;
    await waitUntil(() => server.tcpConnections() === 0, "every TCP connection to close");
    await upstream.close();
  }
}

/** `count` queries for the huge answer, framed, in one buffer. */
function hugeQueries(count: number): Uint8Array {
  const one = framed(query(HUGE, { type: RRType.TXT }));
  const all = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) all.set(one, i * one.length);
  return all;
}

/**
 * Opens `count` connections that each pipeline huge queries and never read; every `halfCloseEvery`-th
 * also half-closes. Their writes are left pending: closing the client ends them.
 */
async function neverReading(server: RunningServer, count: number, halfCloseEvery = 8): Promise<TcpClient[]> {
  const clients: TcpClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await connectTcp(server.address);
    clients.push(client);
    const sent = client.write(hugeQueries(HUGE_QUERIES));
    void (i % halfCloseEvery === 0 ? sent.then(() => client.closeWrite()) : sent).catch(() => {});
  }
  return clients;
}

/**
 * Connects and asks for a local name, as a client would: again when the connection is turned away,
 * until `deadline` (performance.now()). Returns the connection, still open, or null.
 */
async function connectAndAsk(server: RunningServer, id: number, deadline: number): Promise<TcpClient | null> {
  while (performance.now() < deadline) {
    const client = await connectTcp(server.address);
    try {
      await client.send(query("local.dnsd.test", { id }));
      const reply = await client.read(Math.max(1, deadline - performance.now()));
      if (reply && idOf(reply) === id) return client;
    } catch {
      // turned away (reset) or nothing in time: try again while there is time
    }
    client.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return null;
}

/** Asks on a new connection (see {@link connectAndAsk}) and closes it; whether it was answered. */
async function askFresh(server: RunningServer, id: number, deadline: number): Promise<boolean> {
  const client = await connectAndAsk(server, id, deadline);
  client?.close();
  return client !== null;
}

test("150 TCP clients that never read keep no legitimate client out, and are closed in time", {
  timeoutMs: 60_000,
}, async () => {
  const writeTimeoutMs = 5_000;
  const lines = await logged(() =>
    withServer({ writeTimeoutMs, maxConnections: 150 }, async (server) => {
      const started = performance.now();
      const stuck = await neverReading(server, 150);
      try {
        // A legitimate client gets 8 answers out of 8 within a few seconds.
        const from = performance.now();
        let answered = 0;
        for (let id = 1; id <= 8; id++) if (await askFresh(server, id, from + 4_000)) answered++;
        equal(answered, 8, `${answered} of 8 answered within 4 s`);
        // The clients that never read are closed within the write timeout.
        await waitUntil(() => server.tcpConnections() === 0, "every stuck connection to be closed", 10_000);
        const took = performance.now() - started;
        ok(
          took < writeTimeoutMs + 3_000,
          `the last stuck connection was closed after ${Math.round(took)} ms`,
        );
      } finally {
        for (const client of stuck) client.close();
      }
    })
  );
  // One line per kind at most (evictions, refusals, write timeouts, full queues), none with a stack.
  ok(lines.length <= 4, `${lines.length} lines:\n${lines.join("")}`);
  for (const line of lines) ok(!line.trimEnd().includes("\n"), `a stack trace: ${line}`);
});

test("a quiet long-lived TCP connection survives eviction by new clients while stuck ones exist", {
  timeoutMs: 30_000,
}, async () => {
  // A write timeout and a queue bound far off: only eviction can make room here.
  const tcp = { maxConnections: 10, writeTimeoutMs: 60_000, maxQueuedBytes: 64 * 1024 * 1024 };
  const lines = await logged(() =>
    withServer(tcp, async (server) => {
      const quiet = await connectTcp(server.address);
      let stuck: TcpClient[] = [];
      const fresh: TcpClient[] = [];
      try {
        equal(idOf(await quiet.ask(query("local.dnsd.test", { id: 0x0101 }))), 0x0101);
        stuck = await neverReading(server, 9);
        // "Stuck" is a matter of time (a write pending 200 ms): let their answers fill loopback's
        // buffers (about 6 MB each) and then wait past that. Until then the quiet connection would
        // be the one to go, as the longest idle with nothing in progress.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        // Three new clients that stay connected: each needs a slot of its own.
        const deadline = performance.now() + 5_000;
        for (let id = 1; id <= 3; id++) {
          const client = await connectAndAsk(server, id, deadline);
          ok(client, `new client ${id} was turned away`);
          fresh.push(client);
        }
        const reply = await quiet.ask(query("local.dnsd.test", { id: 0x0202 }));
        equal(idOf(reply), 0x0202, "the quiet connection was evicted");
      } finally {
        quiet.close();
        for (const client of [...stuck, ...fresh]) client.close();
      }
    })
  );
  ok(
    lines.some((line) =>
      /Too many TCP connections \(10\): closed the one from .* \(stuck writing\)/.test(line)
    ),
  );
});
