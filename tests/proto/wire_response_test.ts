/**
 * Upstream answers kept as bytes: the walk that checks them (or hands them to the decoder), and the
 * responses patched from them, which must say what decoding and encoding them again would.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { ByteArena } from "../../lib/proto/arena.ts";
import { agedResponse, AnswerCache } from "../../lib/cache/cache.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { type Message, Rcode, type ResourceRecord, RRClass } from "../../lib/proto/types.ts";
import { scanAnswer } from "../../lib/proto/wire_answer.ts";
import { type Aging, servedTtl, WireResponse } from "../../lib/proto/wire_response.ts";
import { parseHex } from "../_hex.ts";

/** Octets from hex parts (joined with spaces; `#` comments allowed). */
const octets = (...parts: string[]) => parseHex(parts.join("\n"));

const A = (name: string, address: string, ttl = 300): ResourceRecord => ({
  name,
  class: RRClass.IN,
  ttl,
  data: { type: "A", address },
});
const soa: ResourceRecord = {
  name: "example.net",
  class: RRClass.IN,
  ttl: 3600,
  data: {
    type: "SOA",
    mname: "ns.example.net",
    rname: "hostmaster.example.net",
    serial: 1,
    refresh: 7200,
    retry: 900,
    expire: 604800,
    minimum: 60,
  },
};
const cname: ResourceRecord = {
  name: "www.example.net",
  class: RRClass.IN,
  ttl: 120,
  data: { type: "CNAME", target: "web.example.net" },
};
const edns = (dnssecOk: boolean, udpPayloadSize = 4096) => ({
  udpPayloadSize,
  version: 0,
  dnssecOk,
  flags: 0,
  options: [],
});

/** An upstream's reply to a query for `name` (www.example.net), encoded as a server would. */
function upstreamReply(fields: Partial<Message>, name = "www.example.net"): Uint8Array {
  return encodeMessage({
    ...query({ name }, { id: 0x4242 }),
    response: true,
    recursionAvailable: true,
    ...fields,
  });
}

/** What decoding and encoding made of it: the decoded reply as `reply(request)`, with TTLs served. */
function expected(request: Message, upstream: Uint8Array, aging: Aging | null): Message {
  const decoded = decodeMessage(upstream);
  const served = (records: readonly ResourceRecord[], raise: boolean) =>
    records.map((record) => ({ ...record, ttl: aging ? servedTtl(record.ttl, aging, raise) : record.ttl }));
  return reply(request, {
    rcode: decoded.rcode,
    answers: served(decoded.answers, true),
    authorities: served(decoded.authorities, true),
    additionals: served(decoded.additionals, false),
  });
}

test("a response patched from a kept reply says what decoding and encoding it would", async (t) => {
  const replies: [string, Partial<Message>][] = [
    ["an address", { answers: [A("www.example.net", "192.0.2.1")] }],
    ["a CNAME chain, the zone's NS and its glue", {
      answers: [cname, A("web.example.net", "192.0.2.2", 30)],
      authorities: [{
        name: "example.net",
        class: RRClass.IN,
        ttl: 3600,
        data: { type: "NS", host: "ns.example.net" },
      }],
      additionals: [A("ns.example.net", "192.0.2.53", 86400)],
    }],
    ["NXDOMAIN with a SOA", { rcode: Rcode.NXDOMAIN, authorities: [soa] }],
    ["NODATA with a SOA, and the upstream's OPT", {
      authorities: [soa],
      edns: { ...edns(true), options: [{ code: 10, data: new Uint8Array(8) }] },
    }],
  ];
  const requests: [string, Message][] = [
    ["plain", query({ name: "www.example.net" }, { id: 0x1111 })],
    ["mixed case, CD, RD=1", query({ name: "WwW.eXample.NET" }, { id: 0x2222, checkingDisabled: true })],
    ["EDNS with DO", query({ name: "www.example.net" }, { id: 0x3333, edns: edns(true, 1232) })],
    [
      "EDNS without DO, RD=0",
      query({ name: "www.Example.net" }, { id: 0x4444, recursionDesired: false, edns: edns(false) }),
    ],
  ];
  const agings: [string, Aging | null][] = [
    ["as it came", null],
    ["aged 10 s of a 60 s entry", { entryTtl: 60, elapsed: 10 }],
    ["aged past its TTL", { entryTtl: 20, elapsed: 45 }],
    ["stale", { entryTtl: 60, elapsed: 100, staleTtl: 30 }],
  ];
  for (const [replyName, fields] of replies) {
    for (const [requestName, request] of requests) {
      // The upstream echoes the question as it was sent: the client's.
      const upstream = upstreamReply(fields, request.questions[0]!.name);
      const scanned = scanAnswer(upstream);
      ok(scanned, `${replyName}: the walk takes it`);
      for (const [agingName, aging] of agings) {
        await t.step(`${replyName}; ${requestName}; ${agingName}`, () => {
          const response = new WireResponse(request, scanned, false, aging);
          const bytes = response.encode(65_535, new ByteArena());
          ok(bytes);
          const want = expected(request, upstream, aging);
          deepEqual(decodeMessage(bytes), want);
          // The sections read as a Message agree with the bytes, and so does its plain form.
          deepEqual(response.answers, want.answers);
          deepEqual(response.additionals, want.additionals);
          deepEqual(response.toJSON(), want);
        });
      }
    }
  }
});

test("a kept reply's owners get the client's case back after 0x20, pointers and spelled-out names alike", () => {
  // The query went out as "wWw.ExAmPlE.nEt"; the reply spells the answer's owner out (no pointer).
  const upstream = octets(
    "4242 8180 0001 0001 0000 0000",
    "03 775777 07 4578416d506c45 03 6e4574 00 0001 0001 # wWw.ExAmPlE.nEt A IN",
    "03 775777 07 4578416d506c45 03 6e4574 00 0001 0001 0000012c 0004 c0000201", // the same, spelled out
  );
  const scanned = scanAnswer(upstream);
  ok(scanned);
  deepEqual(scanned.questionOwners, [33]);
  const request = query({ name: "www.Example.net" }, { id: 7 });
  const restored = decodeMessage(new WireResponse(request, scanned, true, null).encode(512)!);
  equal(restored.questions[0]!.name, "www.Example.net");
  equal(restored.answers[0]!.name, "www.Example.net");
  // Without 0x20 the upstream's spelling of a record stays as it came.
  const kept = decodeMessage(new WireResponse(request, scanned, false, null).encode(512)!);
  equal(kept.answers[0]!.name, "wWw.ExAmPlE.nEt");
});

test("a kept reply served to another client takes its ID, flags and case", () => {
  const scanned = scanAnswer(upstreamReply({ rcode: Rcode.NXDOMAIN, authorities: [soa] }));
  ok(scanned);
  const first = new WireResponse(query({ name: "www.example.net" }, { id: 1 }), scanned, false, null);
  const other = query({ name: "WWW.EXAMPLE.NET" }, { id: 2, edns: edns(true) });
  const served = decodeMessage(first.forRequest(other).encode(1232)!);
  equal(served.id, 2);
  equal(served.questions[0]!.name, "WWW.EXAMPLE.NET");
  // The SOA's owner points into the question: it reads in this client's case now.
  equal(served.authorities[0]!.name, "EXAMPLE.NET");
  deepEqual(served.edns, { udpPayloadSize: 1232, version: 0, dnssecOk: true, flags: 0, options: [] });
});

test("the cache stores a kept reply and serves it aged and clamped", () => {
  const cache = new AnswerCache({ maxEntries: 10, minTtl: 0, maxTtl: 60, servfailTtl: 5, staleMax: 0 });
  const request = query({ name: "www.example.net" }, { id: 9 });
  const scanned = scanAnswer(upstreamReply({ answers: [A("www.example.net", "192.0.2.1", 300)] }));
  ok(scanned);
  const entry = cache.putAnswer(
    "www.example.net|1|1|00",
    new WireResponse(request, scanned, false, null),
    1000,
  );
  ok(entry);
  equal(entry.ttl, 60, "clamped by maxTtl");
  const aged = agedResponse(entry, 1000 + 10_500);
  const served = decodeMessage(WireResponse.of(aged)!.encode(512)!);
  deepEqual(served.answers.map((record) => record.ttl), [50]);
});

test("scanAnswer() finds the cache TTL as RFC 2308 has it", async (t) => {
  const cases: [string, Partial<Message>, number | null][] = [
    ["positive: the least answer or authority TTL", {
      answers: [cname, A("web.example.net", "192.0.2.2", 30)],
    }, 30],
    ["NXDOMAIN: min(SOA TTL, MINIMUM)", { rcode: Rcode.NXDOMAIN, authorities: [soa] }, 60],
    ["NODATA without a SOA: not cached", { answers: [] }, null],
    ["SERVFAIL: not cached", { rcode: Rcode.SERVFAIL }, null],
    ["truncated: not cached", { truncated: true, answers: [A("www.example.net", "192.0.2.1")] }, null],
  ];
  for (const [name, fields, ttl] of cases) {
    await t.step(name, () => equal(scanAnswer(upstreamReply(fields))?.ttl, ttl));
  }
});

test("scanAnswer() hands the decoder what it does not fully check", async (t) => {
  const good = upstreamReply({ answers: [A("www.example.net", "192.0.2.1")] });
  notEqual(scanAnswer(good), null);
  const cases: [string, Uint8Array][] = [
    [
      "an A record of 5 octets",
      octets(
        "4242 8180 0001 0001 0000 0000 03777777 076578616d706c65 036e6574 00 0001 0001",
        "c00c 0001 0001 0000012c 0005 c000020100",
      ),
    ],
    ["trailing octets", Uint8Array.from([...good, 0])],
    [
      "a pointer into the header",
      octets(
        "4242 8180 0001 0001 0000 0000 03777777 076578616d706c65 036e6574 00 0001 0001",
        "c004 0001 0001 0000012c 0004 c0000201",
      ),
    ],
    [
      "a pointer forwards",
      octets(
        "4242 8180 0001 0001 0000 0000 03777777 076578616d706c65 036e6574 00 0001 0001",
        "c040 0001 0001 0000012c 0004 c0000201",
      ),
    ],
    [
      "a type it does not check (SRV)",
      upstreamReply({
        answers: [{
          name: "www.example.net",
          class: 1,
          ttl: 60,
          data: { type: "SRV", priority: 0, weight: 0, port: 53, target: "ns.example.net" },
        }],
      }),
    ],
    ["an extended RCODE", upstreamReply({ rcode: Rcode.BADVERS, edns: edns(false) })],
    [
      "a record after the OPT",
      octets(
        "4242 8180 0001 0000 0000 0002 03777777 076578616d706c65 036e6574 00 0001 0001",
        "00 0029 1000 00000000 0000",
        "c00c 0001 0001 0000012c 0004 c0000201",
      ),
    ],
    ["a count beyond the records", Uint8Array.from([...good.subarray(0, 7), 2, ...good.subarray(8)])],
  ];
  for (const [name, bytes] of cases) await t.step(name, () => equal(scanAnswer(bytes), null));
});

test("a kept reply over the client's limit is left to the truncating encoder", () => {
  const many = Array.from({ length: 40 }, (_, i) => A("www.example.net", `192.0.2.${i}`));
  const scanned = scanAnswer(upstreamReply({ answers: many }));
  ok(scanned);
  const request = query({ name: "www.example.net" });
  equal(new WireResponse(request, scanned, false, null).encode(512), null);
  ok(new WireResponse(request, scanned, false, null).encode(1232));
  // And a question it cannot spell back as asked (an escape) too.
  const escaped = query({ name: "www\\.x.example.net" });
  equal(new WireResponse(escaped, scanned, false, null).encode(65_535), null);
});
