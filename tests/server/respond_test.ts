/**
 * The respond() ladder, one table row per rung: request bytes in, response bytes (or silence)
 * out, through `respond(encode(q), chain(stages), report)` with stub stages and exchanges.
 * @module
 */
import { contextOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { DataError, UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { forward } from "../../lib/upstream/forward.ts";
import { authoritative } from "../../lib/resolve/authority.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query as baseQuery, reply } from "../../lib/proto/message.ts";
import { chain, requireRecursion } from "../../lib/resolve/resolver.ts";
import type { Stage } from "../../lib/resolve/request.ts";
import { respond } from "../../lib/server/respond.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { type Message, Opcode, Rcode, type ResourceRecord, RRClass, RRType } from "../../lib/proto/types.ts";
import type { Exchange } from "../../lib/upstream/udp_exchange.ts";
import mappings from "../../mappings.ts";
import { hex, toHex } from "../_hex.ts";

/** A query as a client sends it; fields override the defaults. */
function query(fields: Partial<Message> & { name?: string; type?: number } = {}): Message {
  const { name = "example.com", type = RRType.A, ...rest } = fields;
  return baseQuery({ name, type }, { id: 0xabcd, ...rest });
}

const edns = (udpPayloadSize: number) => ({
  udpPayloadSize,
  version: 0,
  dnssecOk: false,
  flags: 0,
  options: [],
});

/** The header fields of a response read straight from its octets, plus its sections when it decodes. */
interface Summary {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  counts: [number, number, number, number];
  questions: string[];
  answers: string[];
  edns: number | null;
}

function summarize(bytes: Uint8Array): Summary {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  const message = decodeMessage(bytes);
  return {
    id: view.getUint16(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: message.rcode, // the full rcode: with EDNS, the upper bits come from the OPT record
    counts: [view.getUint16(4), view.getUint16(6), view.getUint16(8), view.getUint16(10)],
    questions: message.questions.map((q) => `${q.name} ${q.type} ${q.class}`),
    answers: message.answers.map((r) =>
      `${r.name} ${r.ttl} ${r.data.type} ${r.data.type === "A" ? r.data.address : "..."}`
    ),
    edns: message.edns?.udpPayloadSize ?? null,
  };
}

/** Keeps only the keys `expected` names, so each row asserts what it is about. */
function pick(actual: Summary, expected: Partial<Summary>): Partial<Summary> {
  return Object.fromEntries(Object.keys(expected).map((key) => [key, actual[key as keyof Summary]]));
}

/** A stage that answers every request with `fields`. */
function answering(fields: Partial<Message>): Stage {
  return (request) => Promise.resolve(reply(request.message, fields));
}

/** A stage that fails with `error`. */
function throwing(error: Error): Stage {
  return () => Promise.reject(error);
}

/** `count` A records for `name`: 16 octets each once the owner compresses to a pointer. */
function manyA(name: string, count: number): ResourceRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    name,
    class: RRClass.IN,
    ttl: 60,
    data: { type: "A" as const, address: `192.0.2.${i + 1}` },
  }));
}

/** An RRSIG over `owner`'s A RRset with a 100-octet signature: 130 octets or so on the wire. */
function signature(owner: string): ResourceRecord {
  return {
    name: owner,
    class: RRClass.IN,
    ttl: 60,
    data: {
      type: "RRSIG",
      typeCovered: RRType.A,
      algorithm: 13,
      labels: 2,
      originalTtl: 60,
      expiration: 0,
      inception: 0,
      keyTag: 1,
      signerName: "example",
      signature: new Uint8Array(100),
    },
  };
}

/**
 * An upstream's answer for unknown.example: five A records, the zone's NS in authority, and
 * `glue` addresses of the NS host in additional (which forwarding keeps: they are an NS target's).
 */
function delegated(glue: number): Partial<Message> {
  return {
    answers: manyA("unknown.example", 5),
    authorities: [{ name: "example", class: RRClass.IN, ttl: 60, data: { type: "NS", host: "ns.example" } }],
    additionals: manyA("ns.example", glue),
  };
}

/** The stages dnsd runs, with the upstream replaced by `exchange`. */
function dnsdStages(exchange: Exchange): Stage[] {
  const localData = fixedData({ mappings: mappingRecords(mappings) });
  return [
    authoritative(localData),
    requireRecursion(),
    forward([{ name: "stub", exchange }], { timeoutMs: 1000, nextId: () => 0x1111 }),
  ];
}

const unexpected = new TypeError("a bug in a stage");

/** A TSIG record (its RDATA left opaque): only its type and place matter to respond(). */
const TSIG_RECORD: ResourceRecord = {
  name: "key.example",
  class: RRClass.ANY,
  ttl: 0,
  data: { type: "unknown", code: 250, bytes: new Uint8Array(16) },
};

interface Case {
  readonly name: string;
  readonly query: Uint8Array;
  /** The chain under test; the default is dnsd's own stages. */
  readonly stages?: (exchange: Exchange) => Stage[];
  /** The stub upstream; the default fails the test if it is ever called. */
  readonly exchange?: Exchange;
  /** null: no reply at all; a Uint8Array: exactly these octets; else the named fields. */
  readonly expected: Partial<Summary> | Uint8Array | null;
  readonly exchanges?: number;
  readonly reports?: readonly unknown[];
}

const cases: readonly Case[] = [
  { name: "stays silent for an empty datagram", query: hex``, expected: null },
  { name: "stays silent for 5 octets", query: hex`abcd 0100 00`, expected: null },
  { name: "stays silent for 11 octets", query: hex`abcd 0100 0001 0000 0000 00`, expected: null },
  {
    name: "stays silent for a response (QR=1)",
    query: encodeMessage({ ...query(), response: true }),
    expected: null,
  },
  {
    name: "stays silent for a header-only response with a broken body",
    query: hex`abcd 8180 0001 0000 0000 0000 07 6578`,
    expected: null,
  },
  {
    name: "answers FORMERR with the same ID, QR=1 and RD copied to an undecodable body",
    query: hex`
      beef 0100 0001 0000 0000 0000   # id=0xbeef RD qd=1
      07 6578616d70                   # a label cut short
    `,
    expected: hex`beef 8181 0000 0000 0000 0000 # QR RD RA FORMERR, no sections`,
  },
  {
    name: "answers NOTIMP, header only, to an unknown opcode before reading its body",
    query: hex`
      0102 1000 0001 0000 0000 0000   # id=0x0102 opcode=2 RD=0 qd=1
      c00c 0001 0001                  # a pointer to itself
    `,
    expected: hex`0102 9004 0000 0000 0000 0000 # QR opcode=2 NOTIMP, nothing else`,
  },
  {
    // dig +opcode=15 +cd +adflag example.com: ISC's EDNS compliance test "opcode"
    name: "answers NOTIMP with every flag but QR clear and no sections to opcode 15",
    query: hex`
      2a2a 7930 0001 0000 0000 0001   # id=0x2a2a opcode=15 RD AD CD qd=1 ar=1
      07 6578616d706c65 03 636f6d 00 0001 0001
      00 0029 04d0 00 00 0000 0000    # OPT
    `,
    expected: hex`2a2a f804 0000 0000 0000 0000 # QR opcode=15 NOTIMP, no OPT`,
  },
  {
    name: "answers NOTIMP, header only, to opcode 2 (STATUS)",
    query: encodeMessage(query({ opcode: Opcode.STATUS })),
    expected: hex`abcd 9004 0000 0000 0000 0000 # QR opcode=2 NOTIMP: RD not copied, RA clear`,
  },
  {
    name: "answers FORMERR to trailing bytes after the question",
    query: hex`
      0303 0100 0001 0000 0000 0000
      07 6578616d706c65 03 636f6d 00 0001 0001
      ff                              # one octet too many
    `,
    expected: hex`0303 8181 0000 0000 0000 0000`,
  },
  ...[Opcode.NOTIFY, Opcode.UPDATE].map((opcode): Case => ({
    name: `answers NOTIMP to opcode ${opcode}`,
    query: encodeMessage(query({ opcode })),
    expected: {
      id: 0xabcd,
      qr: true,
      opcode,
      rcode: Rcode.NOTIMP,
      questions: ["example.com 1 1"],
      answers: [],
    },
  })),
  {
    // RFC 6891 section 6.1.3: BADVERS (16) is an extended rcode, so it rides in our OPT (version 0)
    name: "answers BADVERS to EDNS version 1, without asking upstream",
    query: encodeMessage(query({ name: "unknown.example", edns: { ...edns(1232), version: 1 } })),
    expected: { id: 0xabcd, qr: true, rcode: Rcode.BADVERS, counts: [1, 0, 0, 1], answers: [], edns: 1232 },
  },
  {
    name: "answers FORMERR to QDCOUNT 0",
    query: encodeMessage(query({ questions: [] })),
    expected: { id: 0xabcd, qr: true, rcode: Rcode.FORMERR, counts: [0, 0, 0, 0] },
  },
  {
    name: "answers FORMERR to QDCOUNT 2",
    query: encodeMessage(query({
      questions: [
        { name: "example.com", type: RRType.A, class: RRClass.IN },
        { name: "test.com", type: RRType.A, class: RRClass.IN },
      ],
    })),
    expected: { id: 0xabcd, qr: true, rcode: Rcode.FORMERR, answers: [] },
  },
  {
    name: "answers a mapped name authoritatively with its A record",
    query: encodeMessage(query()),
    expected: {
      id: 0xabcd,
      qr: true,
      opcode: 0,
      aa: true,
      tc: false,
      rd: true,
      ra: true,
      rcode: Rcode.NOERROR,
      counts: [1, 1, 0, 0],
      questions: ["example.com 1 1"],
      answers: ["example.com 300 A 8.8.8.8"],
    },
  },
  {
    name: "answers a mapped name the same way with RD=0",
    query: encodeMessage(query({ name: "random.org", recursionDesired: false })),
    expected: { aa: true, rd: false, rcode: Rcode.NOERROR, answers: ["random.org 300 A 1.0.0.1"] },
  },
  {
    name: "matches a mapped name without case and keeps the case asked",
    query: encodeMessage(query({ name: "HeLLoWorlD.CoM" })),
    expected: {
      aa: true,
      questions: ["HeLLoWorlD.CoM 1 1"],
      answers: ["HeLLoWorlD.CoM 300 A 1.1.1.1"],
    },
  },
  {
    name: "answers NODATA for another type of a mapped name",
    query: encodeMessage(query({ name: "test.com", type: RRType.AAAA })),
    expected: { aa: true, rcode: Rcode.NOERROR, counts: [1, 0, 0, 0], answers: [] },
  },
  {
    name: "answers REFUSED to RD=0 for a name it does not hold, without asking upstream",
    query: encodeMessage(query({ name: "unknown.example", recursionDesired: false })),
    expected: { aa: false, ra: true, rcode: Rcode.REFUSED, counts: [1, 0, 0, 0] },
    exchanges: 0,
  },
  ...[RRType.AXFR, RRType.IXFR].map((type): Case => ({
    name: `answers REFUSED to a zone transfer (type ${type}), local or not, without asking upstream`,
    query: encodeMessage(query({ name: type === RRType.AXFR ? "example.com" : "unknown.example", type })),
    expected: { aa: false, rcode: Rcode.REFUSED, counts: [1, 0, 0, 0], answers: [] },
    exchanges: 0,
  })),
  {
    name: "forwards RD=1 for a name it does not hold",
    query: encodeMessage(query({ name: "unknown.example" })),
    exchange: (bytes) => {
      const upstream = decodeMessage(bytes);
      return Promise.resolve(encodeMessage(reply(upstream, { answers: manyA("unknown.example", 1) })));
    },
    expected: { id: 0xabcd, aa: false, rcode: Rcode.NOERROR, answers: ["unknown.example 60 A 192.0.2.1"] },
    exchanges: 1,
  },
  {
    name: "answers SERVFAIL and reports an unexpected error once",
    query: encodeMessage(query()),
    stages: () => [throwing(unexpected)],
    expected: { id: 0xabcd, qr: true, rcode: Rcode.SERVFAIL, counts: [1, 0, 0, 0] },
    reports: [unexpected],
  },
  {
    name: "answers SERVFAIL without a report when the upstream times out",
    query: encodeMessage(query({ name: "unknown.example" })),
    exchange: () => Promise.reject(new UpstreamTimeout("no reply")),
    expected: { rcode: Rcode.SERVFAIL, questions: ["unknown.example 1 1"], answers: [] },
    exchanges: 1,
    reports: [],
  },
  {
    name: "answers SERVFAIL without a report when the upstream fails",
    query: encodeMessage(query({ name: "unknown.example" })),
    exchange: () => Promise.reject(new UpstreamError("connection refused")),
    expected: { rcode: Rcode.SERVFAIL },
    exchanges: 1,
    reports: [],
  },
  {
    // 12 header + 17 question + 40 * 16 answers = 669 octets, over the 512 of RFC 1035 section 4.2.1
    name: "truncates an answer over 512 octets without EDNS to TC=1 and the question alone",
    query: encodeMessage(query({ name: "big.example" })),
    stages: () => [answering({ answers: manyA("big.example", 40) })],
    expected: {
      tc: true,
      rcode: Rcode.NOERROR,
      counts: [1, 0, 0, 0],
      questions: ["big.example 1 1"],
      answers: [],
      edns: null,
    },
  },
  {
    name: "sends the same answer whole to an EDNS client with 1232 octets",
    query: encodeMessage(query({ name: "big.example", edns: edns(1232) })),
    stages: () => [answering({ answers: manyA("big.example", 40) })],
    expected: { tc: false, counts: [1, 40, 0, 1], edns: 1232 },
  },
  {
    // 12 + 17 + 80 * 16 + 11 (OPT) = 1320 octets: over our 1232 even though the client offers 4096
    name: "truncates to its own 1232 octets when the client offers more",
    query: encodeMessage(query({ name: "big.example", edns: edns(4096) })),
    stages: () => [answering({ answers: manyA("big.example", 80) })],
    expected: { tc: true, counts: [1, 0, 0, 1], answers: [], edns: 1232 },
  },
  {
    // 12 + 17 + 5 * 16 + 20 A (about 330) = about 440 octets, and two 130-octet RRSIGs on top
    name: "drops additional RRSIGs that do not fit, without TC (RFC 4035 section 3.1.1)",
    query: encodeMessage(query({ name: "big.example" })),
    stages: () => [
      answering({
        authoritative: true,
        answers: manyA("big.example", 5),
        additionals: [...manyA("ns.example", 20), signature("ns.example"), signature("ns.example")],
      }),
    ],
    expected: { tc: false, counts: [1, 5, 0, 20] },
  },
  {
    name: "drops additional records that do not fit from an answer, without TC",
    query: encodeMessage(query({ name: "big.example" })),
    stages: () => [
      answering({
        authoritative: true,
        answers: manyA("big.example", 5),
        additionals: manyA("ns.example", 40),
      }),
    ],
    expected: { tc: false, counts: [1, 5, 0, 0] },
  },
  {
    name: "truncates a referral whose glue does not fit (RFC 9471)",
    query: encodeMessage(query({ name: "big.example" })),
    stages: () => [
      answering({
        authorities: [{
          name: "big.example",
          class: RRClass.IN,
          ttl: 60,
          data: { type: "NS", host: "ns.example" },
        }],
        additionals: manyA("ns.example", 40),
      }),
    ],
    expected: { tc: true, counts: [1, 0, 0, 0] },
  },
  {
    // Forwarded, so kept as the upstream's bytes: 12 + 17 + 5 * 16 + the NS and 40 glue A records
    // (about 680) is over 512, and 12 + 17 + 5 * 16 + the NS alone is not.
    name: "drops forwarded additional records that do not fit, without TC",
    query: encodeMessage(query({ name: "unknown.example" })),
    exchange: (bytes) => Promise.resolve(encodeMessage(reply(decodeMessage(bytes), delegated(40)))),
    expected: { tc: false, counts: [1, 5, 1, 0] },
    exchanges: 1,
  },
  {
    // The same answer with 80 records: no part of the answer section fits, so TC=1 and the question.
    name: "truncates a forwarded answer that does not fit to TC=1 and the question alone",
    query: encodeMessage(query({ name: "unknown.example" })),
    exchange: (bytes) =>
      Promise.resolve(
        encodeMessage(
          reply(decodeMessage(bytes), { ...delegated(40), answers: manyA("unknown.example", 80) }),
        ),
      ),
    expected: { tc: true, counts: [1, 0, 0, 0], questions: ["unknown.example 1 1"] },
    exchanges: 1,
  },
  {
    name: "treats an EDNS size under 512 as 512",
    query: encodeMessage(query({ name: "big.example", edns: edns(100) })),
    stages: () => [answering({ answers: manyA("big.example", 20) })],
    expected: { tc: false, counts: [1, 20, 0, 1] },
  },
  ...[0, RRClass.NONE].map((rrClass): Case => ({
    name: `refuses QCLASS ${rrClass} without asking an upstream (RFC 6895 section 3.2)`,
    query: encodeMessage(
      baseQuery({ name: "unknown.example", type: RRType.A, class: rrClass }, { id: 0xabcd }),
    ),
    expected: { rcode: Rcode.REFUSED, id: 0xabcd },
  })),
  ...(["answers", "authorities"] as const).map((section): Case => ({
    name: `answers FORMERR to a TSIG record in the ${section} section (RFC 8945 section 5.1)`,
    query: encodeMessage(query({ [section]: [TSIG_RECORD] })),
    expected: { rcode: Rcode.FORMERR, id: 0xabcd },
  })),
];

for (const c of cases) {
  test(`respond() ${c.name}`, async () => {
    let exchanges = 0;
    const exchange: Exchange = (bytes, signal) => {
      exchanges++;
      if (!c.exchange) throw new Error("the upstream must not be asked");
      return c.exchange(bytes, signal);
    };
    const reports: unknown[] = [];
    const stages = (c.stages ?? dnsdStages)(exchange);
    const response = await respond(c.query, contextOf(), {
      resolve: chain(stages),
      report: (error) => reports.push(error),
    });

    if (c.expected === null) equal(response, null);
    else if (c.expected instanceof Uint8Array) equal(toHex(response!), toHex(c.expected));
    else deepEqual(pick(summarize(response!), c.expected), c.expected);
    if (c.exchanges !== undefined) equal(exchanges, c.exchanges);
    deepEqual(reports, c.reports ?? []);
  });
}

test("respond() keeps as many whole additional RRsets as fit, in order, without TC (as NSD fills it)", async () => {
  // 40 names with an A and an AAAA each: 80 RRsets, far over 512 octets beside the 5 answers.
  const targets = Array.from({ length: 40 }, (_, i) => `mail${i}.example`);
  const additionals: ResourceRecord[] = targets.flatMap((name, i) => [
    { name, class: RRClass.IN, ttl: 60, data: { type: "A" as const, address: `192.0.2.${i + 1}` } },
    { name, class: RRClass.IN, ttl: 60, data: { type: "AAAA" as const, address: `2001:db8::${i + 1}` } },
  ]);
  const request = query({ name: "big.example" });
  const response = await respond(encodeMessage(request), contextOf(), {
    resolve: chain([answering({ authoritative: true, answers: manyA("big.example", 5), additionals })]),
    report: () => {},
  });
  const got = decodeMessage(response!);
  const kept = got.additionals.length;
  equal(got.truncated, false);
  equal(got.answers.length, 5);
  ok(kept > 0 && kept < additionals.length, `kept ${kept}`);
  ok(response!.length <= 512, `${response!.length} octets`);
  // The records kept are the first ones, and one more RRset would not have fit.
  deepEqual(got.additionals.map((r) => r.name), additionals.slice(0, kept).map((r) => r.name));
  const more = encodeMessage(reply(request, {
    authoritative: true,
    answers: manyA("big.example", 5),
    additionals: additionals.slice(0, kept + 1),
  }));
  ok(more.length > 512, `one more RRset fits too: ${more.length} octets`);
});

test("respond() writes a mapped answer's owner as a pointer to the question", async () => {
  const response = await respond(encodeMessage(query({ id: 0x0001 })), contextOf(), {
    resolve: chain(dnsdStages(() => {
      throw new Error("the upstream must not be asked");
    })),
    report: () => {},
  });
  equal(
    toHex(response!),
    toHex(hex`
      0001 8580 0001 0001 0000 0000          # id=1 QR AA RD RA NOERROR qd=1 an=1
      07 6578616d706c65 03 636f6d 00 0001 0001 # example.com A IN
      c00c 0001 0001 0000012c 0004 08080808  # -> question, A IN, TTL 300, 8.8.8.8
    `),
  );
});

test("mappingRecords() returns one A or AAAA record per entry", () => {
  deepEqual(mappingRecords({ "nas.lan": "192.168.1.5", "v6.lan": "2001:DB8:0:0::1" }), [
    { name: "nas.lan", class: RRClass.IN, ttl: 300, data: { type: "A", address: "192.168.1.5" } },
    { name: "v6.lan", class: RRClass.IN, ttl: 300, data: { type: "AAAA", address: "2001:db8::1" } },
  ]);
});

test("mappingRecords() rejects bad entries with a message naming the entry", async (t) => {
  const bad = [
    {
      name: "an octet over 255",
      table: { "ok.lan": "10.0.0.1", nas: "999.1.1.1" },
      message: 'Cannot load mapping "nas": "999.1.1.1" is not an IPv4 or IPv6 address',
    },
    {
      name: "a name, not an address",
      table: { router: "router.lan" },
      message: 'Cannot load mapping "router": "router.lan" is not an IPv4 or IPv6 address',
    },
    {
      name: "an empty label",
      table: { "a..b": "10.0.0.1" },
      message: /^Cannot load mapping "a\.\.b": .*empty label/,
    },
    {
      name: "a label over 63 octets",
      table: { [`${"x".repeat(64)}.lan`]: "10.0.0.1" },
      message: /^Cannot load mapping "x{64}\.lan": .*label over 63 octets/,
    },
  ];
  for (const { name, table, message } of bad) {
    await t.step(name, () => {
      throws(() => mappingRecords(table), (error) => {
        equal(error instanceof DataError, true);
        if (typeof message === "string") equal((error as Error).message, message);
        else equal(message.test((error as Error).message), true, (error as Error).message);
        return true;
      });
    });
  }
});
