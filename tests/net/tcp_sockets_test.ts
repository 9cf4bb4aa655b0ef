/**
 * TcpSockets on real loopback connections: a socket found by its addresses is shut down (its
 * client reads the end of the stream), and a sweep of a port shuts down the idle ones, then the
 * idlest past the cap, and never the listener.
 * @module
 */
import assert from "node:assert/strict";
import { TcpSockets } from "../../lib/net/mod.ts";
import { test } from "../_limit.ts";
import { needsFfi } from "../_batched.ts";

/** Whether `conn` reads the end of its stream within `ms`. */
async function ended(conn: Deno.Conn, ms = 2_000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"open">((resolve) => (timer = setTimeout(() => resolve("open"), ms)));
  try {
    const read = conn.read(new Uint8Array(16)).then((count) => count === null, () => true);
    return (await Promise.race([read, late])) === true;
  } finally {
    clearTimeout(timer);
  }
}

async function pairs(count: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const clients: Deno.Conn[] = [];
  const accepted: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    clients.push(await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port }));
    accepted.push(await listener.accept());
  }
  return { listener, clients, accepted, local: listener.addr as Deno.NetAddr };
}

test({
  ...needsFfi("TcpSockets.sever shuts down the socket between two addresses, and no other"),
  async fn() {
    const sockets = TcpSockets.open()!;
    const { listener, clients, accepted, local } = await pairs(2);
    try {
      assert.equal(sockets.sever(local, clients[1]!.localAddr as Deno.NetAddr), true);
      assert.equal(await ended(clients[1]!), true);
      assert.equal(await ended(clients[0]!, 300), false);
      assert.equal(sockets.sever(local, { transport: "tcp", hostname: "127.0.0.1", port: 1 }), false);
    } finally {
      for (const conn of [...clients, ...accepted]) conn.close();
      listener.close();
      sockets.close();
    }
  },
});

test({
  ...needsFfi("TcpSockets.sweep shuts down idle connections, then the idlest past the cap"),
  async fn() {
    const sockets = TcpSockets.open()!;
    const { listener, clients, accepted, local } = await pairs(3);
    try {
      // Nothing idle for a minute, no cap reached: nothing shut.
      assert.deepEqual(sockets.sweep(local, 60_000, 10), { open: 3, closed: 0 });
      // A cap of 2: the idlest goes. Client 0 spoke last, so clients 1 and 2 are idler; one of them goes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await clients[0]!.write(new Uint8Array([1]));
      await accepted[0]!.read(new Uint8Array(4));
      assert.deepEqual(sockets.sweep(local, 60_000, 2), { open: 3, closed: 1 });
      assert.equal(await ended(clients[0]!, 300), false);
      // Idle past 200 ms: the rest go too, the listener stays.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(sockets.sweep(local, 200, 10).closed, 2);
      for (const client of clients) assert.equal(await ended(client), true);
      const late = await Deno.connect({ hostname: "127.0.0.1", port: local.port });
      late.close();
    } finally {
      for (const conn of [...clients, ...accepted]) conn.close();
      listener.close();
      sockets.close();
    }
  },
});
