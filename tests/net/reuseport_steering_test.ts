/**
 * Steering a SO_REUSEPORT group by the query's name (lib/net/reuseport_steering.ts): the hash in
 * JavaScript on real query bytes, the program's shape, and the kernel running the program on
 * batched sockets (`steerAcross`): each query reaches the socket the hash names, whatever its
 * source port and the case of its name. dnsd's workers over it: tests/e2e/workers_test.ts.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { type DatagramSocket, listenBatchedUdp, UdpReactor } from "../../lib/net/mod.ts";
import { STEERED_OCTETS, steeredIndex, steeringProgram } from "../../lib/net/reuseport_steering.ts";
import { RRType } from "../../lib/proto/types.ts";
import { needsFfi } from "../_batched.ts";
import { queryBytes } from "../_udp_client.ts";

const EXAMPLE_COM_A = [
  [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0],
  [7, ...new TextEncoder().encode("example"), 3, ...new TextEncoder().encode("com"), 0, 0, 1, 0, 1],
].flat();

test("the steering hash: case folded, the name's octets only, its first 64", () => {
  const upper = queryBytes("WWW.Example.ORG", RRType.A);
  for (let count = 2; count <= 8; count++) {
    equal(steeredIndex(upper, count), steeredIndex(queryBytes("www.example.org", RRType.AAAA), count));
  }
  // What follows the name (type, class, EDNS, cookies) is not hashed.
  const withEdns = queryBytes("www.example.org", RRType.A, { edns: false });
  equal(steeredIndex(withEdns, 7), steeredIndex(upper, 7));
  // A real query's bytes: FNV-1a of its name's octets, each OR 0x20, then mixed, as the kernel computes it.
  let hash = 0x811c9dc5;
  for (const octet of EXAMPLE_COM_A.slice(12, 24)) {
    hash = Math.imul((hash ^ (octet | 0x20)) >>> 0, 0x01000193) >>> 0;
  }
  const mixed = Math.imul((hash ^ (hash >>> 16)) >>> 0, 0x045d9f3b) >>> 0;
  equal(steeredIndex(Uint8Array.from(EXAMPLE_COM_A), 5), ((mixed ^ (mixed >>> 16)) >>> 0) % 5);
  // Names alike for their first 64 octets go together; a datagram with no name goes somewhere.
  const long = (tail: string) => queryBytes(`${"a".repeat(62)}.${tail}`, RRType.A);
  equal(steeredIndex(long("x.org"), 97), steeredIndex(long("y.net"), 97));
  ok(STEERED_OCTETS === 64);
  equal(
    steeredIndex(new Uint8Array(12), 3),
    steeredIndex(Uint8Array.of(...new Array(12).fill(0), 0, 0, 1), 3),
  );
});

test("the steering hash spreads names evenly", () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[steeredIndex(queryBytes(`host${i}.example.org`, RRType.A), 4)]!++;
  for (const count of counts) ok(count > 900 && count < 1100, JSON.stringify(counts));
});

test("the steering program: a step per octet, then the hash modulo the group's size", () => {
  const program = steeringProgram(3);
  equal(program.length, 8 * (4 + 12 * STEERED_OCTETS + 10));
  const view = new DataView(program.buffer);
  const at = (index: number) => [view.getUint16(index * 8, true), view.getUint32(index * 8 + 4, true)];
  const last = program.length / 8 - 1;
  deepEqual(at(0), [0x80, 0]); // A = the datagram's length
  deepEqual(at(last - 1), [0x94, 3]); // A %= 3
  deepEqual(at(last), [0x16, 0]); // return A
});

/**
 * Sends `names` to `port`, each from a fresh socket (a fresh source port, which alone would spread
 * them), each query's ID its index plus `first` (the ID tells them apart); the IDs by the socket
 * the hash names among `count`.
 */
async function sendNames(
  port: number,
  names: readonly string[],
  first: number,
  count: number,
): Promise<number[][]> {
  const expected: number[][] = Array.from({ length: count }, () => []);
  for (const [i, name] of names.entries()) {
    const query = queryBytes(name, RRType.A);
    query.set([(first + i) >> 8, (first + i) & 0xff]);
    expected[steeredIndex(query, count)]!.push(first + i);
    const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      await client.send(query, { transport: "udp", hostname: "127.0.0.1", port });
    } finally {
      client.close();
    }
  }
  return expected;
}

/** A socket that opens its port's group (as the main thread's does), steered across `steerAcross`. */
function openGroup(reactor: UdpReactor, steerAcross = 1): DatagramSocket {
  return listenBatchedUdp({
    hostname: "127.0.0.1",
    port: 0,
    reactor,
    reusePort: true,
    steerAcross,
    opensGroup: true,
  });
}

/** Two batched sockets in one group, steered: which one each datagram reached. */
async function steeredPair(send: (port: number) => Promise<void>, count: number): Promise<number[][]> {
  const reactor = new UdpReactor();
  const first = openGroup(reactor, 2);
  const second = listenBatchedUdp({ hostname: "127.0.0.1", port: first.addr.port, reactor, reusePort: true });
  const seen: number[][] = [[], []];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => done = resolve);
  const serve = (socket: DatagramSocket, index: number) =>
    socket.serve((batch) => {
      for (let i = 0; i < batch.count; i++) {
        seen[index]!.push(batch.datagram(i)[0]! << 8 | batch.datagram(i)[1]!);
      }
      if (seen[0]!.length + seen[1]!.length >= count) done();
      return false;
    });
  const serving = [serve(first, 0), serve(second, 1)];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await send(first.addr.port);
    await Promise.race([
      all,
      new Promise((_, reject) => timer = setTimeout(() => reject(new Error(`${count} not received`)), 5000)),
    ]);
  } finally {
    clearTimeout(timer);
    first.close();
    second.close();
    await Promise.allSettled(serving);
    await reactor.close();
  }
  return seen;
}

test(needsFfi("the kernel runs the program: each name to its socket, from any source port"), async () => {
  const names = Array.from(
    { length: 40 },
    (_, i) => (i % 2 ? `NAME${i}.Example.test` : `name${i}.example.test`),
  );
  let expected: number[][] = [];
  const seen = await steeredPair(async (port) => {
    expected = await sendNames(port, names, 0, 2);
  }, names.length);
  ok(expected[0]!.length > 0 && expected[1]!.length > 0, "the names hash to both");
  deepEqual(seen.map((ids) => ids.sort((a, b) => a - b)), expected);
});

test(needsFfi("steer(): a group steered to its first socket alone, then to both"), async () => {
  const reactor = new UdpReactor();
  const first = openGroup(reactor);
  const second = listenBatchedUdp({ hostname: "127.0.0.1", port: first.addr.port, reactor, reusePort: true });
  equal(second.steer, undefined, "a socket that joined a group cannot steer it");
  const seen: number[][] = [[], []];
  let wanted = 0;
  let arrived: () => void = () => {};
  const serve = (socket: DatagramSocket, index: number) =>
    socket.serve((batch) => {
      for (let i = 0; i < batch.count; i++) {
        seen[index]!.push(batch.datagram(i)[0]! << 8 | batch.datagram(i)[1]!);
      }
      if (seen[0]!.length + seen[1]!.length >= wanted) arrived();
      return false;
    });
  const serving = [serve(first, 0), serve(second, 1)];
  const received = async (count: number) => {
    wanted = count;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = new Promise<void>((resolve) => arrived = resolve);
    if (seen[0]!.length + seen[1]!.length >= count) return;
    await Promise.race([
      all,
      new Promise((_, reject) => timer = setTimeout(() => reject(new Error(`${count} not received`)), 5000)),
    ]).finally(() => clearTimeout(timer));
  };
  const names = Array.from({ length: 40 }, (_, i) => `name${i}.example.test`);
  try {
    await sendNames(first.addr.port, names, 0, 1);
    await received(40);
    deepEqual(seen.map((ids) => ids.length), [40, 0]);
    ok(first.steer!(2));
    const expected = await sendNames(first.addr.port, names, 100, 2);
    await received(80);
    ok(expected[0]!.length > 0 && expected[1]!.length > 0, "the names hash to both");
    deepEqual(seen.map((ids) => ids.filter((id) => id >= 100).sort((a, b) => a - b)), expected);
    ok(first.steer!(1));
    await sendNames(first.addr.port, names, 200, 1);
    await received(120);
    equal(seen[1]!.filter((id) => id >= 200).length, 0, "back to the first alone");
  } finally {
    first.close();
    second.close();
    await Promise.allSettled(serving);
    await reactor.close();
  }
  equal(first.steer!(2), false, "a closed socket steers nothing");
});

test(needsFfi("a socket that opens a group wants its port free; one that joins it does not"), async () => {
  const reactor = new UdpReactor();
  const opened = openGroup(reactor);
  const port = opened.addr.port;
  const sockets = [opened];
  try {
    // A second dnsd on the port: `address already in use`, not a share of its queries.
    for (const steerAcross of [1, 0]) {
      try {
        sockets.push(
          listenBatchedUdp({
            hostname: "127.0.0.1",
            port,
            reactor,
            reusePort: true,
            steerAcross,
            opensGroup: true,
          }),
        );
        ok(false, "a second group opened on a port in use");
      } catch (error) {
        ok(error instanceof Deno.errors.AddrInUse, String(error));
      }
    }
    // A worker of this one joins.
    sockets.push(listenBatchedUdp({ hostname: "127.0.0.1", port, reactor, reusePort: true }));
    equal(sockets.at(-1)!.addr.port, port);
  } finally {
    for (const socket of sockets) socket.close();
    await reactor.close();
  }
});
