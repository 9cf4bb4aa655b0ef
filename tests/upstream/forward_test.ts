/**
 * The forwarding stage with fake {@link Exchange} functions, and udpExchange() with a fake
 * {@link Datagram}: no sockets, no sleeps.
 * @module
 */
import { requestOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { deepEqual, equal, notEqual, ok, rejects } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { createForwardCounters, forward, type UpstreamExchange } from "../../lib/upstream/forward.ts";
import { query as baseQuery } from "../../lib/proto/message.ts";
import { refuse } from "../../lib/resolve/resolver.ts";
import { type Message, Rcode, type ResourceRecord, RRClass, RRType } from "../../lib/proto/types.ts";
import {
  type Datagram,
  type DropReason,
  type Exchange,
  udpExchange,
} from "../../lib/upstream/udp_exchange.ts";
import { hex, toHex } from "../_hex.ts";

/** A recursive query for `name` with ID 0xabcd; fields override the defaults. */
function query(name: string, fields: Partial<Message> = {}): Message {
  return baseQuery({ name }, { id: 0xabcd, ...fields });
}

function record(name: string, data: ResourceRecord["data"], ttl = 60): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data };
}

const soa = record("example.net", {
  type: "SOA",
  mname: "ns.example.net",
  rname: "hostmaster.example.net",
  serial: 1,
  refresh: 3600,
  retry: 900,
  expire: 604800,
  minimum: 60,
});

/** An upstream reply to the query octets `bytes`, with the question lowercased (as some servers do). */
function replyTo(bytes: Uint8Array, fields: Partial<Message> = {}): Uint8Array {
  const sent = decodeMessage(bytes);
  const questions = sent.questions.map((q) => ({ ...q, name: q.name.toLowerCase() }));
  return encodeMessage({ ...sent, response: true, recursionAvailable: true, questions, ...fields });
}

/** An exchange that records what it was sent and answers with `answer(query)`. */
function recording(answer: Exchange) {
  const sent: Uint8Array[] = [];
  const exchange: Exchange = (bytes, signal) => {
    sent.push(bytes);
    return answer(bytes, signal);
  };
  return { sent, exchange };
}

/** An exchange that never answers: it rejects with UpstreamTimeout once its signal aborts. */
const silent: Exchange = (_query, signal) =>
  new Promise((_resolve, reject) => {
    signal.addEventListener("abort", () => reject(new UpstreamTimeout("no reply")), { once: true });
  });

function upstreams(...exchanges: Exchange[]): UpstreamExchange[] {
  return exchanges.map((exchange, i) => ({ name: `upstream${i + 1}`, exchange }));
}

test("forward() sends a fresh ID from nextId and gives the client's ID back", async () => {
  const upstream = recording((bytes) =>
    Promise.resolve(
      replyTo(bytes, { answers: [record("www.example.net", { type: "A", address: "192.0.2.1" })] }),
    )
  );
  const ids = [0x1234];
  const stage = forward(upstreams(upstream.exchange), { timeoutMs: 1000, nextId: () => ids.shift()! });

  const response = await stage(requestOf(query("WwW.ExAmPlE.NeT")), refuse);

  equal(upstream.sent.length, 1);
  const sent = decodeMessage(upstream.sent[0]!);
  equal(sent.id, 0x1234);
  notEqual(sent.id, 0xabcd);
  equal(sent.recursionDesired, true);
  deepEqual(sent.questions, [{ name: "WwW.ExAmPlE.NeT", type: RRType.A, class: RRClass.IN }]);
  equal(response.id, 0xabcd);
  equal(response.response, true);
  deepEqual(response.questions, [{ name: "WwW.ExAmPlE.NeT", type: RRType.A, class: RRClass.IN }]);
  // The owner is a pointer to the question, which is the client's again: so is its case.
  deepEqual(response.answers, [record("WwW.ExAmPlE.NeT", { type: "A", address: "192.0.2.1" })]);
});

test("forward() sends a header of its own: a client's AA, TC, RA and RCODE bits stay behind", async () => {
  const upstream = recording((bytes) => Promise.resolve(replyTo(bytes)));
  const stage = forward(upstreams(upstream.exchange), { timeoutMs: 1000, nextId: () => 7 });
  const odd = query("a.example.net", {
    authoritative: true,
    truncated: true,
    recursionAvailable: true,
    rcode: Rcode.FORMERR,
    checkingDisabled: true,
  });
  await stage(requestOf(odd), refuse);
  // QR=0, OPCODE 0, AA=0, TC=0, RD=1, RA=0, Z=0, AD=0, CD as asked, RCODE 0.
  equal(toHex(upstream.sent[0]!.subarray(2, 4)), "0110");
});

test("forward() gives the answer of a CNAME chain an upstream listed out of order, in the chain's order", async () => {
  const target = record("cdn.example.net", { type: "A", address: "192.0.2.7" });
  const cname = record("www.example.net", { type: "CNAME", target: "cdn.example.net" });
  const upstream = recording((bytes) => Promise.resolve(replyTo(bytes, { answers: [target, cname] })));
  const stage = forward(upstreams(upstream.exchange), { timeoutMs: 1000, nextId: () => 7 });
  const response = await stage(requestOf(query("www.example.net")), refuse);
  deepEqual(response.answers, [cname, target]);
});

test("forward() strips the RRSIG and NSEC records an upstream adds to a DO=0 query (RFC 4035 3.2.1)", async (t) => {
  const a = record("www.example.net", { type: "A", address: "192.0.2.1" });
  const signature = record("www.example.net", {
    type: "RRSIG",
    typeCovered: RRType.A,
    algorithm: 13,
    labels: 3,
    originalTtl: 60,
    expiration: 0,
    inception: 0,
    keyTag: 1,
    signerName: "example.net",
    signature: new Uint8Array(64),
  });
  const nsec = record("www.example.net", {
    type: "NSEC",
    nextDomainName: "z.example.net",
    types: [RRType.A],
  });
  const signed = { answers: [a, signature], authorities: [soa, nsec] };
  const edns = (dnssecOk: boolean) => ({ udpPayloadSize: 1232, version: 0, dnssecOk, flags: 0, options: [] });
  for (const dnssecOk of [false, true]) {
    await t.step(`DO=${dnssecOk ? 1 : 0}`, async () => {
      const upstream = recording((bytes) => Promise.resolve(replyTo(bytes, signed)));
      const stage = forward(upstreams(upstream.exchange), { timeoutMs: 1000, nextId: () => 7 });
      const response = await stage(requestOf(query("www.example.net", { edns: edns(dnssecOk) })), refuse);
      equal(decodeMessage(upstream.sent[0]!).edns?.dnssecOk, dnssecOk);
      const types = (records: readonly ResourceRecord[]) => records.map((r) => r.data.type);
      deepEqual(types(response.answers), dnssecOk ? ["A", "RRSIG"] : ["A"]);
      deepEqual(types(response.authorities), dnssecOk ? ["SOA", "NSEC"] : ["SOA"]);
    });
  }
});

test("forward() refuses a reply whose pointer leads to labels that run on past it (found by fuzzing)", async () => {
  // www.example.net A 17.0.2.1, and in authority NS <a pointer to the A's RDATA>: read as a name,
  // octet 17 is a label running over the NS record and on into the OPT record after it.
  const exchange: Exchange = (bytes) => {
    const question = bytes.subarray(12, bytes.length - 11); // the query's question, without its OPT
    const rdataAt = 12 + question.length + 12;
    return Promise.resolve(Uint8Array.from([
      bytes[0]!,
      bytes[1]!,
      0x81,
      0x80,
      0,
      1,
      0,
      1,
      0,
      1,
      0,
      1,
      ...question,
      ...hex`c00c 0001 0001 0000012c 0004 11000201`,
      ...hex`c00c 0002 0001 0000012c 0002`,
      0xc0 | (rdataAt >> 8),
      rdataAt & 0xff,
      ...hex`00 0029 04d0 00000000 0000`,
    ]));
  };
  const stage = forward(upstreams(exchange), { timeoutMs: 1000 });
  const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };
  await rejects(stage(requestOf(query("www.example.net", { edns })), refuse), (error) => {
    equal((error as Error).message, "Malformed reply from upstream1");
    return true;
  });
});

test("forward() takes an RCODE no query gets (NOTZONE, 12, an extended one) as the upstream failing", async (t) => {
  const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };
  for (const rcode of [Rcode.NOTZONE, 12, 4080]) {
    await t.step(`RCODE ${rcode}`, async () => {
      const broken: Exchange = (bytes) =>
        Promise.resolve(replyTo(bytes, { rcode, edns: rcode > 15 ? edns : null }));
      const stage = forward(upstreams(broken), { timeoutMs: 1000 });
      await rejects(stage(requestOf(query("a.example.net", { edns })), refuse), (error) => {
        ok(error instanceof UpstreamError, String(error));
        ok(
          /answered RCODE \d+, which no query gets/.test((error as Error).message),
          (error as Error).message,
        );
        return true;
      });
      // With a second upstream, its answer is the client's.
      const good: Exchange = (bytes) =>
        Promise.resolve(
          replyTo(bytes, { answers: [record("a.example.net", { type: "A", address: "192.0.2.3" })] }),
        );
      const both = forward(upstreams(broken, good), { timeoutMs: 1000 });
      const response = await both(requestOf(query("a.example.net", { edns })), refuse);
      deepEqual([response.rcode, response.answers.length], [Rcode.NOERROR, 1]);
    });
  }
});

test("forward() takes a new ID from nextId for every query", async () => {
  const upstream = recording((bytes) => Promise.resolve(replyTo(bytes)));
  let next = 100;
  const stage = forward(upstreams(upstream.exchange), { timeoutMs: 1000, nextId: () => next++ });
  await stage(requestOf(query("a.example.net")), refuse);
  await stage(requestOf(query("a.example.net")), refuse);
  deepEqual(upstream.sent.map((bytes) => decodeMessage(bytes).id), [100, 101]);
});

test("forward() passes the upstream's rcode and sections through", async (t) => {
  const passThrough = [
    {
      name: "NXDOMAIN with the SOA in the authority section",
      fields: { rcode: Rcode.NXDOMAIN, authorities: [soa] },
    },
    {
      name: "SERVFAIL with no sections",
      fields: { rcode: Rcode.SERVFAIL },
    },
    {
      name: "REFUSED",
      fields: { rcode: Rcode.REFUSED },
    },
    {
      name: "answer, authority and additional sections together",
      fields: {
        answers: [
          record("www.example.net", { type: "CNAME", target: "web.example.net" }),
          record("web.example.net", { type: "A", address: "192.0.2.7" }, 30),
        ],
        authorities: [record("example.net", { type: "NS", host: "ns.example.net" }, 3600)],
        additionals: [record("ns.example.net", { type: "A", address: "192.0.2.53" }, 3600)],
      },
    },
  ];
  for (const { name, fields } of passThrough) {
    await t.step(name, async () => {
      const stage = forward(upstreams((bytes) => Promise.resolve(replyTo(bytes, fields))), {
        timeoutMs: 1000,
      });
      const response = await stage(requestOf(query("www.example.net")), refuse);
      const expected = {
        rcode: Rcode.NOERROR,
        truncated: false,
        answers: [],
        authorities: [],
        additionals: [],
      };
      deepEqual(
        {
          rcode: response.rcode,
          truncated: response.truncated,
          answers: response.answers,
          authorities: response.authorities,
          additionals: response.additionals,
        },
        { ...expected, ...fields },
      );
      equal(response.id, 0xabcd);
    });
  }
});

test("forward() takes BADVERS to a query without EDNS as the upstream failing, not the client's answer", async () => {
  const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };
  // the upstream sends an OPT record (and so an extended rcode) even to a query without one
  const exchange: Exchange = (bytes) => Promise.resolve(replyTo(bytes, { rcode: Rcode.BADVERS, edns }));
  const stage = forward(upstreams(exchange), { timeoutMs: 1000 });
  // Without EDNS at once; with it, after the retry without EDNS is answered BADVERS too. The
  // client (which sent version 0, or none) gets SERVFAIL from respond(), never BADVERS.
  for (const request of [query("a.example.net"), query("a.example.net", { edns })]) {
    await rejects(stage(requestOf(request), refuse), UpstreamError);
  }
});

test("forward() tries the next upstream when one fails", async () => {
  const calls: string[] = [];
  const first: Exchange = () => {
    calls.push("first");
    return Promise.reject(new UpstreamError("connection refused"));
  };
  const second: Exchange = (bytes) => {
    calls.push("second");
    return Promise.resolve(
      replyTo(bytes, { answers: [record("a.example.net", { type: "A", address: "192.0.2.2" })] }),
    );
  };
  const counters = createForwardCounters();
  const stage = forward(upstreams(first, second), { timeoutMs: 1000, counters });

  const response = await stage(requestOf(query("a.example.net")), refuse);

  deepEqual(calls, ["first", "second"]);
  deepEqual(response.answers, [record("a.example.net", { type: "A", address: "192.0.2.2" })]);
  deepEqual(counters, {
    forwarded: 1,
    answered: 1,
    timeouts: 0,
    failures: 1,
    malformed: 0,
    tcpFallbacks: 0,
    failovers: 0,
    retries: 0,
    ednsFallbacks: 0,
    busy: 0,
  });
});

test("forward() does not try the second upstream when the first answers", async () => {
  const second = recording(() => Promise.reject(new Error("must not be called")));
  const stage = forward(upstreams((bytes) => Promise.resolve(replyTo(bytes)), second.exchange), {
    timeoutMs: 1000,
  });
  await stage(requestOf(query("a.example.net")), refuse);
  equal(second.sent.length, 0);
});

test("forward() throws UpstreamTimeout when no upstream answers in time", async () => {
  const counters = createForwardCounters();
  const stage = forward(upstreams(silent, silent), { timeoutMs: 40, counters });
  await rejects(stage(requestOf(query("a.example.net")), refuse), UpstreamTimeout);
  deepEqual(counters, {
    forwarded: 1,
    answered: 0,
    timeouts: 2,
    failures: 0,
    malformed: 0,
    tcpFallbacks: 0,
    failovers: 0,
    retries: 1, // the second upstream, asked once the first had waited its share
    ednsFallbacks: 0,
    busy: 0,
  });
});

test("forward() leaves each upstream not yet asked an equal share of the time left", async () => {
  // Three silent upstreams and 300 ms: each timeout (376 ms before any reply) is cut to its share,
  // so the tries go out about 100 ms apart. Without sharing, the first would wait 300 ms alone.
  const sentAt: number[] = [];
  const timed: Exchange = (query, signal) => {
    sentAt.push(performance.now());
    return silent(query, signal);
  };
  const counters = createForwardCounters();
  const stage = forward(upstreams(timed, timed, timed), { timeoutMs: 300, counters });
  await rejects(stage(requestOf(query("a.example.net")), refuse), UpstreamTimeout);
  equal(sentAt.length, 3);
  for (let i = 1; i < 3; i++) {
    const gap = sentAt[i]! - sentAt[i - 1]!;
    ok(gap >= 95 && gap < 200, `try ${i + 1} went ${gap.toFixed(0)} ms after the one before, not about 100`);
  }
  deepEqual([counters.retries, counters.timeouts], [2, 3]);
});

test("forward() stops trying once the deadline has passed", async () => {
  let clock = 0;
  const calls: string[] = [];
  const first: Exchange = () => {
    calls.push("first");
    clock = 1000; // this try used up all the time
    return Promise.reject(new UpstreamError("connection refused"));
  };
  const second: Exchange = () => {
    calls.push("second");
    return Promise.reject(new Error("must not be called"));
  };
  const stage = forward(upstreams(first, second), { timeoutMs: 500, now: () => clock });
  await rejects(stage(requestOf(query("a.example.net")), refuse), UpstreamError);
  deepEqual(calls, ["first"]);
});

test("forward() counts a malformed reply and fails with UpstreamError", async () => {
  const counters = createForwardCounters();
  const exchange: Exchange = (bytes) => {
    const cut = replyTo(bytes, { answers: [record("a.example.net", { type: "A", address: "192.0.2.1" })] });
    return Promise.resolve(cut.subarray(0, cut.length - 2));
  };
  const stage = forward(upstreams(exchange), { timeoutMs: 1000, counters });
  await rejects(stage(requestOf(query("a.example.net")), refuse), (error) => {
    equal(error instanceof UpstreamError, true);
    equal(error instanceof UpstreamTimeout, false);
    equal((error as Error).message, "Malformed reply from upstream1");
    return true;
  });
  deepEqual(counters, {
    forwarded: 1,
    answered: 0,
    timeouts: 0,
    failures: 0,
    malformed: 1,
    tcpFallbacks: 0,
    failovers: 0,
    retries: 0,
    ednsFallbacks: 0,
    busy: 0,
  });
});

test("forward() never passes a truncated reply on: no TCP to retry over is an UpstreamError", async () => {
  const counters = createForwardCounters();
  const stage = forward(upstreams((bytes) => Promise.resolve(replyTo(bytes, { truncated: true }))), {
    timeoutMs: 1000,
    counters,
  });
  await rejects(stage(requestOf(query("a.example.net")), refuse), (error) => {
    ok(error instanceof UpstreamError && !(error instanceof UpstreamTimeout));
    return true;
  });
  equal(counters.answered, 0);
});

test("forward() lets an unexpected error through", async () => {
  const bug = new TypeError("a bug");
  const stage = forward(upstreams(() => Promise.reject(bug)), { timeoutMs: 1000 });
  await rejects(stage(requestOf(query("a.example.net")), refuse), (error) => error === bug);
});

// udpExchange() with a fake socket.

const UPSTREAM = { hostname: "192.0.2.53", port: 53 };
const FROM_UPSTREAM: Deno.NetAddr = { transport: "udp", ...UPSTREAM };

/** A scripted Datagram: receive() hands out `inbox` in order, then waits until close(). */
function fakeSocket(inbox: [Uint8Array, Deno.NetAddr][] = [], options: { sendFails?: boolean } = {}) {
  const sent: [Uint8Array, Deno.Addr][] = [];
  let closes = 0;
  let waiting: ((error: Error) => void) | null = null;
  let receiving: () => void = () => {};
  const receives = new Promise<void>((resolve) => receiving = resolve);
  const socket: Datagram = {
    send(bytes, to) {
      if (options.sendFails) return Promise.reject(new Deno.errors.ConnectionRefused("refused"));
      sent.push([bytes, to]);
      return Promise.resolve(bytes.length);
    },
    receive() {
      if (closes > 0) return Promise.reject(new Deno.errors.BadResource("closed"));
      const next = inbox.shift();
      if (next) return Promise.resolve([new Uint8Array(next[0]), next[1]]); // a copy, as a socket gives
      receiving();
      return new Promise((_resolve, reject) => waiting = reject);
    },
    close() {
      closes++;
      if (closes > 1) throw new Deno.errors.BadResource("closed twice");
      waiting?.(new Deno.errors.BadResource("closed"));
    },
  };
  return {
    socket,
    sent,
    get closes() {
      return closes;
    },
    /** Settles once a receive() has found the inbox empty and is waiting. */
    waitingForMore: receives,
  };
}

const upstreamQuery = encodeMessage(query("www.example.net", { id: 0x1234 }));
const rightReply = replyTo(upstreamQuery, {
  answers: [record("www.example.net", { type: "A", address: "192.0.2.1" })],
});

test("udpExchange() opens no socket for an already-aborted signal", async () => {
  let opens = 0;
  const exchange = udpExchange(UPSTREAM, {
    open: () => {
      opens++;
      return fakeSocket().socket;
    },
  });
  await rejects(exchange(upstreamQuery, AbortSignal.abort()), UpstreamTimeout);
  equal(opens, 0);
});

test("udpExchange() sends the query once to the upstream and returns the matching reply", async () => {
  const fake = fakeSocket([[rightReply, FROM_UPSTREAM]]);
  const opened: unknown[] = [];
  const exchange = udpExchange(UPSTREAM, {
    open: (upstream) => {
      opened.push(upstream);
      return fake.socket;
    },
  });
  const reply = await exchange(upstreamQuery, new AbortController().signal);
  deepEqual(reply, rightReply);
  deepEqual(opened, [UPSTREAM]);
  deepEqual(fake.sent, [[upstreamQuery, { transport: "udp", hostname: "192.0.2.53", port: 53 }]]);
  equal(fake.closes, 1);
});

test("udpExchange() gives up with UpstreamTimeout and one close() when aborted while receiving", async () => {
  const fake = fakeSocket();
  const controller = new AbortController();
  const exchange = udpExchange(UPSTREAM, { open: () => fake.socket });
  const pending = exchange(upstreamQuery, controller.signal);
  await fake.waitingForMore;
  controller.abort();
  await rejects(pending, UpstreamTimeout);
  equal(fake.closes, 1);
});

test("udpExchange() fails with UpstreamError and one close() when the send fails", async () => {
  const fake = fakeSocket([], { sendFails: true });
  const exchange = udpExchange(UPSTREAM, { open: () => fake.socket });
  await rejects(exchange(upstreamQuery, new AbortController().signal), (error) => {
    equal(error instanceof UpstreamError, true);
    equal(error instanceof UpstreamTimeout, false);
    equal((error as Error).cause instanceof Deno.errors.ConnectionRefused, true);
    return true;
  });
  equal(fake.closes, 1);
});

function withId(bytes: Uint8Array, id: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(0, id);
  return copy;
}

test("udpExchange() drops datagrams that do not answer the query and keeps waiting", async (t) => {
  const strays: { name: string; datagram: [Uint8Array, Deno.NetAddr]; reason: DropReason; from: string }[] = [
    {
      name: "another source port",
      datagram: [rightReply, { ...FROM_UPSTREAM, port: 5353 }],
      reason: "wrong-source",
      from: "192.0.2.53:5353",
    },
    {
      name: "another source address",
      datagram: [rightReply, { ...FROM_UPSTREAM, hostname: "192.0.2.54" }],
      reason: "wrong-source",
      from: "192.0.2.54:53",
    },
    {
      name: "another ID",
      datagram: [withId(rightReply, 0x1235), FROM_UPSTREAM],
      reason: "wrong-id",
      from: "192.0.2.53:53",
    },
    {
      name: "another question name",
      datagram: [replyTo(encodeMessage(query("www.example.org", { id: 0x1234 }))), FROM_UPSTREAM],
      reason: "wrong-question",
      from: "192.0.2.53:53",
    },
    {
      name: "another question type",
      datagram: [
        replyTo(encodeMessage(query("www.example.net", { id: 0x1234 })), {
          questions: [{ name: "www.example.net", type: RRType.AAAA, class: RRClass.IN }],
        }),
        FROM_UPSTREAM,
      ],
      reason: "wrong-question",
      from: "192.0.2.53:53",
    },
    {
      name: "no question",
      datagram: [replyTo(upstreamQuery, { questions: [] }), FROM_UPSTREAM],
      reason: "short",
      from: "192.0.2.53:53",
    },
    {
      name: "a query, not a response (QR=0)",
      datagram: [upstreamQuery, FROM_UPSTREAM],
      reason: "not-response",
      from: "192.0.2.53:53",
    },
    {
      name: "a 5-octet datagram",
      datagram: [hex`1234 8180 00`, FROM_UPSTREAM],
      reason: "short",
      from: "192.0.2.53:53",
    },
  ];
  for (const stray of strays) {
    await t.step(stray.name, async () => {
      const fake = fakeSocket([stray.datagram, [rightReply, FROM_UPSTREAM]]);
      const drops: [DropReason, string][] = [];
      const exchange = udpExchange(UPSTREAM, {
        open: () => fake.socket,
        onDrop: (reason, from) => drops.push([reason, from]),
      });
      deepEqual(await exchange(upstreamQuery, new AbortController().signal), rightReply);
      deepEqual(drops, [[stray.reason, stray.from]]);
      equal(fake.closes, 1);
    });
  }
  await t.step("all of them before the right one", async () => {
    const fake = fakeSocket([...strays.map((s) => s.datagram), [rightReply, FROM_UPSTREAM]]);
    const drops: DropReason[] = [];
    const exchange = udpExchange(UPSTREAM, {
      open: () => fake.socket,
      onDrop: (reason) => drops.push(reason),
    });
    deepEqual(await exchange(upstreamQuery, new AbortController().signal), rightReply);
    deepEqual(drops, strays.map((s) => s.reason));
    equal(fake.closes, 1);
  });
});

test("udpExchange() takes an error reply that has no question, as NSD sends one", async (t) => {
  const errors = [["FORMERR", Rcode.FORMERR], ["SERVFAIL", Rcode.SERVFAIL], ["NOTIMP", Rcode.NOTIMP], [
    "REFUSED",
    Rcode.REFUSED,
  ]] as const;
  for (const [name, rcode] of errors) {
    await t.step(name, async () => {
      const bare = replyTo(upstreamQuery, { questions: [], rcode });
      const fake = fakeSocket([[bare, FROM_UPSTREAM], [rightReply, FROM_UPSTREAM]]);
      const exchange = udpExchange(UPSTREAM, { open: () => fake.socket });
      deepEqual(await exchange(upstreamQuery, new AbortController().signal), bare);
    });
  }
  await t.step("but not one with another ID", async () => {
    const bare = withId(replyTo(upstreamQuery, { questions: [], rcode: Rcode.REFUSED }), 0x1235);
    const fake = fakeSocket([[bare, FROM_UPSTREAM], [rightReply, FROM_UPSTREAM]]);
    const exchange = udpExchange(UPSTREAM, { open: () => fake.socket });
    deepEqual(await exchange(upstreamQuery, new AbortController().signal), rightReply);
  });
});

test("udpExchange() accepts the question in another case", async () => {
  // replyTo() lowercases the question; the query asks for "WWW.Example.NET"
  const sent = encodeMessage(query("WWW.Example.NET", { id: 0x4321 }));
  const fake = fakeSocket([[replyTo(sent), FROM_UPSTREAM]]);
  const exchange = udpExchange(UPSTREAM, { open: () => fake.socket });
  const reply = await exchange(sent, new AbortController().signal);
  equal(decodeMessage(reply).questions[0]!.name, "www.example.net");
});

test("udpExchange() matches an IPv6 upstream written another way", async () => {
  const fake = fakeSocket([[rightReply, { transport: "udp", hostname: "2001:db8:0:0:0:0:0:53", port: 53 }]]);
  const drops: DropReason[] = [];
  const exchange = udpExchange({ hostname: "2001:DB8::53", port: 53 }, {
    open: () => fake.socket,
    onDrop: (reason) => drops.push(reason),
  });
  deepEqual(await exchange(upstreamQuery, new AbortController().signal), rightReply);
  deepEqual(drops, []);
});
