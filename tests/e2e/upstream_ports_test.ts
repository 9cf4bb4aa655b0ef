/**
 * Upstream source ports and spoofed upstream datagrams, end to end through startServer() with
 * Deno's sockets and with batched ones: 600 forwarded queries leave from at least 550 distinct
 * ports (issue 12, defect 6), and 5,000 datagrams spoofed at the upstream socket while a query
 * waits are counted but write at most a line per kind (defect 3).
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { type Message, Rcode, RRClass } from "../../lib/proto/types.ts";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { needsFfi } from "../_batched.ts";
import { openUdpClient, queryBytes } from "../_udp_client.ts";
import { replyTo, type ScriptedUpstream, startScriptedUpstream } from "../_scripted_upstream.ts";

const QUERIES = 600;
const ENOUGH_PORTS = 550;
const CLIENTS = 10;
const SPOOFED = 5_000;
const BURST = 50;

type Kind = "deno" | "batched";

function answerOf(query: Message): Uint8Array {
  const name = query.questions[0]!.name;
  return replyTo(query, {
    answers: [{ name, class: RRClass.IN, ttl: 60, data: { type: "A", address: "192.0.2.1" } }],
  });
}

function serverFor(upstream: ScriptedUpstream, udpIo: Kind): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 2_000,
    localData: fixedData({}),
    udpIo,
  });
}

async function distinctPorts(udpIo: Kind): Promise<void> {
  const upstream = startScriptedUpstream((query) => [answerOf(query)]);
  const server = serverFor(upstream, udpIo);
  try {
    // A few clients at once, each asking its share of names in turn: every name goes upstream.
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      const client = openUdpClient(server.address);
      try {
        for (let i = c; i < QUERIES; i += CLIENTS) {
          const reply = decodeMessage(await client.ask(queryBytes(`p${i}.ports.test`, 1)));
          equal(reply.rcode, Rcode.NOERROR);
        }
      } finally {
        client.close();
      }
    }));
    equal(upstream.received.length, QUERIES);
    const ports = new Set(upstream.received.map((query) => query.from.port));
    ok(ports.size >= ENOUGH_PORTS, `${QUERIES} upstream queries came from only ${ports.size} ports`);
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
}

test(
  "600 forwarded queries leave from at least 550 source ports (Deno's sockets)",
  { timeoutMs: 30_000 },
  () => distinctPorts("deno"),
);

test(
  {
    ...needsFfi("600 forwarded queries leave from at least 550 source ports (batched sockets)"),
    timeoutMs: 30_000,
  },
  () => distinctPorts("batched"),
);

/**
 * Before the answer, the upstream floods the query's source port: half the datagrams from itself
 * with a wrong ID, half from another port. Few lines may be written, though every drop is counted.
 */
async function spoofed(udpIo: Kind): Promise<void> {
  const stranger = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  // One flood, at the source port of the newest query (a try sent again has a socket of its own);
  // every query is answered once the flood is over.
  let latest: Deno.NetAddr | undefined;
  let flood: Promise<void> | undefined;
  const upstream = startScriptedUpstream((query) => [answerOf(query)], (query, from, socket) => {
    latest = from;
    flood ??= (async () => {
      const wrongId = answerOf({ ...query, id: (query.id + 1) & 0xffff });
      // In bursts, each fewer than a socket's receive buffer holds, with a pause for the reader.
      for (let i = 0; i < SPOOFED; i += BURST) {
        await Promise.all(
          Array.from(
            { length: BURST },
            (_, k) => ((i + k) % 2 === 0 ? socket : stranger).send(wrongId, latest!),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    return flood;
  });
  const lines: LogRecord[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(record) },
    loggers: [
      { category: ["dnsd"], lowestLevel: "warning", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  const server = serverFor(upstream, udpIo);
  const client = openUdpClient(server.address, 10_000);
  try {
    const reply = decodeMessage(await client.ask(queryBytes("spoofed.test", 1)));
    equal(reply.rcode, Rcode.NOERROR, `SERVFAIL after ${server.counters.dropped} drops`);
    equal(reply.answers.length, 1);
    const dropped = server.counters.dropped;
    // The kernel may still drop a few when its buffer is full; most must have been read.
    ok(dropped >= SPOOFED * 0.9, `only ${dropped} spoofed datagrams were read`);
    const written = lines.filter((record) => record.category.join(".") === "dnsd.forward").length;
    ok(written <= 2, `${written} lines were logged for ${dropped} dropped datagrams`);
  } finally {
    client.close();
    server.close();
    await server.finished;
    stranger.close();
    await upstream.close();
    resetSync();
  }
}

test("5,000 spoofed upstream datagrams are counted and logged at most once per kind (Deno's sockets)", {
  timeoutMs: 30_000,
}, () => spoofed("deno"));

test(
  {
    ...needsFfi(
      "5,000 spoofed upstream datagrams are counted and logged at most once per kind (batched sockets)",
    ),
    timeoutMs: 30_000,
  },
  () => spoofed("batched"),
);
