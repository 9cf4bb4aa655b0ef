/**
 * What an upstream's reply may not slip past dnsd, end to end over UDP on 127.0.0.1, against a
 * scripted upstream that answers with fixed record bytes: a TTL with the top bit set is 0 and is
 * not cached (RFC 2181 section 8), and records that do not answer the question are scrubbed from
 * the first reply and never cached (unbound's rules for a forwarder, lib/proto/scrub.ts).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query } from "../../lib/proto/message.ts";
import { type Message, type ResourceRecord, RRType, typeName } from "../../lib/proto/types.ts";
import { typeCode } from "../../lib/proto/rdata.ts";
import { udpAsk } from "../_udp_client.ts";
import { parseHex } from "../_hex.ts";

const TIMEOUT_MS = 1000;
const REPLY_WAIT_MS = 3000;

/** A scripted upstream on 127.0.0.1: each query gets its header and question back, then `records`. */
interface Scripted {
  readonly address: Deno.NetAddr;
  /** How many queries it has answered. */
  readonly count: () => number;
  close(): Promise<void>;
}

/**
 * Answers every query with QR RD RA NOERROR, the query's ID and question, the counts given and
 * the records' octets (annotated hex; `c00c` is the question's name).
 */
function startScripted(counts: readonly [number, number, number], records: string): Scripted {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const tail = parseHex(records);
  let answered = 0;
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
      let end = 12;
      while (bytes[end]! !== 0) end += bytes[end]! + 1;
      end += 5; // the root label, QTYPE and QCLASS; the query's OPT record is not echoed
      const reply = new Uint8Array(end + tail.length);
      reply.set(bytes.subarray(0, end));
      reply.set([0x81, 0x80, 0, 1, 0, counts[0], 0, counts[1], 0, counts[2]], 2);
      reply.set(tail, end);
      answered++;
      await conn.send(reply, from);
    }
  })();
  return {
    address: conn.addr as Deno.NetAddr,
    count: () => answered,
    async close() {
      conn.close();
      await loop;
    },
  };
}

function serve(upstream: Deno.NetAddr): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream],
    timeoutMs: TIMEOUT_MS,
    localData: fixedData({}),
    cache: { limits: { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 } },
  });
}

async function ask(server: Deno.NetAddr, name: string, id: number): Promise<Message> {
  return decodeMessage(await udpAsk(server, encodeMessage(query({ name }, { id })), REPLY_WAIT_MS));
}

const shown = (records: readonly ResourceRecord[]) =>
  records.map((record) => `${record.name} ${typeName(typeCode(record.data))}`);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(
  "dnsd serves a TTL with the top bit set as 0, and does not cache it",
  { timeoutMs: 15_000 },
  async () => {
    const upstream = startScripted(
      [1, 0, 0],
      `c00c 0001 0001 80000001 0004 c0000201   # the question's name, A, IN, TTL 0x80000001, 192.0.2.1`,
    );
    const server = serve(upstream.address);
    try {
      const first = await ask(server.address, "top-bit.dnsd.test", 0x6101);
      deepEqual(first.answers.map((record) => record.ttl), [0], "RFC 2181 section 8: treated as 0");
      await delay(1100);
      const second = await ask(server.address, "top-bit.dnsd.test", 0x6102);
      deepEqual(second.answers.map((record) => record.ttl), [0]);
      equal(upstream.count(), 2, "asked again a second later: nothing was cached");
      equal(server.cache?.size, 0);
    } finally {
      server.close();
      await server.finished;
      await upstream.close();
    }
  },
);

test(
  "dnsd scrubs unrelated records from a forwarded answer, first and cached",
  { timeoutMs: 15_000 },
  async () => {
    // The question name (scrub.dnsd.test) takes octets 12..28 (dnsd.test at 0x12), so records start at 33.
    const upstream = startScripted(
      [2, 2, 3],
      `c00c 0001 0001 0000012c 0004 c0000201                      # scrub.dnsd.test A 192.0.2.1
     046576696c 0474657374 00 0001 0001 0000012c 0004 cb007142  # evil.test A 203.0.113.66 (at 0x31)
     c031 0002 0001 0000012c 0005 026e73 c031                   # evil.test NS ns.evil.test (at 0x56)
     c012 0002 0001 0000012c 0006 036e7331 c012                 # dnsd.test NS ns1.dnsd.test (at 0x67)
     c056 0001 0001 0000012c 0004 cb007163                      # ns.evil.test A 203.0.113.99
     c067 0001 0001 0000012c 0004 c0000235                      # ns1.dnsd.test A 192.0.2.53
     05 6f74686572 c036 0001 0001 0000012c 0004 cb007164        # other.test A 203.0.113.100`,
    );
    const server = serve(upstream.address);
    try {
      for (const [i, id] of [0x6201, 0x6202].entries()) {
        const reply = await ask(server.address, "scrub.dnsd.test", id);
        const which = i === 0 ? "first" : "cached";
        deepEqual(shown(reply.answers), ["scrub.dnsd.test A"], `${which}: answer`);
        deepEqual(shown(reply.authorities), ["dnsd.test NS"], `${which}: authority`);
        deepEqual(shown(reply.additionals), ["ns1.dnsd.test A"], `${which}: additional`);
        equal(typeCode(reply.answers[0]!.data), RRType.A);
      }
      equal(upstream.count(), 1, "the second reply came from the cache");
    } finally {
      server.close();
      await server.finished;
      await upstream.close();
    }
  },
);
