/**
 * Batched UDP under load (lib/net/ffi_udp.ts): while datagrams keep coming the socket waits on the
 * main thread, and that wait must never hold up the rest of the process: queries answered through
 * promises, timers, and Deno's own sockets all go on. Needs --allow-ffi (and --allow-run for the
 * flood, which comes from a second process so that the test's own event loop stays out of it).
 * The tests wait on events (an answer, a line from the flood) with generous bounds, never on a
 * fixed sleep or a tight time limit: each bound is far from what a failure would take.
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
    // The wait on the main thread may last 10 s here: an answer left queued behind it would come
    // only when that wait ends. Each answer is awaited (the client waits longer than that) and must
    // come in under half of it: far more than an answer takes, far less than a held-up one.
    const reactor = new UdpReactor({ loopTurnMs: 10_000 });
    const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0, reactor });
    const server = serveUdp(socket, async (request) => {
      for (let i = 0; i < 20; i++) await Promise.resolve(); // microtasks only, no event loop turn
      return reply(request.message, { answers: [] });
    });
    const client = openUdpClient(socket.addr, 20_000);
    try {
      for (let i = 0; i < 20; i++) {
        const query = queryBytes("slow.dnsd.test", RRType.A);
        const asked = performance.now();
        const answer = await client.ask(query);
        const took = performance.now() - asked;
        ok(
          took < 5000,
          `answer ${i + 1} of 20 took ${Math.round(took)} ms: held up behind the reactor's wait`,
        );
        equal(decodeMessage(answer).id, decodeMessage(query).id);
      }
    } finally {
      client.close();
      await server.stop(100);
      await reactor.close();
    }
  },
);

/** Answers the flood must have had before it counts as on. */
const FLOOD_ON = 1000;
/** The longest the flood lasts when nobody stops it; a starved event loop could not stop it sooner. */
const FLOOD_MAX_MS = 20_000;

/** A flood from another process; see {@link flood}. */
interface Flood {
  /** Settles once the flood has had {@link FLOOD_ON} answers (and rejects if it ended before). */
  readonly on: Promise<void>;
  /** Stops the flood (if it still runs): how many answers came, and whether it was still on. */
  stop(): Promise<{ answers: number; stoppedEarly: boolean }>;
}

/**
 * Floods `port` from another process with one query, as fast as it can, until told to stop (its
 * stdin closes) or {@link FLOOD_MAX_MS} have passed. It says "on" on stdout once {@link FLOOD_ON}
 * answers came, and at the end how many came and whether it was stopped before its time was up.
 */
function flood(port: number, query: Uint8Array): Flood {
  const script = `
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const to = { transport: "udp", hostname: "127.0.0.1", port: ${port} };
    const query = Uint8Array.from(${JSON.stringify([...query])});
    let answers = 0;
    (async () => {
      for (;;) {
        await conn.receive();
        if (++answers === ${FLOOD_ON}) console.log("on");
      }
    })().catch(() => {});
    let stopped = false;
    Deno.stdin.read(new Uint8Array(1)).finally(() => stopped = true);
    const until = Date.now() + ${FLOOD_MAX_MS};
    while (!stopped && Date.now() < until) for (let i = 0; i < 32; i++) await conn.send(query, to);
    console.log(JSON.stringify({ answers, stoppedEarly: stopped }));
    Deno.exit(0);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  /** The next line from the flood; null when its output has ended. */
  async function nextLine(): Promise<string | null> {
    for (;;) {
      const end = text.indexOf("\n");
      if (end >= 0) {
        const line = text.slice(0, end);
        text = text.slice(end + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) return null;
      text += value;
    }
  }
  const on = nextLine().then((line) => {
    if (line !== "on") throw new Error(`the flood never had ${FLOOD_ON} answers (it said ${line})`);
  });
  on.catch(() => {}); // stop() reports it too
  let stopping: Promise<{ answers: number; stoppedEarly: boolean }> | undefined;
  return {
    on,
    stop() {
      return stopping ??= (async () => {
        try {
          await child.stdin.close(); // the flood stops sending
        } catch {
          // it had ended already
        }
        try {
          await on;
          const last = await nextLine();
          ok(last !== null, "the flooding process said nothing at the end");
          return JSON.parse(last) as { answers: number; stoppedEarly: boolean };
        } finally {
          await lines.cancel();
          const { success } = await child.status;
          ok(success, "the flooding process failed");
        }
      })();
    },
  };
}

test(
  needsFfi("a flooded batched server still runs timers and answers forwarded names", ["run"]),
  async () => {
    const upstream = startFakeUpstream({ "forward.dnsd.test": { kind: "answer", address: "192.0.2.7" } });
    const server = startBatchedServer(upstream.address, 1000);
    const flooding = flood(server.address.port, queryBytes("example.com", RRType.A));
    try {
      await flooding.on; // the server is answering the flood
      let latest = 0;
      for (let i = 0; i < 10; i++) {
        const asked = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
        latest = Math.max(latest, performance.now() - asked);
      }
      // The flood overruns the socket's receive buffer, so the kernel may drop a query: ask again, as resolvers do.
      let forwarded: Uint8Array | null = null;
      for (let attempt = 0; attempt < 10 && !forwarded; attempt++) {
        const client = openUdpClient(server.address, 1000);
        forwarded = await client.ask(queryBytes("forward.dnsd.test", RRType.A)).catch(() => null);
        client.close();
      }
      ok(forwarded, "no answer to the forwarded name in ten tries");
      deepEqual(decodeMessage(forwarded).answers.map((r) => r.data), [{ type: "A", address: "192.0.2.7" }]);
      const { answers, stoppedEarly } = await flooding.stop();
      ok(answers > FLOOD_ON, `the flood got ${answers} answers`);
      // Starved timers would wait for the flood to end on its own (after FLOOD_MAX_MS): they fired,
      // and the forwarded name was answered, while it was still on.
      ok(
        stoppedEarly,
        `the timers and the forwarded name waited for the flood to end (a 20 ms timer took up to ${
          Math.round(latest)
        } ms)`,
      );
    } finally {
      await flooding.stop().catch(() => {});
      await server.stop(500);
      await upstream.close();
    }
  },
);
