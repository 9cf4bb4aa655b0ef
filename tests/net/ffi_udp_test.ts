/**
 * Batched UDP (lib/net/ffi_udp.ts): recvmmsg through FFI, and dnsd serving with `udpIo: "batched"`.
 * Needs --allow-ffi (the README's test command has it); skipped with the reason without it.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { type DatagramSocket, listenBatchedUdp, openReactorSocket, UdpReactor } from "../../lib/net/mod.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { needsFfi, startBatchedServer } from "../_batched.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { openUdpClient, queryBytes } from "../_udp_client.ts";

/** Settles as `promise` does, or fails after `ms` with "`what` within `ms` ms". */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A datagram a socket served: its bytes (copied), its sender, and the memory it was read into. */
interface Served {
  readonly data: number[];
  readonly from: Deno.NetAddr;
  readonly memory: ArrayBufferLike;
}

/**
 * Serves `socket`, keeping a copy of every datagram (the batch's memory is reused); `received`
 * settles once `count` have come, `serving` when serve() does.
 */
function receiveInto(socket: DatagramSocket, count: number): {
  received: Promise<Served[]>;
  serving: Promise<void>;
} {
  const seen: Served[] = [];
  let done: (seen: Served[]) => void = () => {};
  const received = new Promise<Served[]>((resolve) => done = resolve);
  const serving = socket.serve((batch) => {
    for (let i = 0; i < batch.count; i++) {
      const data = batch.datagram(i);
      seen.push({ data: [...data], from: batch.sender(i), memory: data.buffer });
    }
    if (seen.length >= count) done(seen);
    return false;
  });
  return { received, serving };
}

/** Collects what `socket` serves until `count` datagrams came, answering each with `reply`. */
function collect(
  socket: DatagramSocket,
  count: number,
  reply: (data: Uint8Array) => Uint8Array,
): Promise<{ data: number[]; from: Deno.NetAddr; batch: number }[]> {
  const seen: { data: number[]; from: Deno.NetAddr; batch: number }[] = [];
  let batches = 0;
  return new Promise((resolve) => {
    void socket.serve((batch) => {
      batches++;
      for (let i = 0; i < batch.count; i++) {
        const data = batch.datagram(i);
        seen.push({ data: [...data], from: batch.sender(i) as Deno.NetAddr, batch: batches });
        ok(batch.replyTo(i, reply(data)));
      }
      if (seen.length >= count) resolve(seen);
      return false;
    });
  });
}

/**
 * Runs `body` with a batched socket that has served one datagram from `client` (its sender is
 * `from`) and tells refused replies to `replyFailed`; closes both after.
 */
async function afterOneQuery(
  replyFailed: (to: Deno.NetAddr) => void,
  body: (socket: DatagramSocket, client: Deno.DatagramConn, from: Deno.NetAddr) => Promise<void>,
): Promise<void> {
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await client.send(Uint8Array.of(1), socket.addr);
    const from = await new Promise<Deno.NetAddr>((resolve) => {
      void socket.serve((batch) => {
        resolve(batch.sender(0) as Deno.NetAddr);
        return false;
      }, replyFailed);
    });
    await body(socket, client, from);
  } finally {
    client.close();
    socket.close();
  }
}

test(
  needsFfi("listenBatchedUdp() serves a burst in batches, in order, with their senders"),
  async () => {
    const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
    const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      // More than one batch (64), all queued before the socket is served (loopback queues at once).
      for (let i = 0; i < 100; i++) await client.send(Uint8Array.of(i, 0xaa), socket.addr);
      const seen = await collect(socket, 100, (data) => Uint8Array.of(data[0]!, 0xbb));
      deepEqual(seen.map((each) => each.data), [...Array(100).keys()].map((i) => [i, 0xaa]));
      deepEqual(seen.map((each) => each.batch), [...Array(100).keys()].map((i) => i < 64 ? 1 : 2));
      for (const { from } of seen) {
        deepEqual([from.hostname, from.port], ["127.0.0.1", (client.addr as Deno.NetAddr).port]);
      }
      for (let i = 0; i < 100; i++) deepEqual([...(await client.receive())[0]], [i, 0xbb]);
      // A sender kept past its batch still answers: it holds its own copy of the address. A batched
      // socket sends at once and says so, with no promise.
      equal(socket.send(Uint8Array.of(9), seen[0]!.from), true);
      deepEqual([...(await client.receive())[0]], [9]);
      // And so does an address given as text.
      equal(socket.send(Uint8Array.of(8), client.addr), true);
      deepEqual([...(await client.receive())[0]], [8]);
    } finally {
      client.close();
      socket.close();
    }
  },
);

test(
  needsFfi(
    "replies sent after their batch wait for the microtasks queued so far, go in order, and close() sends them",
  ),
  async () => {
    const failures: Deno.NetAddr[] = [];
    await afterOneQuery((to) => failures.push(to), async (socket, client, from) => {
      // 150 in one synchronous run: more than the 64 a sendmmsg(2) batch holds, so it fills twice.
      for (let i = 0; i < 150; i++) equal(socket.send(Uint8Array.of(i, 0xcc), from), true);
      // One to a port no datagram can go to: told to the socket's replyFailed, the others still go.
      equal(socket.send(Uint8Array.of(0xff), { transport: "udp", hostname: "127.0.0.1", port: 0 }), true);
      equal(socket.send(Uint8Array.of(150, 0xcc), from), true);
      for (let i = 0; i <= 150; i++) {
        deepEqual([...(await within(client.receive(), 2000, `reply ${i}`))[0]], [i, 0xcc]);
      }
      equal(failures.length, 1);
      equal(failures[0]!.port, 0);
      // Queued and closed in the same turn: it still goes.
      equal(socket.send(Uint8Array.of(7), from), true);
      socket.close();
      deepEqual([...(await within(client.receive(), 2000, "the reply queued before close()"))[0]], [7]);
    });
  },
);

test(
  needsFfi("a replyFailed that throws keeps neither the other queued replies nor the process from going on"),
  async () => {
    const counterBug = () => {
      throw new Error("a bug in the counter");
    };
    await afterOneQuery(counterBug, async (socket, client, from) => {
      equal(socket.send(Uint8Array.of(1), from), true);
      equal(socket.send(Uint8Array.of(0xff), { transport: "udp", hostname: "127.0.0.1", port: 0 }), true);
      equal(socket.send(Uint8Array.of(2), from), true);
      deepEqual([...(await within(client.receive(), 2000, "the reply before the refused one"))[0]], [1]);
      deepEqual([...(await within(client.receive(), 2000, "the reply after the refused one"))[0]], [2]);
      equal(socket.send(Uint8Array.of(3), from), true);
      deepEqual([...(await within(client.receive(), 2000, "a later reply"))[0]], [3]);
    });
  },
);

test(needsFfi("listenBatchedUdp() close() settles serve() and frees the port"), async () => {
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
  const serving = socket.serve(() => false);
  socket.close();
  await serving;
  throws(() => socket.send(Uint8Array.of(1), socket.addr), Deno.errors.BadResource);
  // The port is free again once the reactor's wait has let go of the descriptor.
  await new Promise((resolve) => setTimeout(resolve, 50));
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: socket.addr.port }).close();
});

test(needsFfi("listenBatchedUdp() on a taken port throws AddrInUse"), () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    throws(
      () => listenBatchedUdp({ hostname: "127.0.0.1", port: (taken.addr as Deno.NetAddr).port }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
});

test(needsFfi("openReactorSocket() sends, serves replies in order, and closes"), async () => {
  const reactor = new UdpReactor();
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sockets = [openReactorSocket(reactor), openReactorSocket(reactor)];
  try {
    const serving = sockets.map((socket) => receiveInto(socket, 3));
    // Each socket asks, at once (no promise); the peer answers three datagrams to each, and each
    // socket serves its own.
    for (const [n, socket] of sockets.entries()) equal(socket.send(Uint8Array.of(n), peer.addr), true);
    for (let n = 0; n < 2; n++) {
      const [asked, from] = await peer.receive();
      for (let k = 0; k < 3; k++) await peer.send(Uint8Array.of(asked[0]!, k), from);
    }
    const memories: ArrayBufferLike[] = [];
    for (const [n, { received }] of serving.entries()) {
      const seen = await within(received, 5000, `three replies to socket ${n}`);
      deepEqual(seen.map(({ data }) => data), [[n, 0], [n, 1], [n, 2]]);
      for (const { from, memory } of seen) {
        equal(from.port, (peer.addr as Deno.NetAddr).port);
        equal(memory, seen[0]!.memory); // read into memory that is reused: no buffer each
      }
      memories.push(seen[0]!.memory);
    }
    // A socket per upstream query costs no buffer: the reactor's upstream sockets share one set.
    equal(memories[0], memories[1]);
    // serve() settles when the socket closes; a closed socket sends nothing.
    sockets[0]!.close();
    await within(serving[0]!.serving, 5000, "end of serve() after close()");
    throws(() => sockets[0]!.send(Uint8Array.of(1), peer.addr), Deno.errors.BadResource);
  } finally {
    for (const socket of sockets) socket.close();
    peer.close();
    await reactor.close();
  }
});

/** Whether a socket with SO_REUSEADDR set can bind 0.0.0.0:`port` too (through libc, as a rogue process would). */
function canShare(port: number): boolean {
  const libc = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    const fd = libc.symbols.socket(2, 2, 0); // AF_INET, SOCK_DGRAM
    libc.symbols.setsockopt(fd, 1, 2, new Int32Array([1]), 4); // SOL_SOCKET, SO_REUSEADDR
    const address = new Uint8Array(16); // struct sockaddr_in, 0.0.0.0:port
    address.set([2, 0, port >> 8, port & 0xff]);
    const bound = libc.symbols.bind(fd, address, 16) === 0;
    libc.symbols.close(fd);
    return bound;
  } finally {
    libc.close();
  }
}

test(
  needsFfi("batched sockets hold their ports alone: no SO_REUSEADDR socket may share one"),
  async () => {
    const reactor = new UdpReactor();
    const upstream = openReactorSocket(reactor);
    const listener = listenBatchedUdp({ hostname: "0.0.0.0", port: 0, reactor });
    const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      // An upstream socket is bound by its first send, to a port the kernel draws.
      equal(upstream.send(Uint8Array.of(1), peer.addr), true);
      ok(upstream.addr.port > 0);
      equal(canShare(upstream.addr.port), false);
      equal(canShare(listener.addr.port), false);
    } finally {
      peer.close();
      upstream.close();
      listener.close();
      await reactor.close();
    }
  },
);

test(
  needsFfi("a reactor socket opened while the reactor waits idle still gets its reply at once"),
  async () => {
    const reactor = new UdpReactor();
    const listener = listenBatchedUdp({ hostname: "127.0.0.1", port: 0, reactor });
    const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      void listener.serve(() => false);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the wait is in a worker thread now
      const socket = openReactorSocket(reactor); // not in that wait: the reactor must look again
      const { received, serving } = receiveInto(socket, 1);
      equal(socket.send(Uint8Array.of(1), peer.addr), true);
      const [, from] = await peer.receive();
      const sentAt = performance.now();
      await peer.send(Uint8Array.of(2), from);
      const [reply] = await within(received, 5000, "reply");
      const took = performance.now() - sentAt;
      deepEqual(reply!.data, [2]);
      // An idle wait lasts a second before it looks again: the wake-up came well before.
      ok(took < 500, `the reply took ${Math.round(took)} ms`);
      socket.close();
      await serving;
    } finally {
      listener.close();
      peer.close();
      await reactor.close();
    }
  },
);

test(
  needsFfi("dnsd with udpIo batched answers local and forwarded names, repeats, and stops"),
  async () => {
    const upstream = startFakeUpstream({ "forward.dnsd.test": { kind: "answer", address: "192.0.2.1" } });
    const server = startBatchedServer(upstream.address, 500);
    const client = openUdpClient(server.address, 2000);
    try {
      const local = decodeMessage(await client.ask(queryBytes("example.com", RRType.A)));
      equal(local.rcode, Rcode.NOERROR);
      deepEqual(local.answers.map((r) => r.data), [{ type: "A", address: "8.8.8.8" }]);
      // The same question again comes from the kept bytes: the same answer under the new ID.
      const again = queryBytes("example.com", RRType.A);
      const repeat = await client.ask(again);
      equal((repeat[0]! << 8) | repeat[1]!, (again[0]! << 8) | again[1]!);
      deepEqual(decodeMessage(repeat).answers, local.answers);
      // Junk gets no reply and stops nothing: empty, short, a response, random bytes.
      const random = new Uint8Array(600);
      crypto.getRandomValues(random);
      random[2] = random[2]! | 0x80; // QR: dropped silently, so no stray reply reaches the next ask()
      const response = queryBytes("example.com", RRType.A);
      response[2] = response[2]! | 0x80;
      for (const junk of [new Uint8Array(0), Uint8Array.of(1, 2, 3, 4, 5), response, random]) {
        await client.send(junk);
      }
      const forwarded = decodeMessage(await client.ask(queryBytes("forward.dnsd.test", RRType.A)));
      deepEqual(forwarded.answers.map((r) => r.data), [{ type: "A", address: "192.0.2.1" }]);
      // Bursts of 50 (so the client's own receive buffer never overflows), every query answered.
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 50; i++) await client.send(queryBytes("test.com", RRType.A));
        for (let i = 0; i < 50; i++) equal(decodeMessage(await client.receive()).answers.length, 1);
      }
    } finally {
      client.close();
      await server.stop(500);
      await server.finished;
      await upstream.close();
    }
    // The port is free again: the batched socket was closed.
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: server.address.port }).close();
  },
);

test(needsFfi("a batch handler that throws stops neither its socket nor the reactor"), async () => {
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    let calls = 0;
    let failing: () => void = () => {};
    const first = new Promise<void>((resolve) => failing = resolve);
    const second = new Promise<number[]>((resolve) => {
      void socket.serve((batch) => {
        if (++calls === 1) {
          failing(); // what waits on this runs once the throw below has reached the reactor
          throw new Error("a handler bug");
        }
        resolve([...batch.datagram(0)]);
        return false;
      });
    });
    await client.send(Uint8Array.of(1), socket.addr);
    await within(first, 5000, "first batch");
    await client.send(Uint8Array.of(2), socket.addr);
    deepEqual(await within(second, 5000, "second datagram served"), [2]);
    equal(calls, 2);
  } finally {
    client.close();
    socket.close();
  }
});

test(needsFfi("listenBatchedUdp() on ::1 serves IPv6 senders and answers them"), async () => {
  const socket = listenBatchedUdp({ hostname: "::1", port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
  try {
    equal(socket.addr.hostname, "::1");
    await client.send(Uint8Array.of(6), socket.addr);
    const [seen] = await collect(socket, 1, () => Uint8Array.of(66));
    deepEqual([seen!.from.hostname, seen!.from.port], ["::1", (client.addr as Deno.NetAddr).port]);
    deepEqual([...(await client.receive())[0]], [66]);
  } finally {
    client.close();
    socket.close();
  }
});

test(needsFfi("listenBatchedUdp() on :: takes IPv4 senders too, as Deno spells them"), async () => {
  const socket = listenBatchedUdp({ hostname: "::", port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await client.send(Uint8Array.of(4), { transport: "udp", hostname: "127.0.0.1", port: socket.addr.port });
    const [seen] = await collect(socket, 1, () => Uint8Array.of(44));
    deepEqual([seen!.from.hostname, seen!.from.port], [
      "::ffff:127.0.0.1",
      (client.addr as Deno.NetAddr).port,
    ]);
    deepEqual([...(await client.receive())[0]], [44]);
  } finally {
    client.close();
    socket.close();
  }
});

test(
  needsFfi("listenBatchedUdp() fails to bind as Deno does: in use, not on this host, not an address"),
  () => {
    const taken = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
    try {
      throws(
        () => listenBatchedUdp({ hostname: "::1", port: (taken.addr as Deno.NetAddr).port }),
        Deno.errors.AddrInUse,
      );
    } finally {
      taken.close();
    }
    // 192.0.2.1 (TEST-NET-1) is no address of this machine.
    throws(() => listenBatchedUdp({ hostname: "192.0.2.1", port: 0 }), Deno.errors.AddrNotAvailable);
    throws(() => listenBatchedUdp({ hostname: "localhost", port: 0 }), TypeError);
  },
);

test(
  needsFfi("an IPv6 upstream through the reactor: the pool's queries and replies over ::1"),
  async () => {
    const upstream = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
    const reactor = new UdpReactor();
    const socket = openReactorSocket(reactor, "::");
    try {
      const { received } = receiveInto(socket, 1);
      equal(socket.send(Uint8Array.of(1, 2), upstream.addr), true);
      const [asked, from] = await upstream.receive();
      deepEqual([...asked], [1, 2]);
      await upstream.send(Uint8Array.of(3, 4), from);
      const [reply] = await within(received, 5000, "reply from the IPv6 upstream");
      deepEqual(reply!.data, [3, 4]);
      deepEqual([reply!.from.hostname, reply!.from.port], ["::1", (upstream.addr as Deno.NetAddr).port]);
    } finally {
      socket.close();
      upstream.close();
      await reactor.close();
    }
  },
);

test(needsFfi("dnsd with udpIo batched on ::1 answers a local and a forwarded name"), async () => {
  const upstream = startFakeUpstream({ "forward.dnsd.test": { kind: "answer", address: "192.0.2.9" } });
  const server = startBatchedServer(upstream.address, 500, "::1");
  const client = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
  try {
    for (const [name, address] of [["example.com", "8.8.8.8"], ["forward.dnsd.test", "192.0.2.9"]]) {
      await client.send(queryBytes(name!, RRType.A), server.address);
      const answer = decodeMessage((await client.receive())[0]);
      deepEqual(answer.answers.map((r) => r.data), [{ type: "A", address }]);
    }
  } finally {
    client.close();
    await server.stop(500);
    await upstream.close();
  }
});

test(
  needsFfi("renew() gives an upstream socket a new random port for its next send, and refuses the old one"),
  async () => {
    const reactor = new UdpReactor();
    const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const socket = openReactorSocket(reactor);
    try {
      const { received, serving } = receiveInto(socket, 2);
      const ports: number[] = [];
      for (let n = 0; n < 3; n++) {
        equal(socket.send(Uint8Array.of(n), peer.addr), true);
        const [, from] = await peer.receive();
        ports.push((from as Deno.NetAddr).port);
        if (n < 2) equal(socket.renew?.(), true);
      }
      equal(new Set(ports).size, 3, `ports ${ports.join(", ")}`);
      // The first two ports are let go: only the third reaches the socket.
      const at = (port: number): Deno.NetAddr => ({ transport: "udp", hostname: "127.0.0.1", port });
      for (const port of ports) await peer.send(Uint8Array.of(port >> 8, port & 0xff), at(port));
      await peer.send(Uint8Array.of(0xff), at(ports[2]!));
      const seen = await within(received, 5000, "two datagrams on the newest port");
      deepEqual(seen.map(({ data }) => data), [[ports[2]! >> 8, ports[2]! & 0xff], [0xff]]);
      socket.close();
      await serving;
      equal(socket.renew?.(), false, "a closed socket cannot renew");
    } finally {
      socket.close();
      peer.close();
      await reactor.close();
    }
  },
);
