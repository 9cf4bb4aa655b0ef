/**
 * The admission hook end to end: startServer() on 127.0.0.1 with a counting hook first. It must see
 * every query as it arrives, over UDP on both socket kinds and over TCP, including the repeated
 * ones the memo answers from stored bytes; and its "refuse" and "drop" verdicts must hold for memo
 * hits too.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/mod.ts";
import { decodeMessage, Rcode } from "../../lib/proto/mod.ts";
import type { QueryContext, QueryHook, Verdict } from "../../lib/resolve/mod.ts";
import { fixedData, mappingRecords } from "../../lib/zone/mod.ts";
import { needsFfi } from "../_batched.ts";
import { connectTcp, idOf, query } from "../_tcp_client.ts";
import { NoReply, openUdpClient } from "../_udp_client.ts";

const QUERIES = 1_000;

/** A hook that counts what it sees and answers with `verdict()`. */
function counting(verdict: (wire: Uint8Array) => Verdict = () => "answer") {
  const seen: QueryContext[] = [];
  const hook: QueryHook = (wire, context) => {
    ok(wire.length >= 12, "the hook sees the query's bytes");
    // The client is good only during the call: keep a copy, as a real hook would.
    const { transport, hostname, port } = context.client;
    seen.push({ ...context, client: { transport, hostname, port } });
    return verdict(wire);
  };
  return { hook, seen };
}

function serve(udpIo: "deno" | "batched", hooks: readonly QueryHook[]): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    // Nothing is forwarded: every query is for a mapped name.
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
    timeoutMs: 500,
    localData: fixedData({ mappings: mappingRecords({ "hook.dnsd.test": "192.0.2.80" }) }),
    udpIo,
    hooks,
  });
}

/** Sends `count` identical queries one after another on one UDP socket; returns the answers' rcodes. */
async function askUdp(server: RunningServer, count: number): Promise<number[]> {
  const client = openUdpClient(server.address);
  try {
    const rcodes: number[] = [];
    for (let i = 0; i < count; i++) {
      const answer = await client.ask(query("hook.dnsd.test", { id: 0x4000 }));
      equal(idOf(answer), 0x4000);
      rcodes.push(decodeMessage(answer).rcode);
    }
    return rcodes;
  } finally {
    client.close();
  }
}

for (const udpIo of ["deno", "batched"] as const) {
  const definition = udpIo === "batched"
    ? needsFfi(`a counting hook sees every one of ${QUERIES} identical UDP queries (batched sockets)`)
    : {
      name: `a counting hook sees every one of ${QUERIES} identical UDP queries (Deno sockets)`,
      ignore: false,
    };
  test({ ...definition, timeoutMs: 30_000 }, async () => {
    const { hook, seen } = counting();
    const server = serve(udpIo, [hook]);
    try {
      const rcodes = await askUdp(server, QUERIES);
      deepEqual(new Set(rcodes), new Set([Rcode.NOERROR]));
      equal(seen.length, QUERIES, "the hook saw each query, memo hits included");
      const first = seen[0]!;
      equal(first.transport, "udp");
      equal(first.client.hostname, "127.0.0.1");
      ok(first.client.port > 0);
      equal(first.size, query("hook.dnsd.test").length);
      ok(
        seen.every((context, i) => i === 0 || context.receivedAt >= seen[i - 1]!.receivedAt),
        "arrival times",
      );
    } finally {
      server.close();
      await server.finished;
    }
  });
}

test(
  { name: `a counting hook sees every one of ${QUERIES} identical TCP queries`, timeoutMs: 30_000 },
  async () => {
    const { hook, seen } = counting();
    const server = serve("deno", [hook]);
    const client = await connectTcp(server.address);
    try {
      for (let i = 0; i < QUERIES; i++) {
        const answer = await client.ask(query("hook.dnsd.test", { id: i }));
        equal(decodeMessage(answer).rcode, Rcode.NOERROR);
      }
      equal(seen.length, QUERIES);
      equal(seen[0]!.transport, "tcp");
      equal(seen[0]!.client.hostname, "127.0.0.1");
    } finally {
      client.close();
      server.close();
      await server.finished;
    }
  },
);

test("the hooks run in order, and a later one is not asked once one refuses", async () => {
  const first = counting(() => "refuse");
  const second = counting();
  const server = serve("deno", [first.hook, second.hook]);
  try {
    // The same query twice: the second would be a memo hit if the first had been answered.
    deepEqual(await askUdp(server, 2), [Rcode.REFUSED, Rcode.REFUSED]);
    equal(first.seen.length, 2);
    equal(second.seen.length, 0);
  } finally {
    server.close();
    await server.finished;
  }
});

for (const udpIo of ["deno", "batched"] as const) {
  const name =
    `a hook's verdicts hold for memo hits: answered, then refused, then dropped (${udpIo} sockets)`;
  test(udpIo === "batched" ? needsFfi(name) : { name, ignore: false }, async () => {
    let verdict: Verdict = "answer";
    const { hook, seen } = counting(() => verdict);
    const server = serve(udpIo, [hook]);
    const client = openUdpClient(server.address, 300);
    try {
      const ask = async () => decodeMessage(await client.ask(query("hook.dnsd.test", { id: 0x4001 }))).rcode;
      equal(await ask(), Rcode.NOERROR);
      equal(await ask(), Rcode.NOERROR); // from the memo
      verdict = "refuse";
      equal(await ask(), Rcode.REFUSED);
      verdict = "drop";
      await rejects(ask(), NoReply);
      equal(seen.length, 4);
    } finally {
      client.close();
      server.close();
      await server.finished;
    }
  });
}

test("a hook that drops a TCP query leaves the connection serving the next", async () => {
  // Drops the query with ID 1, answers the rest.
  const { hook, seen } = counting((wire) => wire[0] === 0 && wire[1] === 1 ? "drop" : "answer");
  const server = serve("deno", [hook]);
  const client = await connectTcp(server.address);
  try {
    await client.send(query("hook.dnsd.test", { id: 1 }));
    const answer = await client.ask(query("hook.dnsd.test", { id: 2 }));
    equal(idOf(answer), 2, "the dropped query got no answer");
    equal(seen.length, 2);
  } finally {
    client.close();
    server.close();
    await server.finished;
  }
});
