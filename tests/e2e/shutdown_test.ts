/**
 * Graceful shutdown end to end: RunningServer.stop(graceMs) on 127.0.0.1 with a slow fake
 * upstream, and main.ts in a subprocess stopped by SIGTERM while a forwarded query is pending.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { PROCESS_TIMEOUT_MS, STAMP, startDnsd, within } from "../_dnsd_process.ts";
import { type Behaviour, startFakeUpstream } from "../_fake_upstream.ts";
import { connectTcp, header, query, WAIT_MS, waitUntil, withDnsd } from "../_tcp_client.ts";
import { exchange, udpAsk } from "../_udp_client.ts";
import { needsPermissions } from "../_tools.ts";

/** How long the upstream takes to answer the slow name. */
const SLOW_MS = 300;
/** The grace period: far longer than the slow answer, so a stop that waits it out shows. */
const GRACE_MS = 2_000;

const behaviours: Readonly<Record<string, Behaviour>> = {
  "slow.dnsd.test": { kind: "answer", address: "192.0.2.2", delayMs: SLOW_MS },
};

function addresses(bytes: Uint8Array): unknown[] {
  return decodeMessage(bytes).answers.map((record) => record.data);
}

test("stop() finishes queries in flight, refuses new ones as Not Ready, then closes", async (t) => {
  await withDnsd({ behaviours }, async ({ server, upstream }) => {
    const { port } = server.address;
    const tcp = await connectTcp(server.address);
    try {
      const overUdp = udpAsk(server.address, query("slow.dnsd.test", { id: 0x0001 }));
      await tcp.send(query("slow.dnsd.test", { id: 0x0002 }));
      await waitUntil(() => upstream.received.length === 2, "both queries to reach the upstream");

      const started = performance.now();
      const stopped = server.stop(GRACE_MS);

      await t.step("a UDP query during the drain gets SERVFAIL with EDE 14 (Not Ready)", async () => {
        const reply = decodeMessage(
          await udpAsk(server.address, query("local.dnsd.test", { id: 0x0003, edns: {} })),
        );
        equal(reply.id, 0x0003);
        equal(reply.rcode, Rcode.SERVFAIL);
        equal(reply.answers.length, 0);
        deepEqual(edeOf(reply.edns).map((ede) => ede.code), [14]);
        const plain = await udpAsk(server.address, query("local.dnsd.test", { id: 0x0004 }));
        deepEqual([header(plain).rcode, header(plain).arcount], [Rcode.SERVFAIL, 0]); // no EDNS, no OPT
      });
      await t.step("a new TCP connection during the drain is refused", async () => {
        await rejects(connectTcp(server.address), Deno.errors.ConnectionRefused);
      });
      await t.step("the queries in flight still get their answers", async () => {
        const udpReply = await overUdp;
        equal(header(udpReply).id, 0x0001);
        deepEqual(addresses(udpReply), [{ type: "A", address: "192.0.2.2" }]);
        const tcpReply = (await tcp.read())!;
        equal(header(tcpReply).id, 0x0002);
        deepEqual(addresses(tcpReply), [{ type: "A", address: "192.0.2.2" }]);
      });
      await t.step("then the sockets close, without waiting out the grace period", async () => {
        await within(stopped, WAIT_MS, () => "stop() did not settle");
        const took = performance.now() - started;
        ok(took < GRACE_MS, `stop() took ${took} ms`);
        equal(await tcp.read(), null);
        await rejects(
          Deno.connect({ transport: "tcp", hostname: "127.0.0.1", port }),
          Deno.errors.ConnectionRefused,
        );
        // The UDP port is free again: binding it proves the listening socket is closed.
        Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
        equal(server.tcpConnections(), 0);
      });
    } finally {
      tcp.close();
    }
  });
});

test(
  needsPermissions(["run", "read"], "dnsd answers a pending forwarded query on SIGTERM, then exits 0"),
  async () => {
    const upstream = startFakeUpstream(behaviours);
    try {
      const dnsd = await startDnsd((port) => [
        "--port",
        String(port),
        "--upstream",
        `127.0.0.1:${upstream.address.port}`,
        "--timeout",
        "3000",
      ]);
      try {
        const pending = exchange(dnsd.port, query("slow.dnsd.test", { id: 0x5151 }), PROCESS_TIMEOUT_MS);
        await waitUntil(() => upstream.received.length === 1, "dnsd to forward the query");
        dnsd.child.kill("SIGTERM");
        const reply = await pending;
        ok(reply, "no answer after SIGTERM");
        equal(header(reply).id, 0x5151);
        equal(header(reply).rcode, Rcode.NOERROR);
        deepEqual(addresses(reply), [{ type: "A", address: "192.0.2.2" }]);
        const status = await within(dnsd.child.status, PROCESS_TIMEOUT_MS, () => "dnsd ignored SIGTERM");
        const lines = await dnsd.stderr.drain(PROCESS_TIMEOUT_MS);
        equal(status.code, 0, lines.join("\n"));
        equal(status.signal, null);
        match(lines.at(-1)!, new RegExp(String.raw`^${STAMP} - INFO - DNS server stopped\.$`));
      } finally {
        await dnsd.stop();
      }
    } finally {
      await upstream.close();
    }
  },
);
