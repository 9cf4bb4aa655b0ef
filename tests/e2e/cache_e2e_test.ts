/**
 * The cache end to end over real UDP on 127.0.0.1: a repeated question is answered with no
 * upstream packet, and replies from a spoofing attempt (a wrong ID, a wrong source port) never
 * reach the cache. No traffic leaves 127.0.0.1.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { type Message, Rcode, RRClass } from "../../lib/proto/types.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { udpAsk } from "../_udp_client.ts";

/** The server's whole upstream deadline. */
const TIMEOUT_MS = 1000;
/** The longest a test waits for any one datagram before it fails. */
const REPLY_WAIT_MS = 3000;

const CACHE = {
  limits: { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 },
} as const;

/** Sends one query from a fresh socket and waits (bounded) for the reply. */
async function ask(server: Deno.NetAddr, message: Message): Promise<Message> {
  return decodeMessage(await udpAsk(server, encodeMessage(message), REPLY_WAIT_MS));
}

function serve(upstream: Deno.NetAddr): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream],
    timeoutMs: TIMEOUT_MS,
    localData: fixedData({}),
    cache: CACHE,
  });
}

const addresses = (m: Message) =>
  m.answers.map((record) => record.data.type === "A" ? record.data.address : "");

test("dnsd answers a repeated question from its cache, with no upstream packet", async () => {
  const name = "cached.dnsd.test";
  const upstream = startFakeUpstream({ [name]: { kind: "answer", address: "192.0.2.21" } });
  const server = serve(upstream.address);
  const sent = () => upstream.received.filter((q) => q.message?.questions[0]?.name.toLowerCase() === name);
  try {
    const first = await ask(server.address, query({ name }, { id: 0x5101 }));
    equal(first.rcode, Rcode.NOERROR);
    deepEqual(addresses(first), ["192.0.2.21"]);
    equal(sent().length, 1);

    const second = await ask(server.address, query({ name: "Cached.DNSD.test" }, { id: 0x5102 }));
    equal(second.id, 0x5102);
    equal(second.questions[0]?.name, "Cached.DNSD.test");
    deepEqual(addresses(second), ["192.0.2.21"]);
    ok(second.answers[0]!.ttl <= first.answers[0]!.ttl, "the TTL counts down, never up");
    equal(sent().length, 1, "the second answer came with no upstream packet");
    equal(upstream.received.length, 1);
    equal(server.cache?.counters.hits, 1);
    equal(server.cache?.counters.misses, 1);
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
});

/**
 * An upstream under attack: for each query, a forged reply with the ID plus one, then a forged
 * reply with the right ID from another port, and only then the real answer.
 */
function startSpoofedUpstream(real: string, forged: string) {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const received: Message[] = [];
  const loop = (async () => {
    while (true) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await conn.receive();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) return;
        throw error;
      }
      const [bytes, from] = datagram;
      const request = decodeMessage(bytes);
      received.push(request);
      const answer = (address: string, id = request.id) =>
        encodeMessage({
          ...reply(request, {
            answers: [{
              name: request.questions[0]!.name,
              class: RRClass.IN,
              ttl: 300,
              data: { type: "A", address },
            }],
          }),
          id,
        });
      await conn.send(answer(forged, (request.id + 1) & 0xffff), from);
      await other.send(answer(forged), from);
      await conn.send(answer(real), from);
    }
  })();
  return {
    address: conn.addr as Deno.NetAddr,
    received,
    async close() {
      conn.close();
      other.close();
      await loop;
    },
  };
}

test("dnsd never caches a spoofed reply", async () => {
  const name = "spoofed.dnsd.test";
  const upstream = startSpoofedUpstream("192.0.2.31", "203.0.113.66");
  const server = serve(upstream.address);
  try {
    const first = await ask(server.address, query({ name }, { id: 0x5201 }));
    deepEqual(addresses(first), ["192.0.2.31"]);
    equal(server.counters.dropped, 2, "the wrong-ID and wrong-source replies were dropped");

    const second = await ask(server.address, query({ name }, { id: 0x5202 }));
    deepEqual(addresses(second), ["192.0.2.31"]);
    equal(upstream.received.length, 1, "served from the cache");

    equal(server.cache?.size, 1, "one entry: the genuine reply");
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
});
