/**
 * tcpExchange() against a scripted fake stream (injected `connect`) and against the fake upstream
 * over real TCP on 127.0.0.1: RFC 7766 framing, dropped mismatches, aborts and broken streams.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { query as baseQuery } from "../../lib/proto/message.ts";
import { type Stream, tcpExchange } from "../../lib/upstream/tcp_exchange.ts";
import { type Message, RRClass, RRType } from "../../lib/proto/types.ts";
import type { DropReason, Upstream } from "../../lib/upstream/udp_exchange.ts";
import { fakeTxt, startFakeUpstream } from "../_fake_upstream.ts";

const upstream: Upstream = { hostname: "192.0.2.53", port: 53 };

function query(name: string, id = 0x1234, type: number = RRType.A): Message {
  return baseQuery({ name, type }, { id });
}

/** The reply to the query octets `bytes`, with `fields` changed. */
function replyTo(bytes: Uint8Array, fields: Partial<Message> = {}): Uint8Array {
  const sent = decodeMessage(bytes);
  return encodeMessage({
    ...sent,
    response: true,
    recursionAvailable: true,
    answers: [{
      name: sent.questions[0]!.name,
      class: RRClass.IN,
      ttl: 60,
      data: { type: "A", address: "192.0.2.7" },
    }],
    ...fields,
  });
}

/** `message` with its two-octet length in front (RFC 1035 section 4.2.2). */
function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(message.length + 2);
  framed.set([message.length >> 8, message.length & 0xff]);
  framed.set(message, 2);
  return framed;
}

/** The octets of `bytes` cut at each offset in `cuts`. */
function split(bytes: Uint8Array, ...cuts: number[]): Uint8Array[] {
  return [0, ...cuts].map((start, i) => bytes.slice(start, cuts[i] ?? bytes.length));
}

/**
 * A scripted TCP stream: `script` sees the framed query as written and returns the chunks
 * read() hands out, in order (null is the end of the stream). Past the script, read() waits until
 * close(), then throws BadResource as Deno does. Writes are taken a few octets at a time.
 */
function fakeStream(script: (written: Uint8Array) => (Uint8Array | null)[]) {
  let written = new Uint8Array(0);
  let chunks: (Uint8Array | null)[] | undefined;
  let closes = 0;
  let wakeUp = () => {};
  const stream: Stream = {
    write(p) {
      const taken = p.subarray(0, 5); // short writes: the exchange must loop
      const joined = new Uint8Array(written.length + taken.length);
      joined.set(written);
      joined.set(taken, written.length);
      written = joined;
      return Promise.resolve(taken.length);
    },
    async read(p) {
      if (closes > 0) throw new Deno.errors.BadResource("closed");
      chunks ??= script(written);
      if (chunks.length === 0) {
        await new Promise<void>((resolve) => (wakeUp = resolve));
        throw new Deno.errors.BadResource("closed");
      }
      const chunk = chunks.shift()!;
      if (chunk === null) return null;
      if (chunk.length > p.length) chunks.unshift(chunk.subarray(p.length));
      p.set(chunk.subarray(0, p.length));
      return Math.min(chunk.length, p.length);
    },
    close() {
      if (closes++ > 0) throw new Deno.errors.BadResource("closed twice");
      wakeUp();
    },
  };
  return {
    stream,
    written: () => written,
    closes: () => closes,
  };
}

/** Connects to `stream`, counting calls. */
function connecting(stream: Stream) {
  let calls = 0;
  return {
    connect: (to: Upstream) => {
      calls++;
      deepEqual(to, upstream);
      return Promise.resolve(stream);
    },
    calls: () => calls,
  };
}

/** A signal that aborts after `ms` of real time: for waits the test expects to end in a timeout. */
function abortSoon(ms = 20): AbortSignal {
  return AbortSignal.timeout(ms);
}

test("tcpExchange() writes one framed query and reads a framed reply arriving in several chunks", async () => {
  const bytes = encodeMessage(query("www.example.net"));
  const fake = fakeStream((written) => {
    const reply = frame(replyTo(written.subarray(2)));
    return split(reply, 1, 7, 20); // the length octets themselves are split
  });
  const dial = connecting(fake.stream);
  const reply = await tcpExchange(upstream, { connect: dial.connect })(bytes, new AbortController().signal);
  deepEqual(fake.written(), frame(bytes));
  deepEqual(reply, replyTo(bytes));
  equal(dial.calls(), 1);
  equal(fake.closes(), 1);
});

test("tcpExchange() reads a reply longer than one read buffer", async () => {
  const bytes = encodeMessage(query("big.example.net", 0x4321, RRType.TXT));
  const answers = fakeTxt("big.example.net", 40); // about 8 KB
  const fake = fakeStream((written) => [frame(replyTo(written.subarray(2), { answers }))]);
  const reply = await tcpExchange(upstream, { connect: connecting(fake.stream).connect })(
    bytes,
    new AbortController().signal,
  );
  ok(reply.length > 8000);
  deepEqual(decodeMessage(reply).answers, answers);
});

test("tcpExchange() drops a reply with the wrong ID, tells onDrop, and returns the right one", async () => {
  const bytes = encodeMessage(query("www.example.net", 0x1234));
  const fake = fakeStream((written) => {
    const right = replyTo(written.subarray(2));
    const wrong = replyTo(written.subarray(2), { id: 0x1235 });
    const both = new Uint8Array([...frame(wrong), ...frame(right)]);
    return split(both, 3, wrong.length + 3); // the second frame starts mid-chunk
  });
  const drops: [DropReason, string][] = [];
  const exchange = tcpExchange(upstream, {
    connect: connecting(fake.stream).connect,
    onDrop: (reason, from) => drops.push([reason, from]),
  });
  deepEqual(await exchange(bytes, new AbortController().signal), replyTo(bytes));
  deepEqual(drops, [["wrong-id", "192.0.2.53:53"]]);
  equal(fake.closes(), 1);
});

test("tcpExchange() requires the question's exact case only with exactCase (0x20)", async (t) => {
  const bytes = encodeMessage(query("WwW.ExAmPlE.NeT"));
  const lowered = (written: Uint8Array) => {
    const sent = decodeMessage(written.subarray(2));
    const questions = sent.questions.map((q) => ({ ...q, name: q.name.toLowerCase() }));
    return [frame(replyTo(written.subarray(2), { questions }))];
  };
  await t.step("without exactCase the lowercased question is accepted", async () => {
    const fake = fakeStream(lowered);
    const exchange = tcpExchange(upstream, { connect: connecting(fake.stream).connect });
    equal(
      decodeMessage(await exchange(bytes, new AbortController().signal)).questions[0]!.name,
      "www.example.net",
    );
  });
  await t.step("with exactCase it is dropped, and the exchange waits on until aborted", async () => {
    const fake = fakeStream(lowered);
    const drops: DropReason[] = [];
    const exchange = tcpExchange(upstream, {
      connect: connecting(fake.stream).connect,
      exactCase: true,
      onDrop: (reason) => drops.push(reason),
    });
    await rejects(exchange(bytes, abortSoon()), UpstreamTimeout);
    deepEqual(drops, ["wrong-question"]);
    equal(fake.closes(), 1);
  });
});

test("tcpExchange() gives up with UpstreamTimeout and closes the stream exactly once when aborted", async () => {
  const fake = fakeStream(() => []); // never answers
  const exchange = tcpExchange(upstream, { connect: connecting(fake.stream).connect });
  const controller = new AbortController();
  const pending = exchange(encodeMessage(query("slow.example.net")), controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await rejects(pending, UpstreamTimeout);
  equal(fake.closes(), 1);
});

test("tcpExchange() opens no connection for an already-aborted signal", async () => {
  const fake = fakeStream(() => []);
  const dial = connecting(fake.stream);
  await rejects(
    tcpExchange(upstream, { connect: dial.connect })(
      encodeMessage(query("a.example.net")),
      AbortSignal.abort(),
    ),
    UpstreamTimeout,
  );
  equal(dial.calls(), 0);
  equal(fake.closes(), 0);
});

test("tcpExchange() gives up on a connect that never completes when aborted", async () => {
  let late: ((stream: Stream) => void) | undefined;
  const fake = fakeStream(() => []);
  const exchange = tcpExchange(upstream, {
    connect: () => new Promise<Stream>((resolve) => (late = resolve)), // a black-holed SYN
  });
  await rejects(exchange(encodeMessage(query("a.example.net")), abortSoon()), UpstreamTimeout);
  late!(fake.stream); // the connection completes after all: it must be closed, not leaked
  await new Promise((resolve) => setTimeout(resolve, 0));
  equal(fake.closes(), 1);
});

test("tcpExchange() fails with UpstreamError when the stream closes in the middle of a reply", async (t) => {
  const cases = [
    { name: "inside the length octets", cut: 1 },
    { name: "inside the message", cut: 10 },
  ];
  for (const { name, cut } of cases) {
    await t.step(name, async () => {
      const fake = fakeStream((written) => [frame(replyTo(written.subarray(2))).slice(0, cut), null]);
      const error = await exchangeError(fake.stream);
      ok(error instanceof UpstreamError && !(error instanceof UpstreamTimeout), String(error));
      equal(fake.closes(), 1);
    });
  }
  await t.step("before any reply", async () => {
    const fake = fakeStream(() => [null]);
    const error = await exchangeError(fake.stream);
    ok(error instanceof UpstreamError && !(error instanceof UpstreamTimeout), String(error));
    equal(fake.closes(), 1);
  });
});

async function exchangeError(stream: Stream): Promise<unknown> {
  try {
    await tcpExchange(upstream, { connect: connecting(stream).connect })(
      encodeMessage(query("a.example.net")),
      new AbortController().signal,
    );
  } catch (error) {
    return error;
  }
  throw new Error("the exchange did not fail");
}

test("tcpExchange() fails with UpstreamError when the connection is refused", async () => {
  const connect = () => Promise.reject(new Deno.errors.ConnectionRefused("refused"));
  const error = await tcpExchange(upstream, { connect })(
    encodeMessage(query("a.example.net")),
    abortSoon(1000),
  )
    .catch((e) => e);
  ok(error instanceof UpstreamError && !(error instanceof UpstreamTimeout));
  ok(error.cause instanceof Deno.errors.ConnectionRefused);
});

test("tcpExchange() gets a whole big answer from the fake upstream over real TCP", async () => {
  const fake = startFakeUpstream({ "big.dnsd.test": { kind: "truncated", records: 30, over: "udp" } });
  try {
    const bytes = encodeMessage(query("big.dnsd.test", 0x0bad, RRType.TXT));
    const reply = await tcpExchange(fake.address)(bytes, AbortSignal.timeout(2000));
    const message = decodeMessage(reply);
    equal(message.id, 0x0bad);
    equal(message.truncated, false);
    deepEqual(message.answers, fakeTxt("big.dnsd.test", 30));
    deepEqual([fake.count("tcp"), fake.count("udp")], [1, 0]);
  } finally {
    await fake.close();
  }
});

test("tcpExchange() skips the fake upstream's wrong-ID decoy over real TCP", async () => {
  const fake = startFakeUpstream({
    "decoy.dnsd.test": { kind: "answer", address: "192.0.2.9", decoy: "wrong-id" },
  });
  try {
    const drops: DropReason[] = [];
    const exchange = tcpExchange(fake.address, { onDrop: (reason) => drops.push(reason) });
    const reply = decodeMessage(
      await exchange(encodeMessage(query("decoy.dnsd.test")), AbortSignal.timeout(2000)),
    );
    deepEqual(reply.answers.map((r) => r.data), [{ type: "A", address: "192.0.2.9" }]);
    deepEqual(drops, ["wrong-id"]);
  } finally {
    await fake.close();
  }
});

test("tcpExchange() times out on a silent fake upstream over real TCP", async () => {
  const fake = startFakeUpstream({ "silent.dnsd.test": { kind: "silent" } });
  try {
    await rejects(
      tcpExchange(fake.address)(encodeMessage(query("silent.dnsd.test")), abortSoon(100)),
      UpstreamTimeout,
    );
    equal(fake.count("tcp", "silent.dnsd.test"), 1);
  } finally {
    await fake.close();
  }
});

/** Reads `count` length-prefixed messages from `conn`. */
async function readFrames(conn: Deno.Conn, count: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  let buffered = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  while (frames.length < count) {
    const length = buffered.length >= 2 ? (buffered[0]! << 8) | buffered[1]! : -1;
    if (length >= 0 && buffered.length >= 2 + length) {
      frames.push(buffered.slice(2, 2 + length));
      buffered = buffered.slice(2 + length);
      continue;
    }
    const n = await conn.read(chunk);
    if (n === null) throw new Error("the fake upstream closed the connection early");
    buffered = new Uint8Array([...buffered, ...chunk.subarray(0, n)]);
  }
  return frames;
}

test("the fake upstream answers pipelined queries on one TCP connection as each completes", async () => {
  const fake = startFakeUpstream({
    "slow.dnsd.test": { kind: "answer", address: "192.0.2.1", delayMs: 50 },
    "fast.dnsd.test": { kind: "answer", address: "192.0.2.2" },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: fake.address.port });
  try {
    const slow = encodeMessage(query("slow.dnsd.test", 1));
    const fast = encodeMessage(query("fast.dnsd.test", 2));
    await conn.write(new Uint8Array([...frame(slow), ...frame(fast)]));
    const replies = await readFrames(conn, 2);
    deepEqual(replies.map((reply) => decodeMessage(reply).id), [2, 1]); // out of order (RFC 7766 section 7)
    deepEqual(fake.received.map((r) => [r.transport, r.connection]), [["tcp", 1], ["tcp", 1]]);
    deepEqual([fake.count("tcp", "SLOW.dnsd.test"), fake.count("udp")], [1, 0]);
  } finally {
    conn.close();
    await fake.close();
  }
});
