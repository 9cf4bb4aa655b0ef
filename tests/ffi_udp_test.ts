/**
 * Batched UDP (lib/ffi_udp.ts): recvmmsg through FFI, and dnsd serving with `udpIo: "batched"`.
 * Needs --allow-ffi (the README's test command has it); skipped with the reason without it.
 * @module
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { decodeMessage } from "../lib/codec.ts";
import { listenBatchedUdp } from "../lib/ffi_udp.ts";
import { Rcode, RRType } from "../lib/types.ts";
import { needsFfi, startBatchedServer } from "./_batched.ts";
import { startFakeUpstream } from "./_fake_upstream.ts";
import { openUdpClient, queryBytes } from "./_udp_client.ts";

Deno.test(
  needsFfi("listenBatchedUdp() takes a burst of datagrams in order, with their senders"),
  async () => {
    const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
    const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const to = socket.addr;
      // More than one batch (64) sent before the server reads any.
      for (let i = 0; i < 100; i++) await client.send(Uint8Array.of(i, 0xaa), to);
      for (let i = 0; i < 100; i++) {
        const [data, from] = await socket.receive();
        deepEqual([...data], [i, 0xaa]);
        equal((from as Deno.NetAddr).port, (client.addr as Deno.NetAddr).port);
        equal(await socket.send(Uint8Array.of(i, 0xbb), from), 2);
      }
      for (let i = 0; i < 100; i++) deepEqual([...(await client.receive())[0]], [i, 0xbb]);
    } finally {
      client.close();
      socket.close();
    }
  },
);

Deno.test(needsFfi("listenBatchedUdp() copies into the buffer it is given"), async () => {
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await client.send(Uint8Array.of(1, 2, 3), socket.addr);
    const buffer = new Uint8Array(64);
    const [data] = await socket.receive(buffer);
    equal(data.buffer, buffer.buffer);
    deepEqual([...data], [1, 2, 3]);
  } finally {
    client.close();
    socket.close();
  }
});

Deno.test(needsFfi("listenBatchedUdp() close() ends a pending receive with BadResource"), async () => {
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0 });
  const pending = socket.receive();
  const closedAt = performance.now();
  socket.close();
  await rejects(pending, Deno.errors.BadResource);
  // The blocked call wakes every 100 ms to look; well under a second either way.
  ok(performance.now() - closedAt < 1000);
  await rejects(socket.receive(), Deno.errors.BadResource);
});

Deno.test(
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
