/**
 * Batched UDP under load (lib/ffi_udp.ts): while datagrams keep coming the socket waits on the
 * main thread, and that wait must never hold up the rest of the process: queries answered through
 * promises, timers, and Deno's own sockets all go on. Needs --allow-ffi (and --allow-run for the
 * flood, which comes from a second process so that the test's own event loop stays out of it).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { listenBatchedUdp } from "../../lib/net/ffi_udp.ts";
import { UdpReactor } from "../../lib/net/udp_reactor.ts";
import { reply } from "../../lib/proto/message.ts";
import { serveUdp } from "../../lib/server/udp_server.ts";
import { RRType } from "../../lib/proto/types.ts";
import { needsFfi, startBatchedServer } from "../_batched.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { openUdpClient, queryBytes } from "../_udp_client.ts";

test(
  needsFfi("a busy batched socket lets queries answered through promises finish before it waits"),
  async () => {
    // The wait on the main thread may last 10 s here: an answer left queued behind it would show.
    const reactor = new UdpReactor({ loopTurnMs: 10_000 });
    const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0, reactor });
    const server = serveUdp(socket, async (request) => {
      for (let i = 0; i < 20; i++) await Promise.resolve(); // microtasks only, no event loop turn
      return reply(request, { answers: [] });
    });
    const client = openUdpClient(socket.addr, 5000);
    try {
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        const query = queryBytes("slow.dnsd.test", RRType.A);
        const answer = await client.ask(query);
        equal(decodeMessage(answer).id, decodeMessage(query).id);
      }
      const took = performance.now() - started;
      ok(took < 3000, `20 answers took ${Math.round(took)} ms`);
    } finally {
      client.close();
      await server.stop(100);
      await reactor.close();
    }
  },
);

/** Floods `port` from another process with one query, as fast as it can, for `ms`; says how many answers came. */
async function flood(port: number, query: Uint8Array, ms: number): Promise<number> {
  const script = `
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const to = { transport: "udp", hostname: "127.0.0.1", port: ${port} };
    const query = Uint8Array.from(${JSON.stringify([...query])});
    let answers = 0;
    (async () => { for (;;) { await conn.receive(); answers++; } })().catch(() => {});
    const until = Date.now() + ${ms};
    while (Date.now() < until) for (let i = 0; i < 32; i++) await conn.send(query, to);
    await new Promise((resolve) => setTimeout(resolve, 100));
    console.log(answers);
    Deno.exit(0);`;
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", script],
    stdin: "null",
    stderr: "inherit",
  }).output();
  ok(success, "the flooding process failed");
  return Number(new TextDecoder().decode(stdout).trim());
}

test(
  needsFfi("a flooded batched server still runs timers and answers forwarded names", ["run"]),
  async () => {
    const upstream = startFakeUpstream({ "forward.dnsd.test": { kind: "answer", address: "192.0.2.7" } });
    const server = startBatchedServer(upstream.address, 1000);
    try {
      const flooding = flood(server.address.port, queryBytes("example.com", RRType.A), 1500);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the flood is on
      let latest = 0;
      for (let i = 0; i < 10; i++) {
        const asked = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
        latest = Math.max(latest, performance.now() - asked);
      }
      // The flood overruns the socket's receive buffer, so the kernel may drop a query: ask again, as resolvers do.
      let forwarded: Uint8Array | null = null;
      for (let attempt = 0; attempt < 5 && !forwarded; attempt++) {
        const client = openUdpClient(server.address, 400);
        forwarded = await client.ask(queryBytes("forward.dnsd.test", RRType.A)).catch(() => null);
        client.close();
      }
      ok(forwarded, "no answer to the forwarded name in five tries");
      deepEqual(decodeMessage(forwarded).answers.map((r) => r.data), [{ type: "A", address: "192.0.2.7" }]);
      const answered = await flooding;
      ok(answered > 1000, `the flood got ${answered} answers`);
      // Starved timers would wait for the flood to end, over a second.
      ok(latest < 300, `a 20 ms timer fired after ${Math.round(latest)} ms`);
    } finally {
      await server.stop(500);
      await upstream.close();
    }
  },
);
