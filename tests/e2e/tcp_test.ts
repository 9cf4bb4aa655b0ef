/**
 * DNS over TCP end to end (RFC 7766, RFC 1035 section 4.2.2): startServer() on 127.0.0.1 with a
 * fake upstream, and raw clients that frame, pipeline, dribble, stall, half-close and crowd.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { RRType } from "../../lib/proto/types.ts";
import type { Behaviour } from "../_fake_upstream.ts";
import { dig, kdig } from "../_nsd.ts";
import {
  connectTcp,
  framed,
  header,
  idOf,
  query,
  type TcpClient,
  txtStrings,
  waitUntil,
  withDnsd,
} from "../_tcp_client.ts";
import { needsTool } from "../_tools.ts";

/** How long the slow upstream name takes: longer than the short idle timeout below. */
const SLOW_MS = 400;
/** The idle timeout for the tests that wait for it. */
const IDLE_MS = 200;

const behaviours: Readonly<Record<string, Behaviour>> = {
  "slow.dnsd.test": { kind: "answer", address: "192.0.2.2", delayMs: SLOW_MS },
};

const decoder = new TextDecoder();

/** Opens `count` connections, one after another. */
async function connections(address: Deno.NetAddr, count: number): Promise<TcpClient[]> {
  const clients: TcpClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await connectTcp(address));
  return clients;
}

function addressOf(reply: Uint8Array): unknown[] {
  return decodeMessage(reply).answers.map((record) => record.data);
}

/** Resolves once `Date.now()` has moved past `since`, so two events get distinct millisecond stamps. */
function nextMillisecond(since: number): Promise<void> {
  return waitUntil(() => Date.now() > since, "the clock to tick");
}

test("dnsd answers a framed query over TCP with every header field right", async () => {
  await withDnsd({}, async ({ server }) => {
    const client = await connectTcp(server.address);
    try {
      const reply = await client.ask(query("Local.DNSD.test", { id: 0xbeef }));
      deepEqual(header(reply), {
        id: 0xbeef,
        qr: 1,
        opcode: 0,
        aa: 1,
        tc: 0,
        rd: 1,
        ra: 1,
        z: 0,
        ad: 0,
        cd: 0,
        rcode: 0,
        qdcount: 1,
        ancount: 1,
        nscount: 0,
        arcount: 0,
      });
      const message = decodeMessage(reply);
      deepEqual(message.questions, [{ name: "Local.DNSD.test", type: RRType.A, class: 1 }]);
      deepEqual(message.answers, [
        { name: "Local.DNSD.test", class: 1, ttl: 300, data: { type: "A", address: "192.0.2.53" } },
      ]);
      equal(server.tcpConnections(), 1);
    } finally {
      client.close();
    }
  });
});

test(needsTool("dig", "dig +tcp gets a mapped name from dnsd over TCP"), async () => {
  await withDnsd({}, async ({ server }) => {
    const { port } = server.address;
    const { text: out } = await dig(port, "+tcp", "local.dnsd.test");
    match(out, /status: NOERROR/);
    match(out, /^local\.dnsd\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.53$/m);
    match(out, new RegExp(String.raw`^;; SERVER: 127\.0\.0\.1#${port}\(127\.0\.0\.1\) \(TCP\)$`, "m"));
  });
});

test(needsTool("kdig", "kdig +tcp gets a mapped name from dnsd over TCP"), async () => {
  await withDnsd({}, async ({ server }) => {
    const { port } = server.address;
    const { text: out } = await kdig(port, "+tcp", "local.dnsd.test");
    match(out, /status: NOERROR/);
    match(out, /^local\.dnsd\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.53$/m);
    match(out, new RegExp(String.raw`^;; From 127\.0\.0\.1@${port}\(TCP\)`, "m"));
  });
});

test("dnsd answers pipelined queries on one connection as each completes", async (t) => {
  await withDnsd({ behaviours }, async ({ server }) => {
    const client = await connectTcp(server.address);
    try {
      await t.step("several queries in one write are all answered, IDs matched", async () => {
        const names = new Map([[1, "local.dnsd.test"], [2, "small.dnsd.test"], [3, "medium.dnsd.test"]]);
        const all = [...names].map(([id, name]) => framed(query(name, { id, type: RRType.TXT })));
        await client.write(Uint8Array.from(all.flatMap((bytes) => [...bytes])));
        const seen = new Map<number, string>();
        for (let i = 0; i < names.size; i++) {
          const reply = (await client.read())!;
          seen.set(idOf(reply), decodeMessage(reply).questions[0]!.name);
        }
        deepEqual(seen, names);
      });
      await t.step("a local answer overtakes a slow forwarded one sent before it", async () => {
        const slow = framed(query("slow.dnsd.test", { id: 0x51 }));
        const local = framed(query("local.dnsd.test", { id: 0x10 }));
        const both = new Uint8Array(slow.length + local.length);
        both.set(slow);
        both.set(local, slow.length);
        await client.write(both);
        const first = (await client.read())!;
        const second = (await client.read())!;
        equal(idOf(first), 0x10);
        deepEqual(addressOf(first), [{ type: "A", address: "192.0.2.53" }]);
        equal(idOf(second), 0x51);
        deepEqual(addressOf(second), [{ type: "A", address: "192.0.2.2" }]);
      });
    } finally {
      client.close();
    }
  });
});

test("dnsd answers four slow queries in two rounds with maxPipelined 2", async () => {
  await withDnsd({ behaviours, tcp: { maxPipelined: 2 } }, async ({ server, upstream }) => {
    const client = await connectTcp(server.address);
    try {
      const started = performance.now();
      const frames = [1, 2, 3, 4].map((id) => [...framed(query("slow.dnsd.test", { id }))]);
      await client.write(Uint8Array.from(frames.flat()));
      const ids: number[] = [];
      const at: number[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(idOf((await client.read())!));
        at.push(performance.now() - started);
      }
      deepEqual(ids.toSorted(), [1, 2, 3, 4]);
      // 4 queries; the first two are asked again too, since 400 ms outlasts the first retransmission
      // timeout (376 ms, before any reply was timed: lib/upstream/rtt.ts).
      ok(upstream.received.length >= 4 && upstream.received.length <= 6, `${upstream.received.length} sent`);
      // Reading pauses at two queries in progress, so the last two wait for the first two.
      ok(at[3]! >= 2 * SLOW_MS - 20, `the fourth answer came after ${at[3]} ms, in one round`);
    } finally {
      client.close();
    }
  });
});

test("dnsd answers a query whose octets arrive in several writes", async () => {
  await withDnsd({}, async ({ server }) => {
    const client = await connectTcp(server.address);
    try {
      const bytes = framed(query("local.dnsd.test", { id: 0x0d0d }));
      // Split inside the length prefix, inside the header and inside the name. A short pause
      // between writes is the only way to make the server's reads see the pieces apart.
      for (const [start, end] of [[0, 1], [1, 2], [2, 7], [7, 20], [20, bytes.length]] as const) {
        await client.write(bytes.subarray(start, end));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const reply = (await client.read())!;
      equal(idOf(reply), 0x0d0d);
      deepEqual(addressOf(reply), [{ type: "A", address: "192.0.2.53" }]);
    } finally {
      client.close();
    }
  });
});

test("dnsd closes idle TCP connections after the idle timeout", async (t) => {
  await withDnsd({ behaviours, tcp: { idleTimeoutMs: IDLE_MS } }, async ({ server }) => {
    await t.step("an idle connection is closed", async () => {
      const client = await connectTcp(server.address);
      try {
        await client.ask(query("local.dnsd.test"));
        const idleFrom = performance.now();
        equal(await client.read(), null);
        const waited = performance.now() - idleFrom;
        ok(waited >= IDLE_MS - 20, `closed after ${waited} ms idle`);
      } finally {
        client.close();
      }
    });
    await t.step("a connection with a query in progress is not", async () => {
      const client = await connectTcp(server.address);
      try {
        await client.send(query("slow.dnsd.test", { id: 0x5555 }));
        const reply = await client.read(); // SLOW_MS is twice the idle timeout
        ok(reply, "closed with a query in progress");
        equal(idOf(reply), 0x5555);
        deepEqual(addressOf(reply), [{ type: "A", address: "192.0.2.2" }]);
        equal(await client.read(), null); // idle once answered
      } finally {
        client.close();
      }
    });
    await t.step("a half-written frame is closed and nothing leaks", async () => {
      await waitUntil(() => server.tcpConnections() === 0, "no connections");
      const client = await connectTcp(server.address);
      try {
        // The length says 100 octets; only 10 follow, then silence.
        await client.write(Uint8Array.from([0, 100, ...new Uint8Array(10)]));
        await waitUntil(() => server.tcpConnections() === 1, "the connection to be accepted");
        equal(await client.read(), null);
        await waitUntil(() => server.tcpConnections() === 0, "the connection to be released");
      } finally {
        client.close();
      }
    });
  });
});

test("dnsd closes a connection that sends a zero-length frame", async () => {
  await withDnsd({}, async ({ server }) => {
    const client = await connectTcp(server.address);
    try {
      await client.ask(query("local.dnsd.test")); // a working connection
      await client.write(Uint8Array.from([0, 0]));
      equal(await client.read(), null);
      await waitUntil(() => server.tcpConnections() === 0, "the connection to be released");
    } finally {
      client.close();
    }
  });
});

test("dnsd keeps to maxConnections", async (t) => {
  await t.step("a fourth connection closes the longest-idle one", async () => {
    await withDnsd({ tcp: { maxConnections: 3 } }, async ({ server }) => {
      const [a, b, c] = await connections(server.address, 3);
      let d: TcpClient | undefined;
      try {
        // A, B and C each finish a query, in that order, on distinct milliseconds: A is the longest idle.
        for (const client of [a!, b!, c!]) {
          await client.ask(query("local.dnsd.test"));
          await nextMillisecond(Date.now());
        }
        d = await connectTcp(server.address);
        const reply = await d.ask(query("local.dnsd.test", { id: 0x0d }));
        equal(idOf(reply), 0x0d);
        equal(await a!.read(), null);
        for (const client of [b!, c!]) equal(idOf(await client.ask(query("local.dnsd.test", { id: 7 }))), 7);
        equal(server.tcpConnections(), 3);
      } finally {
        for (const client of [a, b, c, d]) client?.close();
      }
    });
  });

  await t.step("with no connection idle, the new one is closed", async () => {
    await withDnsd({ behaviours, tcp: { maxConnections: 3 } }, async ({ server, upstream }) => {
      const busy = await connections(server.address, 3);
      let extra: TcpClient | undefined;
      try {
        for (const [i, client] of busy.entries()) await client.send(query("slow.dnsd.test", { id: i }));
        await waitUntil(() => upstream.received.length === 3, "three queries in progress");
        extra = await connectTcp(server.address);
        equal(await extra.read(), null);
        equal(server.tcpConnections(), 3);
        for (const [i, client] of busy.entries()) {
          const reply = (await client.read())!;
          equal(idOf(reply), i);
          deepEqual(addressOf(reply), [{ type: "A", address: "192.0.2.2" }]);
        }
      } finally {
        for (const client of [...busy, extra]) client?.close();
      }
    });
  });
});

test("dnsd answers a client that half-closes after sending", async (t) => {
  await withDnsd({ behaviours }, async ({ server }) => {
    for (
      const [name, address] of [["local.dnsd.test", "192.0.2.53"], ["slow.dnsd.test", "192.0.2.2"]] as const
    ) {
      await t.step(name, async () => {
        const client = await connectTcp(server.address);
        try {
          await client.send(query(name, { id: 0x4242 }));
          await client.closeWrite();
          const reply = (await client.read())!;
          equal(idOf(reply), 0x4242);
          deepEqual(addressOf(reply), [{ type: "A", address }]);
          equal(await client.read(), null); // and then the server closes too
        } finally {
          client.close();
        }
      });
    }
  });
});

test("dnsd sends a response over 1232 octets whole over TCP with TC=0", async (t) => {
  await withDnsd({}, async ({ server }) => {
    const client = await connectTcp(server.address);
    try {
      for (const edns of [undefined, { udpPayloadSize: 1232 }]) {
        await t.step(edns ? "with EDNS 1232" : "without EDNS", async () => {
          const reply = await client.ask(
            query("big.dnsd.test", { type: RRType.TXT, ...(edns ? { edns } : {}) }),
          );
          ok(reply.length > 1232, `only ${reply.length} octets`);
          equal(header(reply).tc, 0);
          const texts = decodeMessage(reply).answers.map((record) =>
            record.data.type === "TXT" ? record.data.strings.map((s) => decoder.decode(s)).join("") : ""
          );
          deepEqual(texts, txtStrings(40));
        });
      }
    } finally {
      client.close();
    }
  });
});
