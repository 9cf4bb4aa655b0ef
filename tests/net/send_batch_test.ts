/**
 * The listening socket's replies in one sendmmsg(2) (lib/net/send_batch.ts): each reply reaches its
 * own client with its own octets; one the kernel refuses (a client port of 0) is told with its
 * address and errno, and those after it still go; a full batch says so. Then through a served
 * socket: a batch of queries from many clients, each answered. Needs --allow-ffi.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { SendBatch } from "../../lib/net/send_batch.ts";
import { listenBatchedUdp, sockaddr, UdpReactor } from "../../lib/net/mod.ts";
import { needsFfi } from "../_batched.ts";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const EINVAL = 22;

/** A client socket on 127.0.0.1 and its struct sockaddr. */
function client(): { conn: Deno.DatagramConn; to: Uint8Array } {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return { conn, to: sockaddr("127.0.0.1", (conn.addr as Deno.NetAddr).port) };
}

test(needsFfi("a send batch delivers each reply to its client, and tells of one refused"), async () => {
  const reactor = new UdpReactor();
  const fd = reactor.libc.symbols.socket(AF_INET, SOCK_DGRAM, 0);
  const clients = [client(), client(), client()];
  try {
    const batch = new SendBatch();
    ok(batch.add(Uint8Array.of(1, 1), clients[0]!.to));
    ok(batch.add(Uint8Array.of(2, 2, 2), clients[1]!.to));
    const nowhere = sockaddr("127.0.0.1", 0); // a port no datagram can go to: EINVAL
    ok(batch.add(Uint8Array.of(9), nowhere));
    ok(batch.add(Uint8Array.of(3, 3, 3, 3), clients[2]!.to));
    equal(batch.count, 4);
    const refused: { to: number[]; errno: number }[] = [];
    batch.send(reactor.libc, fd, (to, errno) => refused.push({ to: [...to], errno }));
    equal(batch.count, 0);
    deepEqual(refused, [{ to: [...nowhere], errno: EINVAL }]);
    const got = await Promise.all(clients.map(({ conn }) => conn.receive()));
    deepEqual(got.map(([data]) => [...data]), [[1, 1], [2, 2, 2], [3, 3, 3, 3]]);
  } finally {
    for (const { conn } of clients) conn.close();
    reactor.libc.symbols.close(fd);
    await reactor.close();
  }
});

test(needsFfi("a send batch takes 64 replies and 256 KiB, no more until sent"), () => {
  const to = sockaddr("127.0.0.1", 53);
  const batch = new SendBatch();
  for (let i = 0; i < 64; i++) ok(batch.add(new Uint8Array(100), to), `reply ${i + 1} taken`);
  equal(batch.add(new Uint8Array(100), to), false);
  const roomy = new SendBatch();
  ok(roomy.add(new Uint8Array(200_000), to));
  equal(roomy.add(new Uint8Array(62_145), to), false, "past 262,144 octets");
  ok(roomy.add(new Uint8Array(62_144), to));
  equal(new SendBatch().add(new Uint8Array(262_145), to), false, "more than the whole room");
});

test(needsFfi("a batched listener answers every client of one batch, each its own reply"), async () => {
  const reactor = new UdpReactor();
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0, reactor });
  const served = socket.serve((batch) => {
    for (let i = 0; i < batch.count; i++) ok(batch.replyTo(i, batch.datagram(i).slice().reverse()));
    return false;
  });
  const clients = Array.from({ length: 40 }, () => client());
  try {
    // All sent before any is read: they arrive together, and most are answered from one batch.
    for (const [i, { conn }] of clients.entries()) await conn.send(Uint8Array.of(i, 0, 255), socket.addr);
    const got = await Promise.all(clients.map(({ conn }) => conn.receive()));
    deepEqual(got.map(([data]) => [...data]), clients.map((_, i) => [255, 0, i]));
  } finally {
    for (const { conn } of clients) conn.close();
    socket.close();
    await served;
    await reactor.close();
  }
});
