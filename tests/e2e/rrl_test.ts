/**
 * Response rate limiting end to end, through startServer() on 127.0.0.1 with `--rate-limit 20`
 * and `--rate-limit-prefix 32` (127.0.0.2 and 127.0.0.3 share a /24): a flooder on 127.0.0.2 sends
 * ten times its limit while a normal client on 127.0.0.3 keeps asking. Half the flood asks one name
 * again and again (memo hits, sent from the receive loop), half asks a new name each time (answered
 * asynchronously), so both places a UDP answer is sent are limited. Over TCP nothing is limited.
 * The amplification factor (response octets over query octets) of the flood is measured with and
 * without the limiter, on Deno's sockets and the batched ones.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/mod.ts";
import { decodeMessage, Rcode, RRType } from "../../lib/proto/mod.ts";
import type { RateLimitOptions } from "../../lib/policy/mod.ts";
import { fixedData, mappingRecords } from "../../lib/zone/mod.ts";
import { needsFfi } from "../_batched.ts";
import { connectTcp, LOCAL, query } from "../_tcp_client.ts";
import { startDnsd } from "../_dnsd_process.ts";
import { needsTool, runTool } from "../_tools.ts";

const LIMIT = 20;
const FLOOD = LIMIT * 10;
const RATE: RateLimitOptions = { perSecond: LIMIT, prefix4: 32, prefix6: 56, slip: 2 };

function serve(udpIo: "deno" | "batched", rateLimit: RateLimitOptions | null): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
    timeoutMs: 500,
    localData: fixedData({ mappings: mappingRecords(LOCAL) }),
    udpIo,
    rateLimit,
  });
}

/** What one client got back. */
interface Tally {
  sent: number;
  queryOctets: number;
  full: number;
  truncated: number;
  responseOctets: number;
  /** Milliseconds from the first query sent to the last. */
  spanMs: number;
}

/**
 * Sends `count` queries from `source` in ten even bursts over about a second, reading replies all
 * along, and until none has come for 400 ms after the last query.
 */
async function flood(server: RunningServer, source: string, count: number, bursts = 10): Promise<Tally> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: source, port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: server.address.port };
  const tally: Tally = { sent: 0, queryOctets: 0, full: 0, truncated: 0, responseOctets: 0, spanMs: 0 };
  let last = performance.now();
  let closed = false;
  const reading = (async () => {
    try {
      for (;;) {
        const [bytes] = await conn.receive();
        last = performance.now();
        tally.responseOctets += bytes.length;
        const message = decodeMessage(bytes);
        ok(message.rcode === Rcode.NOERROR || message.rcode === Rcode.NXDOMAIN, `rcode ${message.rcode}`);
        if (message.truncated) {
          equal(message.answers.length + message.additionals.length, 0, "a slipped answer has no records");
          equal(message.questions.length, 1, "a slipped answer keeps the question");
          tally.truncated++;
        } else {
          tally.full++;
        }
      }
    } catch (error) {
      if (!closed) throw error; // a wrong answer, not the socket closed at the end
    }
  })();
  const started = performance.now();
  for (let burst = 0; burst < bursts; burst++) {
    for (let i = 0; i < count / bursts; i++) {
      const n = tally.sent++;
      // Every other query repeats a name (a memo hit); the rest ask a new one (answered asynchronously).
      const bytes = n % 2 === 0
        ? query("small.dnsd.test", { id: n, type: RRType.TXT })
        : query(`n${n}.${source.replaceAll(".", "-")}.invalid`, { id: n });
      tally.queryOctets += bytes.length;
      await conn.send(bytes, to);
    }
    tally.spanMs = performance.now() - started;
    if (burst < bursts - 1) await new Promise((resolve) => setTimeout(resolve, 1000 / bursts));
  }
  while (performance.now() - last < 400) await new Promise((resolve) => setTimeout(resolve, 50));
  closed = true;
  conn.close();
  await reading;
  return tally;
}

/** Response octets over query octets. */
function amplification(tally: Tally): number {
  return tally.responseOctets / tally.queryOctets;
}

for (const udpIo of ["deno", "batched"] as const) {
  const name = `a flooder at 10 times its limit gets at most the limit and the slipped TC answers; ` +
    `another client gets every answer (${udpIo} sockets)`;
  const definition = udpIo === "batched" ? needsFfi(name) : { name, ignore: false };
  test({ ...definition, timeoutMs: 30_000 }, async () => {
    const server = serve(udpIo, RATE);
    try {
      const [flooder, normal] = await Promise.all([
        flood(server, "127.0.0.2", FLOOD),
        flood(server, "127.0.0.3", LIMIT / 2),
      ]);
      // The burst, and what refilled while the flood went on (one token more for timing slack).
      const allowed = LIMIT + Math.ceil((LIMIT * flooder.spanMs) / 1000) + 1;
      ok(flooder.full >= LIMIT, `the burst is answered: ${flooder.full}`);
      ok(flooder.full <= allowed, `${flooder.full} full answers, at most ${allowed}`);
      const over = FLOOD - flooder.full;
      ok(
        Math.abs(flooder.truncated - over / 2) <= 1,
        `${flooder.truncated} slipped of ${over} over the limit`,
      );
      equal(normal.full, normal.sent, "the normal client gets every answer");
      equal(normal.truncated, 0);
      // deno-lint-ignore no-console -- the figures the issue asks for, in the test's output
      console.log(
        `${udpIo}: flooder ${flooder.full} full + ${flooder.truncated} TC of ${FLOOD}; amplification ` +
          `${amplification(flooder).toFixed(2)} with RRL`,
      );
    } finally {
      server.close();
      await server.finished;
    }
    const open = serve(udpIo, null);
    try {
      const flooder = await flood(open, "127.0.0.2", FLOOD);
      equal(flooder.full, FLOOD, "without the limiter every query is answered");
      // deno-lint-ignore no-console -- as above
      console.log(`${udpIo}: amplification ${amplification(flooder).toFixed(2)} without RRL`);
    } finally {
      open.close();
      await open.finished;
    }
  });
}

test({ name: "TCP is never rate limited, memo hits included", timeoutMs: 30_000 }, async () => {
  const server = serve("deno", { ...RATE, prefix4: 24 });
  const client = await connectTcp(server.address);
  try {
    for (let i = 0; i < FLOOD; i++) {
      const answer = decodeMessage(await client.ask(query("small.dnsd.test", { id: i, type: RRType.TXT })));
      equal(answer.truncated, false);
      equal(answer.answers.length, 4);
    }
  } finally {
    client.close();
    server.close();
    await server.finished;
  }
});

test(
  { name: "the limit follows the prefix: two /24 neighbours share one bucket", timeoutMs: 30_000 },
  async () => {
    const server = serve("deno", { ...RATE, prefix4: 24, slip: 0 });
    try {
      // Both inside 127.0.0.0/24 at once, each sending the limit: together they get about the limit.
      const [a, b] = await Promise.all([
        flood(server, "127.0.0.2", LIMIT, 1),
        flood(server, "127.0.0.3", LIMIT, 1),
      ]);
      const allowed = LIMIT + Math.ceil((LIMIT * Math.max(a.spanMs, b.spanMs)) / 1000) + 1;
      ok(a.full + b.full <= allowed, `${a.full} + ${b.full} answers, at most ${allowed}`);
      ok(a.full + b.full >= LIMIT);
      equal(a.truncated + b.truncated, 0, "slip 0 drops every answer over the limit");
    } finally {
      server.close();
      await server.finished;
    }
  },
);

/** The resident set of process `pid`, in KiB, as ps(1) tells it (reading /proc needs --allow-all). */
async function rssKiB(pid: number): Promise<number> {
  return Number((await runTool("ps", ["-o", "rss=", "-p", String(pid)])).trim());
}

/** Sends one query from each of `count` source addresses 127.`base`.x.y, a socket each. */
async function fromManySources(port: number, base: number, count: number): Promise<void> {
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const bytes = query("localhost", { id: 1 });
  for (let i = 0; i < count; i++) {
    const hostname = `127.${base + (i >> 16)}.${(i >> 8) & 0xff}.${(i & 0xff) || 1}`;
    const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    try {
      await conn.send(bytes, to);
    } finally {
      conn.close();
    }
  }
}

const SOURCES = 70_000;
test(
  {
    ...needsTool(
      "ps",
      `dnsd's memory stays flat while ${SOURCES} source addresses, more than the limiter's buckets, query it`,
    ),
    timeoutMs: 120_000,
  },
  async () => {
    if (Deno.build.os !== "linux") return; // /proc and all of 127.0.0.0/8 on loopback
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--upstream",
      "127.0.0.1:9",
      "--rate-limit",
      "5",
      "--rate-limit-prefix",
      "32",
      // One event loop: a worker started by the flood's load (--workers-busy) would add its own
      // fixed 20-odd MiB, a step this test is not about (the limiter's buckets per source).
      "--workers",
      "1",
    ]);
    try {
      // Warm up (compiled code, pools), then measure across more sources than the 65,536 buckets.
      await fromManySources(dnsd.port, 1, 5_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = await rssKiB(dnsd.child.pid);
      await fromManySources(dnsd.port, 2, SOURCES);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await rssKiB(dnsd.child.pid);
      // deno-lint-ignore no-console -- the figure the issue asks for
      console.log(`dnsd RSS ${before} KiB before, ${after} KiB after ${SOURCES} sources`);
      ok(after - before < 16 * 1024, `RSS grew by ${after - before} KiB`);
      ok(!dnsd.exited(), "dnsd still runs");
    } finally {
      await dnsd.stop();
    }
  },
);
