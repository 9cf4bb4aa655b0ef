/**
 * pooledUdpExchange() with fake Deno sockets behind `fromDenoSocket` (routing by ID, drops, aborts,
 * ID collisions, socket rotation by count and age, a failed receive, close), with fake batched
 * sockets (as lib/net/ffi_udp.ts's, sending at once), and against a real responder on 127.0.0.1
 * over Deno's sockets and over the FFI reactor's.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, notEqual, ok, rejects } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { reply } from "../../lib/proto/message.ts";
import {
  type BatchHandler,
  type DatagramBatch,
  type DatagramSocket,
  type DenoDatagram,
  fromDenoSocket,
  openReactorSocket,
  UdpReactor,
} from "../../lib/net/mod.ts";
import type { DropReason, Upstream } from "../../lib/upstream/udp_exchange.ts";
import { pooledUdpExchange, type UdpPoolOptions } from "../../lib/upstream/udp_pool.ts";
import { RRClass } from "../../lib/proto/types.ts";
import { needsFfi } from "../_batched.ts";
import { idOf, query } from "../_tcp_client.ts";

const UPSTREAM: Upstream = { hostname: "192.0.2.53", port: 53 };
const FROM_UPSTREAM: Deno.NetAddr = { transport: "udp", ...UPSTREAM };

type Received = [Uint8Array<ArrayBuffer>, Deno.Addr];

/** Where the fake sockets say they are bound (the pool never looks). */
const FAKE_ADDR: Deno.NetAddr = { transport: "udp", hostname: "0.0.0.0", port: 40_000 };

/**
 * A fake Deno socket, for `fromDenoSocket`: records what is sent, and hands out datagrams the test
 * delivers, one receive at a time.
 */
class FakeSocket implements DenoDatagram {
  readonly addr: Deno.NetAddr = FAKE_ADDR;
  readonly sent: { bytes: Uint8Array; to: Deno.NetAddr }[] = [];
  closes = 0;
  /** receive() calls not yet settled: 0 once the pool's loop has ended. */
  pendingReceives = 0;
  readonly #queue: Received[] = [];
  #waiter: { resolve(received: Received): void; reject(error: Error): void } | undefined;

  send(bytes: Uint8Array, to: Deno.Addr): Promise<number> {
    if (this.closes > 0) return Promise.reject(new Deno.errors.BadResource("closed"));
    this.sent.push({ bytes: bytes.slice(), to: to as Deno.NetAddr });
    return Promise.resolve(bytes.length);
  }

  receive(buffer?: Uint8Array): Promise<Received> {
    if (this.closes > 0) return Promise.reject(new Deno.errors.BadResource("closed"));
    this.pendingReceives++;
    return new Promise<Received>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#pump();
    }).then(([bytes, from]) => {
      this.pendingReceives--;
      // Like Deno: the datagram lands in the caller's buffer, which the next receive() overwrites.
      if (!buffer) return [bytes, from];
      buffer.set(bytes);
      return [buffer.subarray(0, bytes.length) as Uint8Array<ArrayBuffer>, from];
    }, (error) => {
      this.pendingReceives--;
      throw error;
    });
  }

  /** Queues a datagram for the pool's receive loop. */
  deliver(bytes: Uint8Array, from: Deno.NetAddr = FROM_UPSTREAM): void {
    this.#queue.push([bytes.slice(), from]);
    this.#pump();
  }

  /** Makes the pending receive() fail as a broken socket would. */
  fail(error: Error): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  close(): void {
    if (this.closes++ > 0) throw new Deno.errors.BadResource("closed twice");
    // The runtime ends a pending receive() a little later, not within close().
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) setTimeout(() => waiter.reject(new Deno.errors.BadResource("closed")), 0);
  }

  #pump(): void {
    if (!this.#waiter || this.#queue.length === 0) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter.resolve(this.#queue.shift()!);
  }
}

/** A pool over fake Deno sockets, with every socket it opened and every drop it reported. */
function fakePool(options: Omit<UdpPoolOptions, "open" | "onDrop"> = {}) {
  const sockets: FakeSocket[] = [];
  const drops: { reason: DropReason; from: string }[] = [];
  const pool = pooledUdpExchange(UPSTREAM, {
    ...options,
    open: (upstream) => {
      deepEqual(upstream, UPSTREAM);
      const socket = new FakeSocket();
      sockets.push(socket);
      return fromDenoSocket(socket);
    },
    onDrop: (reason, from) => drops.push({ reason, from }),
  });
  return { pool, sockets, drops };
}

/** The upstream's reply to the octets it was sent, answering with one A record. */
function answer(sent: Uint8Array, address: string, fields: Parameters<typeof reply>[1] = {}): Uint8Array {
  const request = decodeMessage(sent);
  const name = request.questions[0]!.name;
  return encodeMessage(
    reply(request, {
      answers: [{ name, class: RRClass.IN, ttl: 60, data: { type: "A", address } }],
      ...fields,
    }),
  );
}

function addressOf(bytes: Uint8Array): unknown {
  return decodeMessage(bytes).answers[0]?.data;
}

/** Lets the fake sockets' promises and the pool's receive loops run to quiescence. */
function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Tracks whether a promise has settled, without letting a rejection go unhandled. */
function track<T>(promise: Promise<T>): { readonly settled: boolean; readonly promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(() => state.settled = true, () => state.settled = true);
  return state;
}

const never = () => new AbortController().signal;

test("pooledUdpExchange() routes replies to the waiting queries, out of order, on one socket", async () => {
  const { pool, sockets } = fakePool({ sockets: 1, queriesPerSocket: 1000 });
  try {
    const names = ["a.example", "b.example", "c.example"];
    const pending = names.map((name, i) => pool(query(name, { id: 0x100 + i }), never()));
    equal(sockets.length, 1);
    const socket = sockets[0]!;
    deepEqual(socket.sent.map(({ bytes }) => idOf(bytes)), [0x100, 0x101, 0x102]);
    const { transport, hostname, port } = socket.sent[0]!.to; // a struct sockaddr made once, as a SocketPeer
    deepEqual({ transport, hostname, port }, { transport: "udp", hostname: "192.0.2.53", port: 53 });
    for (const i of [2, 0, 1]) socket.deliver(answer(socket.sent[i]!.bytes, `192.0.2.${i + 1}`));
    const replies = await Promise.all(pending);
    deepEqual(replies.map(addressOf), [1, 2, 3].map((n) => ({ type: "A", address: `192.0.2.${n}` })));
    deepEqual(replies.map(idOf), [0x100, 0x101, 0x102]);
    deepEqual(replies.map((r) => decodeMessage(r).questions[0]!.name), names);
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() drops strangers' datagrams and keeps waiting", async (t) => {
  const decoys = [
    {
      name: "another port",
      reason: "wrong-source",
      from: { transport: "udp", hostname: "192.0.2.53", port: 5353 },
      bytes: (sent: Uint8Array) => answer(sent, "198.51.100.1"),
    },
    {
      name: "another host",
      reason: "wrong-source",
      from: { transport: "udp", hostname: "192.0.2.54", port: 53 },
      bytes: (sent: Uint8Array) => answer(sent, "198.51.100.2"),
    },
    {
      name: "another ID",
      reason: "wrong-id",
      from: FROM_UPSTREAM,
      bytes: (sent: Uint8Array) => answer(sent, "198.51.100.3", { id: idOf(sent) ^ 1 }),
    },
    {
      name: "another question",
      reason: "wrong-question",
      from: FROM_UPSTREAM,
      bytes: (sent: Uint8Array) => answer(query("decoy.example", { id: idOf(sent) }), "198.51.100.4"),
    },
    {
      name: "a query, not a response",
      reason: "not-response",
      from: FROM_UPSTREAM,
      bytes: (sent: Uint8Array) => sent,
    },
  ] as const;
  for (const decoy of decoys) {
    await t.step(`from ${decoy.name}: ${decoy.reason}`, async () => {
      const { pool, sockets, drops } = fakePool({ sockets: 1, queriesPerSocket: 1000 });
      try {
        const pending = track(pool(query("www.example", { id: 0x4242 }), never()));
        const socket = sockets[0]!;
        const sent = socket.sent[0]!.bytes;
        socket.deliver(decoy.bytes(sent), decoy.from);
        await flush();
        equal(drops.length, 1);
        equal(drops[0]!.reason, decoy.reason);
        if (decoy.reason === "wrong-source") {
          equal(drops[0]!.from, `${decoy.from.hostname}:${decoy.from.port}`);
        }
        equal(pending.settled, false);
        socket.deliver(answer(sent, "192.0.2.1"));
        deepEqual(addressOf(await pending.promise), { type: "A", address: "192.0.2.1" });
      } finally {
        await pool.close();
      }
    });
  }
});

test("pooledUdpExchange() takes an IPv6 upstream's reply whatever the address's spelling", async () => {
  const socket = new FakeSocket();
  const pool = pooledUdpExchange({ hostname: "2001:db8::53", port: 53 }, {
    open: () => fromDenoSocket(socket),
  });
  try {
    const pending = pool(query("www.example", { id: 7 }), never());
    socket.deliver(answer(socket.sent[0]!.bytes, "192.0.2.1"), {
      transport: "udp",
      hostname: "2001:0db8:0:0:0:0:0:0053",
      port: 53,
    });
    deepEqual(addressOf(await pending), { type: "A", address: "192.0.2.1" });
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() gives up on abort with UpstreamTimeout and forgets the query", async () => {
  const { pool, sockets, drops } = fakePool({ sockets: 1, queriesPerSocket: 1000 });
  try {
    const controller = new AbortController();
    const pending = pool(query("www.example", { id: 0x0a0a }), controller.signal);
    controller.abort();
    await rejects(pending, UpstreamTimeout);
    const socket = sockets[0]!;
    socket.deliver(answer(socket.sent[0]!.bytes, "192.0.2.1"));
    await flush();
    deepEqual(drops.map(({ reason }) => reason), ["wrong-id"]);
    equal(socket.closes, 0); // an active socket outlives the queries on it
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() by default opens a socket per query and closes it after its reply or abort", async () => {
  const { pool, sockets } = fakePool();
  try {
    const controller = new AbortController();
    const one = pool(query("one.example", { id: 1 }), never());
    const two = track(pool(query("two.example", { id: 2 }), controller.signal));
    equal(sockets.length, 2);
    deepEqual(sockets.map((socket) => socket.sent.length), [1, 1]);
    deepEqual(sockets.map((socket) => socket.closes), [0, 0]); // both still wait
    sockets[0]!.deliver(answer(sockets[0]!.sent[0]!.bytes, "192.0.2.1"));
    deepEqual(addressOf(await one), { type: "A", address: "192.0.2.1" });
    equal(sockets[0]!.closes, 1);
    controller.abort();
    await rejects(two.promise, UpstreamTimeout);
    equal(sockets[1]!.closes, 1);
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() shares the newest open socket when no new one can be opened", async () => {
  const sockets: FakeSocket[] = [];
  let refuse = false;
  const pool = pooledUdpExchange(UPSTREAM, {
    open: () => {
      if (refuse) throw new Error("socket(2) failed (os error 24)");
      const socket = new FakeSocket();
      sockets.push(socket);
      return fromDenoSocket(socket);
    },
  });
  try {
    const one = pool(query("one.example", { id: 1 }), never());
    refuse = true;
    const two = pool(query("two.example", { id: 2 }), never());
    equal(sockets.length, 1);
    equal(sockets[0]!.sent.length, 2, "the second query went out on the first socket");
    for (const sent of sockets[0]!.sent) sockets[0]!.deliver(answer(sent.bytes, "192.0.2.9"));
    ok(await one);
    ok(await two);
    equal(sockets[0]!.closes, 1, "closed once both replies were in");
    await rejects(pool(query("three.example", { id: 3 }), never()), {
      name: "UpstreamError",
      message: /Cannot open a socket/,
    });
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() sends nothing for a signal that is already aborted", async () => {
  const { pool, sockets } = fakePool();
  try {
    await rejects(pool(query("www.example"), AbortSignal.abort()), UpstreamTimeout);
    equal(sockets.length, 0);
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() gives a query a fresh ID when its ID already waits on the socket", async () => {
  const { pool, sockets } = fakePool({ sockets: 1, queriesPerSocket: 1000 });
  try {
    const first = pool(query("one.example", { id: 0x7777 }), never());
    const second = pool(query("two.example", { id: 0x7777 }), never());
    const socket = sockets[0]!;
    const [a, b] = socket.sent.map(({ bytes }) => bytes);
    equal(idOf(a!), 0x7777);
    notEqual(idOf(b!), 0x7777);
    deepEqual(b!.subarray(2), query("two.example", { id: 0x7777 }).subarray(2)); // only the ID changed
    socket.deliver(answer(b!, "192.0.2.2"));
    socket.deliver(answer(a!, "192.0.2.1"));
    deepEqual(addressOf(await first), { type: "A", address: "192.0.2.1" });
    deepEqual(addressOf(await second), { type: "A", address: "192.0.2.2" });
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() retires a socket after queriesPerSocket, closing it after its last reply", async () => {
  const { pool, sockets } = fakePool({ sockets: 1, queriesPerSocket: 2 });
  try {
    const one = pool(query("one.example", { id: 1 }), never());
    const two = pool(query("two.example", { id: 2 }), never());
    equal(sockets.length, 1);
    const three = pool(query("three.example", { id: 3 }), never());
    equal(sockets.length, 2);
    const [old, fresh] = sockets as [FakeSocket, FakeSocket];
    deepEqual([old.sent.length, fresh.sent.length], [2, 1]);
    equal(old.closes, 0); // two replies still to come

    old.deliver(answer(old.sent[0]!.bytes, "192.0.2.1"));
    deepEqual(addressOf(await one), { type: "A", address: "192.0.2.1" });
    equal(old.closes, 0);
    old.deliver(answer(old.sent[1]!.bytes, "192.0.2.2"));
    deepEqual(addressOf(await two), { type: "A", address: "192.0.2.2" });
    equal(old.closes, 1);
    await flush();
    equal(old.pendingReceives, 0); // its receive loop ended

    fresh.deliver(answer(fresh.sent[0]!.bytes, "192.0.2.3"));
    deepEqual(addressOf(await three), { type: "A", address: "192.0.2.3" });
    equal(fresh.closes, 0);
  } finally {
    await pool.close();
  }
  deepEqual(sockets.map((socket) => socket.closes), [1, 1]);
});

test("pooledUdpExchange() closes a retired socket when its last query is aborted", async () => {
  const { pool, sockets } = fakePool({ sockets: 1, queriesPerSocket: 1 });
  try {
    const controller = new AbortController();
    const one = pool(query("one.example", { id: 1 }), controller.signal);
    const two = pool(query("two.example", { id: 2 }), never());
    equal(sockets.length, 2);
    equal(sockets[0]!.closes, 0);
    controller.abort();
    await rejects(one, UpstreamTimeout);
    equal(sockets[0]!.closes, 1);
    sockets[1]!.deliver(answer(sockets[1]!.sent[0]!.bytes, "192.0.2.2"));
    await two;
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() retires a socket once it is maxSocketAgeMs old", async () => {
  let clock = 5_000;
  const { pool, sockets } = fakePool({
    sockets: 1,
    queriesPerSocket: 1000,
    maxSocketAgeMs: 1_000,
    now: () => clock,
  });
  try {
    const ask = async (name: string, id: number) => {
      const pending = pool(query(name, { id }), never());
      const socket = sockets.at(-1)!;
      socket.deliver(answer(socket.sent.at(-1)!.bytes, "192.0.2.1"));
      await pending;
    };
    await ask("one.example", 1);
    clock += 999;
    await ask("two.example", 2);
    deepEqual(sockets.map((s) => [s.sent.length, s.closes]), [[2, 0]]);
    clock += 1;
    await ask("three.example", 3);
    // Nothing waited on the old socket: it closed as soon as it was retired.
    deepEqual(sockets.map((s) => [s.sent.length, s.closes]), [[2, 1], [1, 0]]);
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() spreads queries over `sockets` sockets", async () => {
  const { pool, sockets } = fakePool({ sockets: 3, queriesPerSocket: 1000 });
  try {
    const pending = Array.from({ length: 6 }, (_, i) => pool(query(`q${i}.example`, { id: i }), never()));
    equal(sockets.length, 3);
    deepEqual(sockets.map((socket) => socket.sent.length), [2, 2, 2]);
    for (const socket of sockets) {
      for (const { bytes } of socket.sent) socket.deliver(answer(bytes, "192.0.2.1"));
    }
    deepEqual((await Promise.all(pending)).map(idOf), [0, 1, 2, 3, 4, 5]);
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange() replaces a socket whose receive failed", async () => {
  const { pool, sockets } = fakePool({ sockets: 1, queriesPerSocket: 1000 });
  try {
    const lost = pool(query("one.example", { id: 1 }), never());
    sockets[0]!.fail(new Error("connection reset (an ICMP error, as Windows reports it)"));
    await rejects(lost, UpstreamError);
    equal(sockets[0]!.closes, 1);
    const next = pool(query("two.example", { id: 2 }), never());
    equal(sockets.length, 2);
    sockets[1]!.deliver(answer(sockets[1]!.sent[0]!.bytes, "192.0.2.2"));
    deepEqual(addressOf(await next), { type: "A", address: "192.0.2.2" });
  } finally {
    await pool.close();
  }
});

test("pooledUdpExchange().close() closes every socket, fails waiting queries, waits for the loops", async () => {
  const { pool, sockets } = fakePool({ sockets: 2, queriesPerSocket: 1 });
  // Two retired sockets with a query still waiting on each, and one active.
  const waiting = [1, 2, 3].map((id) => track(pool(query(`q${id}.example`, { id }), never())));
  equal(sockets.length, 3);
  equal(sockets[0]!.closes, 0);
  await pool.close();
  deepEqual(sockets.map((socket) => socket.closes), [1, 1, 1]);
  // The fake ends each pending receive() only on a later timer turn: close() waited for that.
  deepEqual(sockets.map((socket) => socket.pendingReceives), [0, 0, 0]);
  for (const { promise } of waiting) {
    await rejects(promise, (error) => error instanceof UpstreamError && !(error instanceof UpstreamTimeout));
  }
  await rejects(pool(query("late.example"), never()), UpstreamError);
  equal(sockets.length, 3);
  await pool.close(); // a second close() is harmless
});

/** A real upstream on 127.0.0.1 that answers every query by setting QR (same ID and question). */
function startEchoResponder() {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let received = 0;
  const loop = (async () => {
    try {
      for (;;) {
        const [bytes, from] = await conn.receive();
        received++;
        const response = bytes.slice();
        response[2]! |= 0x80;
        await conn.send(response, from);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)) {
        throw error;
      }
    }
  })();
  return {
    address: conn.addr as Deno.NetAddr,
    received: () => received,
    async close() {
      conn.close();
      await loop;
    },
  };
}

/**
 * 200 concurrent queries to a real responder over sockets from `open`, 25 to a socket: every reply
 * reaches its query; says how many sockets were opened.
 */
async function twoHundredQueries(open: (upstream: Upstream) => DatagramSocket): Promise<number> {
  const responder = startEchoResponder();
  let opened = 0;
  const pool = pooledUdpExchange(responder.address, {
    sockets: 4,
    queriesPerSocket: 25,
    open: (upstream) => {
      opened++;
      return open(upstream);
    },
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5_000);
  try {
    const queries = Array.from({ length: 200 }, (_, i) => query(`q${i}.example`, { id: i * 7 }));
    const replies = await Promise.all(queries.map((bytes) => pool(bytes, controller.signal)));
    for (const [i, bytes] of replies.entries()) {
      equal(idOf(bytes), i * 7);
      equal(bytes[2]! & 0x80, 0x80);
      deepEqual(bytes.subarray(3), queries[i]!.subarray(3));
    }
    equal(responder.received(), 200);
    return opened;
  } finally {
    clearTimeout(timer);
    await pool.close();
    await responder.close();
  }
}

test("pooledUdpExchange() answers 200 concurrent queries over real sockets, then closes cleanly", async () => {
  const opened = await twoHundredQueries((upstream) =>
    fromDenoSocket(Deno.listenDatagram({ transport: "udp", hostname: upstream.hostname, port: 0 }))
  );
  // 25 queries a socket: 8 sockets at least, plus up to 3 more that round robin left part-used.
  ok(opened >= 8 && opened <= 11, `${opened} sockets opened`);
});

test(
  needsFfi("pooledUdpExchange() answers 200 concurrent queries over reactor sockets, then closes"),
  async () => {
    const reactor = new UdpReactor();
    try {
      const opened = await twoHundredQueries(() => openReactorSocket(reactor));
      ok(opened >= 8 && opened <= 11, `${opened} sockets opened`);
    } finally {
      await reactor.close();
    }
  },
);

/**
 * A fake batched socket (as lib/net/ffi_udp.ts's): `serve()` keeps the handler, which gets each
 * datagram the test delivers at once, as a batch of one; sends say at once whether the "kernel"
 * took them.
 */
class BatchedFakeSocket implements DatagramSocket {
  readonly addr: Deno.NetAddr = FAKE_ADDR;
  readonly sent: { bytes: Uint8Array; to: Deno.NetAddr }[] = [];
  /** close() calls, a second one included (which does nothing, as the interface says). */
  closes = 0;
  /** serve() calls: the pool serves each socket once. */
  serves = 0;
  /** Whether the "kernel" takes the next datagram. */
  accepts = true;
  #handler: BatchHandler | undefined;
  #ended = () => {};
  readonly #finished = new Promise<void>((resolve) => this.#ended = resolve);

  serve(handler: BatchHandler): Promise<void> {
    if (this.serves++ > 0) throw new Error("the socket is served already");
    if (this.closes > 0) return Promise.resolve();
    this.#handler = handler;
    return this.#finished;
  }

  send(bytes: Uint8Array, to: Deno.Addr): boolean {
    if (this.closes > 0) throw new Deno.errors.BadResource("closed");
    if (!this.accepts) return false;
    this.sent.push({ bytes: bytes.slice(), to: to as Deno.NetAddr });
    return true;
  }

  close(): void {
    if (this.closes++ > 0) return;
    this.#handler = undefined;
    this.#ended();
  }

  /** Hands `bytes` from `from` to the serve() handler, as a batch of one. */
  deliver(bytes: Uint8Array, from: Deno.NetAddr = FROM_UPSTREAM): void {
    if (this.closes > 0) return;
    // Like the reactor: a view of the socket's own memory, overwritten right after the call, and
    // a sender good only during it.
    const scratch = bytes.slice();
    const sender: Deno.NetAddr = { ...from };
    const batch: DatagramBatch = {
      count: 1,
      datagram: () => scratch,
      cut: () => false,
      sender: () => ({ ...from }),
      senderNow: () => sender,
      replyTo: (_, data) => this.send(data, from),
    };
    this.#handler!(batch);
    scratch.fill(0xee);
    sender.hostname = "203.0.113.99";
    sender.port = 9;
  }
}

test("pooledUdpExchange() over a batched socket fails a query the kernel would not send", async () => {
  const socket = new BatchedFakeSocket();
  socket.accepts = false;
  const pool = pooledUdpExchange(UPSTREAM, { sockets: 1, queriesPerSocket: 1000, open: () => socket });
  try {
    await rejects(pool(query("refused.example", { id: 5 }), never()), {
      name: "UpstreamError",
      message: /Cannot query/,
    });
    socket.accepts = true;
    const waiting = track(pool(query("taken.example", { id: 6 }), never()));
    equal(socket.sent.length, 1, "the socket is still used");
    socket.deliver(answer(socket.sent[0]!.bytes, "192.0.2.6"));
    ok(await waiting.promise);
    equal(socket.serves, 1);
  } finally {
    await pool.close();
  }
  equal(socket.closes, 1);
});

test("pooledUdpExchange() over batched sockets: routing, every drop, retiring and closing", async (t) => {
  const sockets: BatchedFakeSocket[] = [];
  const drops: DropReason[] = [];
  const pool = pooledUdpExchange(UPSTREAM, {
    sockets: 1,
    queriesPerSocket: 3,
    open: () => {
      const socket = new BatchedFakeSocket();
      sockets.push(socket);
      return socket;
    },
    onDrop: (reason) => drops.push(reason),
  });
  try {
    await t.step("replies reach their queries out of order, and are copies", async () => {
      const pending = [1, 2].map((id) => pool(query(`q${id}.example`, { id }), never()));
      const socket = sockets[0]!;
      for (const i of [1, 0]) socket.deliver(answer(socket.sent[i]!.bytes, `192.0.2.${i + 1}`));
      deepEqual((await Promise.all(pending)).map(addressOf), [
        { type: "A", address: "192.0.2.1" },
        { type: "A", address: "192.0.2.2" },
      ]);
    });
    await t.step("strangers are dropped, each for its reason, and the query still waits", async () => {
      const pending = track(pool(query("www.example", { id: 0x4242 }), never()));
      const socket = sockets[0]!;
      const sent = socket.sent[2]!.bytes;
      socket.deliver(answer(sent, "198.51.100.1"), { transport: "udp", hostname: "192.0.2.54", port: 53 });
      socket.deliver(answer(sent, "198.51.100.2", { id: 0x4243 }));
      socket.deliver(answer(query("decoy.example", { id: 0x4242 }), "198.51.100.3"));
      socket.deliver(sent);
      await flush();
      deepEqual(drops, ["wrong-source", "wrong-id", "wrong-question", "not-response"]);
      equal(pending.settled, false);
      socket.deliver(answer(sent, "192.0.2.3"));
      deepEqual(addressOf(await pending.promise), { type: "A", address: "192.0.2.3" });
    });
    await t.step(
      "after 3 queries a fresh socket takes over, and close() fails what still waits",
      async () => {
        const waiting = track(pool(query("late.example", { id: 9 }), never()));
        equal(sockets.length, 2);
        equal(sockets[0]!.closes, 1); // retired with nothing waiting: closed at once
        await pool.close();
        equal(sockets[1]!.closes, 1);
        await rejects(waiting.promise, UpstreamError);
      },
    );
  } finally {
    await pool.close();
  }
  deepEqual(sockets.map((socket) => [socket.serves, socket.closes]), [[1, 1], [1, 1]]);
});

/** A fake batched socket that can take a new port, as an upstream socket of lib/net/ffi_udp.ts can. */
class RenewableFakeSocket extends BatchedFakeSocket {
  renews = 0;
  renewable = true;

  renew(): boolean {
    if (this.closes > 0 || !this.renewable) return false;
    this.renews++;
    return true;
  }
}

test("pooledUdpExchange() keeps a socket that can renew its port, and uses it again on a new one", async () => {
  const sockets: RenewableFakeSocket[] = [];
  const pool = pooledUdpExchange(UPSTREAM, {
    open: () => {
      const socket = new RenewableFakeSocket();
      sockets.push(socket);
      return socket;
    },
  });
  try {
    for (const id of [1, 2, 3]) {
      const pending = pool(query(`q${id}.example`, { id }), never());
      const socket = sockets[0]!;
      socket.deliver(answer(socket.sent.at(-1)!.bytes, "192.0.2.1"));
      ok(await pending);
      equal(socket.renews, id, "a new port after each query");
    }
    equal(sockets.length, 1);
    equal(sockets[0]!.serves, 1);
    // Two at once need two sockets; one that cannot renew is closed instead of kept.
    const [a, b] = [
      pool(query("a.example", { id: 4 }), never()),
      pool(query("b.example", { id: 5 }), never()),
    ];
    equal(sockets.length, 2);
    sockets[1]!.renewable = false;
    for (const socket of sockets) socket.deliver(answer(socket.sent.at(-1)!.bytes, "192.0.2.2"));
    ok(await a);
    ok(await b);
    deepEqual(sockets.map((socket) => socket.closes), [0, 1]);
  } finally {
    await pool.close();
  }
  equal(sockets[0]!.closes, 1, "close() closes the kept socket too");
});
