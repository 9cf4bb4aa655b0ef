/**
 * dnsd end to end over real UDP on 127.0.0.1: startServer() on port 0 with the fake upstream as
 * its only upstream, and a raw client socket sending hand-built queries. No traffic leaves 127.0.0.1.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match, notDeepEqual, notEqual, ok } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { formatLogRecord } from "../../lib/observe/log_format.ts";
import { Rcode } from "../../lib/proto/types.ts";
import mappings from "../../mappings.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { type Behaviour, fakeSoa, type FakeUpstream, startFakeUpstream } from "../_fake_upstream.ts";
import { hex, toHex } from "../_hex.ts";
import { header } from "../_tcp_client.ts";
import { openUdpClient, type UdpClient } from "../_udp_client.ts";

/** The server's whole upstream deadline. */
const TIMEOUT_MS = 400;
/** How long the slow upstream name takes: well inside the deadline. */
const SLOW_MS = 150;
/** The longest a test waits for any one datagram before it fails. */
const REPLY_WAIT_MS = 3000;

const behaviours: Readonly<Record<string, Behaviour>> = {
  "forward.dnsd.test": { kind: "answer", address: "192.0.2.1" },
  "slow.dnsd.test": { kind: "answer", address: "192.0.2.2", delayMs: SLOW_MS },
  "nx.dnsd.test": { kind: "nxdomain", zone: "dnsd.test" },
  "silent.dnsd.test": { kind: "silent" },
  "malformed.dnsd.test": { kind: "malformed" },
  "wrong-id.dnsd.test": { kind: "answer", address: "192.0.2.11", decoy: "wrong-id" },
  "wrong-question.dnsd.test": { kind: "answer", address: "192.0.2.12", decoy: "wrong-question" },
  "wrong-source.dnsd.test": { kind: "answer", address: "192.0.2.13", decoy: "wrong-source" },
};

interface Dnsd {
  readonly server: RunningServer;
  readonly upstream: FakeUpstream;
  readonly client: UdpClient;
}

/** Runs `fn` against a fresh dnsd, fake upstream and client, and closes all three afterwards. */
async function withDnsd(fn: (dnsd: Dnsd) => Promise<void>): Promise<void> {
  const upstream = startFakeUpstream(behaviours);
  let server: RunningServer | undefined;
  let client: UdpClient | undefined;
  try {
    server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: [upstream.address],
      timeoutMs: TIMEOUT_MS,
      localData: fixedData({ mappings: mappingRecords(mappings) }),
    });
    client = openUdpClient(server.address, REPLY_WAIT_MS);
    await fn({ server, upstream, client });
  } finally {
    client?.close();
    server?.close();
    await server?.finished;
    await upstream.close();
  }
}

interface QueryFields {
  readonly id: number;
  readonly name: string;
  readonly type?: number;
  readonly rd?: boolean;
  readonly edns?: boolean;
}

function labels(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".")) out.push(label.length, ...new TextEncoder().encode(label));
  return [...out, 0];
}

/** A query written octet by octet, as a client would, without dnsd's encoder. */
function buildQuery({ id, name, type = 1, rd = true, edns = false }: QueryFields): Uint8Array {
  return Uint8Array.from([
    id >> 8,
    id & 0xff,
    rd ? 0x01 : 0x00,
    0x00,
    0,
    1, // QDCOUNT
    0,
    0, // ANCOUNT
    0,
    0, // NSCOUNT
    0,
    edns ? 1 : 0, // ARCOUNT
    ...labels(name),
    type >> 8,
    type & 0xff,
    0,
    1, // class IN
    // OPT: root owner, type 41, UDP size 1232, extended rcode, version and flags 0, no options
    ...(edns ? [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0] : []),
  ]);
}

/** The header a mapped name's answer must carry. */
function answerHeader(id: number, rd: boolean, edns: boolean) {
  return {
    id,
    qr: 1,
    opcode: 0,
    aa: 1,
    tc: 0,
    rd: rd ? 1 : 0,
    ra: 1,
    z: 0,
    ad: 0,
    cd: 0,
    rcode: 0,
    qdcount: 1,
    ancount: 1,
    nscount: 0,
    arcount: edns ? 1 : 0,
  };
}

function ipHex(address: string): string {
  return address.split(".").map((octet) => Number(octet).toString(16).padStart(2, "0")).join("");
}

/** The question section of `query` (one question, uncompressed): from octet 12 to TYPE and CLASS. */
function questionOf(query: Uint8Array): Uint8Array {
  let pos = 12;
  while (query[pos] !== 0) pos += query[pos]! + 1;
  return query.subarray(12, pos + 5);
}

test("dnsd answers a mapped name with this exact response", async () => {
  await withDnsd(async ({ client }) => {
    const response = await client.ask(hex`
      4a4b 0100 0001 0000 0000 0000          # id=0x4a4b RD qd=1
      07 6578616d706c65 03 636f6d 00 0001 0001 # example.com A IN
    `);
    equal(
      toHex(response),
      toHex(hex`
        4a4b 8580 0001 0001 0000 0000          # id echoed, QR AA RD RA, NOERROR, qd=1 an=1
        07 6578616d706c65 03 636f6d 00 0001 0001 # the question as asked
        c00c 0001 0001 0000012c 0004 08080808  # -> question, A, IN, TTL 300, 4 octets, 8.8.8.8
      `),
    );
  });
});

test("dnsd answers every mapped name with every header field and the answer octet for octet", async (t) => {
  await withDnsd(async ({ client, upstream }) => {
    let id = 0x1000;
    for (const [name, address] of Object.entries(mappings)) {
      for (
        const { rd, edns } of [{ rd: true, edns: false }, { rd: false, edns: false }, {
          rd: true,
          edns: true,
        }]
      ) {
        await t.step(`${name} (RD=${rd ? 1 : 0}${edns ? ", EDNS" : ""}) -> ${address}`, async () => {
          const query = buildQuery({ id: ++id, name, rd, edns });
          const response = await client.ask(query);

          deepEqual(header(response), answerHeader(id, rd, edns));
          const question = questionOf(query);
          equal(toHex(response.subarray(12, 12 + question.length)), toHex(question));
          const answer = response.subarray(12 + question.length, 12 + question.length + 16);
          // owner -> question (c00c), type A, class IN, TTL 300, RDLENGTH 4, RDATA
          equal(toHex(answer), `c00c` + `0001` + `0001` + `0000012c` + `0004` + ipHex(String(address)));
          // with EDNS: root owner, OPT, our UDP size 1232, no extended rcode, version 0, DO=0, no options
          const rest = response.subarray(12 + question.length + 16);
          equal(toHex(rest), edns ? "00" + "0029" + "04d0" + "00" + "00" + "0000" + "0000" : "");
        });
      }
    }
    equal(upstream.received.length, 0);
  });
});

test("dnsd matches a mapped name without case and keeps the case asked", async (t) => {
  await withDnsd(async ({ client }) => {
    for (const name of ["EXAMPLE.COM", "ExAmPlE.cOm", "TeSt.CoM", "RANDOM.org"]) {
      await t.step(name, async () => {
        const query = buildQuery({ id: 0x2222, name });
        const response = await client.ask(query);
        deepEqual(header(response), answerHeader(0x2222, true, false));
        const question = questionOf(query);
        equal(toHex(response.subarray(12, 12 + question.length)), toHex(question));
        const message = decodeMessage(response);
        equal(message.questions[0]!.name, name);
        equal(message.answers[0]!.name, name);
      });
    }
  });
});

test("dnsd answers NODATA for another type of a mapped name", async () => {
  await withDnsd(async ({ client, upstream }) => {
    const response = await client.ask(buildQuery({ id: 0x2323, name: "example.com", type: 28 }));
    deepEqual(header(response), { ...answerHeader(0x2323, true, false), ancount: 0 });
    equal(upstream.received.length, 0);
  });
});

test("dnsd forwards an unmapped name under a fresh ID and gives the client's ID back", async () => {
  await withDnsd(async ({ client, upstream, server }) => {
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await client.ask(buildQuery({ id: 0x0101, name: "Forward.DNSD.test" }));
      const message = decodeMessage(response);
      equal(message.id, 0x0101);
      equal(message.response, true);
      equal(message.authoritative, false);
      equal(message.recursionAvailable, true);
      equal(message.rcode, Rcode.NOERROR);
      deepEqual(message.questions.map((q) => q.name), ["Forward.DNSD.test"]);
      deepEqual(message.answers.map((r) => [r.name, r.ttl, r.data]), [
        ["Forward.DNSD.test", 60, { type: "A", address: "192.0.2.1" }],
      ]);
      ids.push(upstream.received[i]!.message!.id);
    }
    equal(upstream.received.length, 2);
    // Upstream IDs are random, so one may equal the client's by chance (2^-16); two cannot (2^-32).
    notDeepEqual(ids, [0x0101, 0x0101]);
    equal(upstream.received[0]!.message!.recursionDesired, true);
    equal(upstream.received[0]!.from.hostname, "127.0.0.1");
    notEqual(upstream.received[0]!.from.port, server.address.port); // not the listening socket
    equal(server.counters.forwarded, 2);
    equal(server.counters.answered, 2);
  });
});

test("dnsd refuses an unmapped name with RD=0 and sends nothing upstream", async () => {
  await withDnsd(async ({ client, upstream }) => {
    const refused = await client.ask(buildQuery({ id: 0x0505, name: "forward.dnsd.test", rd: false }));
    deepEqual(header(refused), {
      ...answerHeader(0x0505, false, false),
      aa: 0,
      ancount: 0,
      rcode: Rcode.REFUSED,
    });
    equal(upstream.received.length, 0);
    // The same name with RD=1 does reach the fake upstream, so the count above means something.
    await client.ask(buildQuery({ id: 0x0506, name: "forward.dnsd.test" }));
    equal(upstream.received.length, 1);
  });
});

test("dnsd answers SERVFAIL when the upstream stays silent past the deadline", async () => {
  await withDnsd(async ({ client, upstream, server }) => {
    const started = performance.now();
    const response = await client.ask(buildQuery({ id: 0x0606, name: "silent.dnsd.test" }));
    const elapsed = performance.now() - started;
    deepEqual(header(response), {
      ...answerHeader(0x0606, true, false),
      aa: 0,
      ancount: 0,
      rcode: Rcode.SERVFAIL,
    });
    ok(elapsed >= TIMEOUT_MS - 5, `answered after ${elapsed} ms`);
    // Asked again once its 376 ms retransmission timeout ran out (lib/upstream/tries.ts); both tries time out.
    equal(upstream.received.length, 2);
    equal(server.counters.timeouts, 2);
  });
});

test("dnsd passes NXDOMAIN through with the SOA in the authority section", async () => {
  await withDnsd(async ({ client }) => {
    const response = await client.ask(buildQuery({ id: 0x0707, name: "nx.dnsd.test" }));
    deepEqual(header(response), {
      ...answerHeader(0x0707, true, false),
      aa: 0,
      ancount: 0,
      nscount: 1,
      rcode: Rcode.NXDOMAIN,
    });
    deepEqual(decodeMessage(response).authorities, [fakeSoa("dnsd.test")]);
  });
});

test("dnsd answers SERVFAIL to a malformed upstream reply", async () => {
  await withDnsd(async ({ client, server }) => {
    const response = await client.ask(buildQuery({ id: 0x0808, name: "malformed.dnsd.test" }));
    equal(header(response).rcode, Rcode.SERVFAIL);
    equal(header(response).id, 0x0808);
    equal(server.counters.malformed, 1);
  });
});

test("dnsd ignores upstream datagrams that do not answer its query and takes the right one", async (t) => {
  await withDnsd(async ({ client, server }) => {
    const decoys = [
      { name: "wrong-id.dnsd.test", address: "192.0.2.11" },
      { name: "wrong-question.dnsd.test", address: "192.0.2.12" },
      { name: "wrong-source.dnsd.test", address: "192.0.2.13" },
    ];
    for (const { name, address } of decoys) {
      await t.step(name, async () => {
        const dropped = server.counters.dropped;
        const response = await client.ask(buildQuery({ id: 0x0909, name }));
        const message = decodeMessage(response);
        equal(message.id, 0x0909);
        equal(message.rcode, Rcode.NOERROR);
        deepEqual(message.questions.map((q) => q.name), [name]);
        deepEqual(message.answers.map((r) => [r.name, r.data]), [[name, { type: "A", address }]]);
        equal(server.counters.dropped, dropped + 1);
      });
    }
  });
});

test("dnsd sends a local answer while a slow upstream query is still pending", async () => {
  await withDnsd(async ({ client }) => {
    await client.send(buildQuery({ id: 0x0001, name: "slow.dnsd.test" }));
    await client.send(buildQuery({ id: 0x0002, name: "test.com" }));
    const first = await client.receive();
    const second = await client.receive();
    equal(header(first).id, 0x0002);
    deepEqual(decodeMessage(first).answers.map((r) => r.data), [{ type: "A", address: "8.8.4.4" }]);
    equal(header(second).id, 0x0001);
    deepEqual(decodeMessage(second).answers.map((r) => r.data), [{ type: "A", address: "192.0.2.2" }]);
  });
});

test("dnsd ignores junk and responses, then answers the next query", async () => {
  await withDnsd(async ({ client, upstream }) => {
    const noise = crypto.getRandomValues(new Uint8Array(64));
    noise[2] = noise[2]! | 0x80; // QR=1: random bytes that claim to be a response
    const junk = [
      noise,
      // a well-formed response: answering it could start a loop between two servers
      hex`
        3333 8180 0001 0001 0000 0000
        07 6578616d706c65 03 636f6d 00 0001 0001
        c00c 0001 0001 0000012c 0004 08080808
      `,
      hex`0102 0304 05`, // 5 octets: shorter than a header
      hex`abcd 0100 0001 0000 0000 00`, // 11 octets
    ];
    for (const datagram of junk) await client.send(datagram);
    const response = await client.ask(buildQuery({ id: 0x4444, name: "helloworld.com" }));
    deepEqual(header(response), answerHeader(0x4444, true, false));
    equal(toHex(response.subarray(-4)), ipHex("1.1.1.1"));
    equal(upstream.received.length, 0);
  });
});

test("dnsd answers an undecodable body with a header-only FORMERR", async () => {
  await withDnsd(async ({ client, upstream }) => {
    const response = await client.ask(hex`
      5555 0100 0001 0000 0000 0000   # id=0x5555 RD qd=1
      07 6578616d                     # a label cut short
    `);
    equal(toHex(response), toHex(hex`5555 8181 0000 0000 0000 0000 # QR RD RA FORMERR`));
    equal(upstream.received.length, 0);
  });
});

test("dnsd answers NOTIMP to an opcode other than QUERY", async () => {
  await withDnsd(async ({ client }) => {
    const query = buildQuery({ id: 0x6666, name: "example.com" });
    query[2] = query[2]! | (4 << 3); // opcode 4 (NOTIFY)
    const response = await client.ask(query);
    deepEqual(header(response), {
      ...answerHeader(0x6666, true, false),
      opcode: 4,
      aa: 0,
      ancount: 0,
      rcode: Rcode.NOTIMP,
    });
  });
});

const LOG_LINE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (DEBUG|INFO|WARNING|ERROR) - /;

test("dnsd logs each query in the Python logging format", async () => {
  const lines: string[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  try {
    let port = 0;
    await withDnsd(async ({ client }) => {
      port = client.port;
      await client.ask(buildQuery({ id: 0x7001, name: "example.com" }));
      await client.ask(buildQuery({ id: 0x7002, name: "forward.dnsd.test" }));
    });
    ok(lines.length > 0, "nothing was logged");
    for (const line of lines) {
      match(line, LOG_LINE);
      ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"), `not one line: ${JSON.stringify(line)}`);
    }
    const messages = lines.map((line) => line.replace(LOG_LINE, "").trimEnd());
    const expected = [
      `Received packet from 127.0.0.1:${port}`,
      "Received query for domain: example.com",
      "Received query for domain: forward.dnsd.test",
      "Domain 'forward.dnsd.test' not found locally. Forwarding query.",
      "Received response from upstream server for domain 'forward.dnsd.test'.",
    ];
    for (const text of expected) {
      ok(
        messages.some((m) => m.startsWith(text)),
        `no line starts with ${JSON.stringify(text)} in\n${lines.join("")}`,
      );
    }
    match(lines.find((l) => l.includes("not found locally"))!, / - DEBUG - /);
    match(lines.find((l) => l.includes("Received packet from"))!, / - DEBUG - /);
    equal(messages.filter((m) => m.startsWith(`Received packet from 127.0.0.1:${port}`)).length, 2);
    equal(messages.some((m) => m.includes("'example.com' not found locally")), false);
  } finally {
    resetSync();
  }
});
