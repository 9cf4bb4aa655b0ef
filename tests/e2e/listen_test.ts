/**
 * dnsd on several addresses at once, over the wire: `startServer()` with `listen` on 127.0.0.1 and
 * ::1, port 0, answers over UDP and TCP on each, with Deno's sockets and with batched UDP; one
 * address that cannot be bound fails the start, names that address, and leaves nothing bound. The
 * dnsd process told to listen on 0.0.0.0 and :: on one port binds [::] alone where it takes IPv4
 * too, and answers both families.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { ListenError, type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import mappings from "../../mappings.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { connectTcp, waitUntil } from "../_tcp_client.ts";
import { freeUdpPort, queryBytes } from "../_udp_client.ts";
import { needsFfi } from "../_batched.ts";
import { PROCESS_TIMEOUT_MS, spawnDnsd } from "../_dnsd_process.ts";

const WAIT_MS = 3_000;

/** Sends one datagram to `server` from a socket of its family, and returns the reply. */
async function udpAskAny(server: Deno.NetAddr, bytes: Uint8Array): Promise<Uint8Array> {
  const hostname = server.hostname.includes(":") ? "::1" : "127.0.0.1";
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const timer = setTimeout(() => conn.close(), WAIT_MS);
  try {
    await conn.send(bytes, { transport: "udp", hostname: server.hostname, port: server.port });
    const [reply] = await conn.receive();
    return reply;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
}

async function tcpAsk(server: Deno.NetAddr, bytes: Uint8Array): Promise<Uint8Array> {
  const client = await connectTcp(server);
  try {
    return await client.ask(bytes, WAIT_MS);
  } finally {
    client.close();
  }
}

/** `bytes` with its ID set to `id`. */
function withId(bytes: Uint8Array, id: number): Uint8Array {
  const copy = bytes.slice();
  copy[0] = id >> 8;
  copy[1] = id & 0xff;
  return copy;
}

/** The A addresses of an answer. */
function addressesOf(reply: Uint8Array): string[] {
  return decodeMessage(reply).answers.flatMap((r) => (r.data.type === "A" ? [r.data.address] : []));
}

async function withServer(
  udpIo: "deno" | "batched",
  fn: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const upstream = startFakeUpstream({});
  let server: RunningServer | undefined;
  try {
    server = startServer({
      host: "ignored when listen is given",
      port: 1,
      listen: [{ hostname: "127.0.0.1", port: 0 }, { hostname: "::1", port: 0 }],
      upstreams: [upstream.address],
      timeoutMs: 1_000,
      localData: fixedData({ mappings: mappingRecords(mappings) }),
      udpIo,
    });
    await fn(server);
  } finally {
    await server?.stop(0);
    await server?.finished;
    await upstream.close();
  }
}

for (const udpIo of ["deno", "batched"] as const) {
  const name =
    `startServer() with listen on 127.0.0.1 and ::1 answers over UDP and TCP on both (${udpIo} UDP)`;
  test(udpIo === "batched" ? needsFfi(name) : { name, ignore: false }, async () => {
    await withServer(udpIo, async (server) => {
      assert.equal(server.addresses.length, 2);
      const [v4, v6] = server.addresses as [Deno.NetAddr, Deno.NetAddr];
      assert.deepEqual([v4.hostname, v6.hostname], ["127.0.0.1", "::1"]);
      assert.notEqual(v4.port, 0);
      assert.equal(v6.port, v4.port, "port 0 gives every address one port");
      assert.deepEqual(server.address, v4, "address stays the first");
      let id = 0x4100;
      for (const address of server.addresses) {
        const udp = await udpAskAny(address, withId(queryBytes("example.com", 1), ++id));
        assert.deepEqual(addressesOf(udp), ["8.8.8.8"], `UDP on ${address.hostname}`);
        assert.equal(decodeMessage(udp).id, id);
        const tcp = await tcpAsk(
          { ...address, transport: "tcp" },
          withId(queryBytes("example.com", 1), ++id),
        );
        assert.deepEqual(addressesOf(tcp), ["8.8.8.8"], `TCP on ${address.hostname}`);
      }
      // tcpConnections() counts over every listener.
      const open = await Promise.all(server.addresses.map((a) => connectTcp({ ...a, transport: "tcp" })));
      await waitUntil(() => server.tcpConnections() === 2, "a TCP connection on each address");
      for (const client of open) client.close();
      await waitUntil(() => server.tcpConnections() === 0, "both TCP connections to close");
    });
  });
}

test("startServer() fails naming the address it cannot bind, and leaves none of the others bound", () => {
  // ::1 on a port whose UDP socket is held: 127.0.0.1 binds first, and must be let go. The port is
  // one free on 127.0.0.1 (below the ephemeral range): a kernel-picked ::1 port may be taken there.
  const port = freeUdpPort();
  const holder = Deno.listenDatagram({ transport: "udp", hostname: "::1", port });
  try {
    assert.throws(
      () =>
        startServer({
          host: "127.0.0.1",
          port,
          listen: [{ hostname: "127.0.0.1", port }, { hostname: "::1", port }],
          upstreams: [],
          timeoutMs: 100,
          localData: fixedData({}),
        }),
      (error) =>
        error instanceof ListenError && error.cause instanceof Deno.errors.AddrInUse &&
        error.message === `cannot listen on [::1]:${port}: address already in use`,
    );
    // 127.0.0.1:port is free again, over UDP and TCP.
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
    Deno.listen({ transport: "tcp", hostname: "127.0.0.1", port }).close();
  } finally {
    holder.close();
  }
});

test(
  needsFfi("dnsd --host 0.0.0.0 --host :: on one port: [::] takes both families, over UDP and TCP", ["run"]),
  async () => {
    let bindv6only = "0";
    try {
      bindv6only = Deno.readTextFileSync("/proc/sys/net/ipv6/bindv6only").trim();
    } catch {
      // not Linux: the default
    }
    const port = freeUdpPort();
    const dnsd = spawnDnsd([
      "--host",
      "0.0.0.0",
      "--host",
      "::",
      "--port",
      String(port),
      "--upstream",
      "127.0.0.1:9",
    ]);
    try {
      if (bindv6only !== "0") {
        // IPv6 wildcard sockets take IPv6 only here: both are bound, as given.
        await dnsd.stderr.waitFor(
          new RegExp(`DNS server is running on 0\\.0\\.0\\.0:${port}$`),
          PROCESS_TIMEOUT_MS,
        );
        return;
      }
      await dnsd.stderr.waitFor(
        new RegExp(`INFO - 0\\.0\\.0\\.0:${port} is served by \\[::\\]:${port}, which takes IPv4 too`),
        PROCESS_TIMEOUT_MS,
      );
      await dnsd.stderr.waitFor(
        new RegExp(`INFO - DNS server is running on \\[::\\]:${port}$`),
        PROCESS_TIMEOUT_MS,
      );
      const localhost = queryBytes("localhost", 1);
      for (const hostname of ["127.0.0.1", "::1"]) {
        const server: Deno.NetAddr = { transport: "udp", hostname, port };
        assert.deepEqual(addressesOf(await udpAskAny(server, withId(localhost, 1))), ["127.0.0.1"], hostname);
        assert.deepEqual(
          addressesOf(await tcpAsk({ ...server, transport: "tcp" }, withId(localhost, 2))),
          ["127.0.0.1"],
          hostname,
        );
      }
      assert.ok(!dnsd.stderr.seen.some((line) => line.includes("address already in use")));
    } finally {
      await dnsd.stop();
    }
  },
);
