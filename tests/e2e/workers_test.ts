/**
 * `--workers 2` on the dnsd process: the kernel spreads clients over both workers' sockets
 * (queries from fresh sockets, so fresh source ports), and each one answers local data, lists and
 * forwarded names; `/metrics` counts what each received and sums the rest over both; a reload
 * reaches both before `POST /reload` answers; a cache flush and the statistics line cover both; a
 * NOTIFY that lands on a worker is answered as the main thread answers it; a server cookie made by
 * one worker is valid at the other; SIGTERM stops them all. As a secondary, a transferred zone and
 * its update after a NOTIFY (which may land on either worker) reach both (these with
 * `--workers-busy 0`: both take queries from the start). With `--workers-busy`, the main thread
 * alone answers until it is busy, then a worker starts and takes its names, and once idle the
 * main thread takes them all again. With `--udp-io deno` dnsd says why it runs one worker.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { needsFfi } from "../_batched.ts";
import {
  DNSD_PERMISSIONS,
  PROCESS_TIMEOUT_MS,
  runDnsd,
  runningLine,
  spawnDnsd,
  startDnsd,
  within,
} from "../_dnsd_process.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { query } from "../_tcp_client.ts";
import { freeUdpPort, queryBytes, udpAsk } from "../_udp_client.ts";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  Opcode,
  query as baseQuery,
  Rcode,
  RRType,
} from "../../lib/proto/mod.ts";
import { BADCOOKIE } from "../../lib/policy/mod.ts";
import { steeredIndex } from "../../lib/net/reuseport_steering.ts";

const PERMISSIONS = [...DNSD_PERMISSIONS, "--allow-write"];

const zoneText = (serial: number, www: string) =>
  `$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster ${serial} 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A ${www}
`;

/** The first A record's address of `message`, or its RCODE's name when it has none. */
function addressOf(message: Message): string {
  const record = message.answers.find((answer) => answer.data.type === "A");
  return record && record.data.type === "A" ? record.data.address : `rcode ${message.rcode}`;
}

/** Asks `count` times, each from a fresh socket (a new source port), and returns every answer. */
async function askMany(port: number, make: () => Uint8Array, count: number): Promise<Message[]> {
  const server: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const replies: Message[] = [];
  for (let i = 0; i < count; i++) replies.push(decodeMessage(await udpAsk(server, make())));
  return replies;
}

/** Which of the two workers' sockets the kernel gives a query for `name` (the steering program's choice). */
const socketOf = (name: string) => steeredIndex(queryBytes(name, RRType.A), 2);

/** Each distinct value of `values` and how often it came. */
function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The Prometheus text's samples, by name and labels. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

test(
  needsFfi("dnsd --workers 2: both answer; reload, flush, metrics, statistics and NOTIFY cover both", [
    "run",
  ]),
  async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/example.zone`, zoneText(1, "192.0.2.80"));
    await Deno.writeTextFile(`${dir}/hosts`, "192.0.2.7 host.lan\n");
    await Deno.writeTextFile(`${dir}/block.txt`, "ads.block.test\n");
    const answer = { kind: "answer", address: "192.0.2.9" } as const;
    const upstream = startFakeUpstream({ "": answer, "forwarded.test": answer, "x.ads.block.test": answer });
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--workers",
      "2",
      "--workers-busy",
      "0",
      "--zone",
      `${dir}/example.zone`,
      "--hosts",
      `${dir}/hosts`,
      "--blocklist",
      `${dir}/block.txt`,
      "--no-mappings",
      "--allow-transfer",
      "127.0.0.1/32",
      "--upstream",
      `127.0.0.1:${upstream.address.port}`,
      "--metrics",
      "127.0.0.1:0",
    ], PERMISSIONS);
    try {
      await dnsd.stderr.waitFor(/ - INFO - Answering UDP on 2 workers$/, PROCESS_TIMEOUT_MS);
      const line = await dnsd.stderr.waitFor(
        /Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/,
        PROCESS_TIMEOUT_MS,
      );
      const http = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/metrics/.exec(line)![1]}`;
      const metrics = async () => samples(await (await fetch(`${http}/metrics`)).text());
      const ask = (name: string, count: number) =>
        askMany(dnsd.port, () => queryBytes(name, RRType.A), count).then((replies) =>
          tally(replies.map(addressOf))
        );

      // Every answer right, and both workers took a share: every query for a name goes to the one
      // worker its name hashes to, whatever its source port, and these names hash to both.
      assert.equal(socketOf("www.example.test"), socketOf("forwarded.test"));
      assert.equal(socketOf("host.lan"), socketOf("x.ads.block.test"));
      assert.notEqual(socketOf("www.example.test"), socketOf("host.lan"));
      assert.deepEqual(await ask("www.example.test", 100), { "192.0.2.80": 100 });
      assert.deepEqual(await ask("host.lan", 20), { "192.0.2.7": 20 });
      assert.deepEqual(await ask("x.ads.block.test", 20), { "0.0.0.0": 20 });
      assert.deepEqual(await ask("forwarded.test", 40), { "192.0.2.9": 40 });
      let seen = await metrics();
      const [first, second] = [
        seen.get('dnsd_worker_queries_total{worker="0"}')!,
        seen.get('dnsd_worker_queries_total{worker="1"}')!,
      ];
      assert.deepEqual([first, second].sort(), [140, 40].sort(), "each worker took its names' queries");
      // forwarded.test went to the one worker: forwarded once, cached once (below).
      assert.equal(upstream.count("udp", "forwarded.test"), 1);
      assert.equal(seen.get('dnsd_queries_total{protocol="udp",type="A"}'), 180);
      assert.equal(
        seen.get('dnsd_responses_total{rcode="NOERROR",source="cache"}')! +
          seen.get('dnsd_responses_total{rcode="NOERROR",source="upstream"}')!,
        40,
      );

      // A NOTIFY on either worker gets the main thread's answer (not a secondary here: NOTAUTH).
      const notify = () =>
        query("example.test", { type: RRType.SOA, opcode: Opcode.NOTIFY, rd: false, id: 7 });
      const notified = await askMany(dnsd.port, notify, 20);
      assert.deepEqual(tally(notified.map((reply) => String(reply.rcode))), { [String(Rcode.NOTAUTH)]: 20 });

      // AXFR and IXFR over UDP get the main thread's answer on either worker. AXFR is never served over
      // UDP (REFUSED); an IXFR from serial 1, allowed here, gets the zone (one message: RFC 1995 section 4).
      const axfr = await askMany(
        dnsd.port,
        () => query("example.test", { type: RRType.AXFR, rd: false }),
        10,
      );
      assert.deepEqual(tally(axfr.map((reply) => String(reply.rcode))), { [String(Rcode.REFUSED)]: 10 });
      const soa = {
        name: "example.test",
        class: 1,
        ttl: 300,
        data: {
          type: "SOA",
          mname: "ns1.example.test",
          rname: "hostmaster.example.test",
          serial: 1,
          refresh: 3600,
          retry: 600,
          expire: 86400,
          minimum: 300,
        },
      } as const;
      const ixfr = () =>
        encodeMessage(
          baseQuery({ name: "example.test", type: RRType.IXFR }, {
            id: 9,
            recursionDesired: false,
            authorities: [soa],
          }),
        );
      const ixfrs = await askMany(dnsd.port, ixfr, 10);
      assert.deepEqual(tally(ixfrs.map((reply) => `rcode ${reply.rcode}, ${reply.answers.length} answers`)), {
        "rcode 0, 1 answers": 10,
      });

      // The statistics line sums both workers.
      const from = dnsd.stderr.seen.length;
      dnsd.child.kill("SIGUSR1");
      const statistics = await dnsd.stderr.waitFor(/ - INFO - Statistics: /, PROCESS_TIMEOUT_MS, from);
      assert.match(statistics, / queries 220 \(/);
      assert.match(statistics, /, blocked 20,/);

      // A flush drops every worker's entries.
      seen = await metrics();
      const entries = seen.get("dnsd_cache_entries")!;
      assert.equal(entries, 1, "forwarded.test is in the cache of the worker its name goes to");
      const flushed = await (await fetch(`${http}/cache/flush`, { method: "POST" })).json();
      assert.equal(flushed.flushed, entries);
      assert.equal((await metrics()).get("dnsd_cache_entries"), 0);

      // A reload reaches both before POST /reload answers.
      await Deno.writeTextFile(`${dir}/example.zone`, zoneText(2, "192.0.2.81"));
      await Deno.writeTextFile(`${dir}/hosts`, "192.0.2.8 host.lan\n");
      await Deno.writeTextFile(`${dir}/block.txt`, "other.block.test\n");
      const reloaded = await (await fetch(`${http}/reload`, { method: "POST" })).json();
      assert.equal(reloaded.reloaded, true);
      assert.deepEqual(await ask("www.example.test", 40), { "192.0.2.81": 40 });
      assert.deepEqual(await ask("host.lan", 20), { "192.0.2.8": 20 });
      assert.deepEqual(await ask("x.other.block.test", 20), { "0.0.0.0": 20 });
      assert.deepEqual(await ask("x.ads.block.test", 20), { "192.0.2.9": 20 });

      // SIGTERM stops the workers and the process, cleanly.
      dnsd.child.kill("SIGTERM");
      const status = await within(
        dnsd.child.status,
        PROCESS_TIMEOUT_MS,
        () => "dnsd did not stop on SIGTERM",
      );
      assert.equal(status.code, 0);
      await dnsd.stderr.waitFor(/ - INFO - DNS server stopped\.$/, PROCESS_TIMEOUT_MS);
    } finally {
      await dnsd.stop();
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(
  needsFfi("dnsd --workers 2 --require-cookies: a server cookie from one worker is valid at the other", [
    "run",
  ]),
  async () => {
    const dir = await Deno.makeTempDir();
    // Two names, one on each worker's socket: the cookie made for a query for one goes with the other.
    assert.notEqual(socketOf("local.dnsd.test"), socketOf("second.dnsd.test"));
    await Deno.writeTextFile(`${dir}/hosts`, "192.0.2.7 local.dnsd.test second.dnsd.test\n");
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--workers",
      "2",
      "--workers-busy",
      "0",
      "--require-cookies",
      "--hosts",
      `${dir}/hosts`,
      "--no-mappings",
    ], PERMISSIONS);
    try {
      await dnsd.stderr.waitFor(/Answering UDP on 2 workers$/, PROCESS_TIMEOUT_MS);
      const clientCookie = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
      const withCookie = (cookie: Uint8Array, name = "local.dnsd.test") => () =>
        query(name, { id: 0x77, edns: { options: [{ code: 10, data: cookie }] } });
      // The first: no server cookie yet, so BADCOOKIE with one; the rest send it back, from any port.
      const [first] = await askMany(dnsd.port, withCookie(clientCookie), 1);
      assert.equal(first!.rcode, BADCOOKIE);
      const full = first!.edns!.options.find((option) => option.code === 10)!.data;
      assert.equal(full.length, 24);
      const replies = await askMany(dnsd.port, withCookie(full, "second.dnsd.test"), 20);
      replies.push(...await askMany(dnsd.port, withCookie(full), 20));
      assert.deepEqual(tally(replies.map(addressOf)), { "192.0.2.7": 40 });
    } finally {
      await dnsd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(
  needsFfi("dnsd --workers 2 as a secondary: the transferred zone, and its update after NOTIFY, on both", [
    "run",
  ]),
  async () => {
    const dir = await Deno.makeTempDir();
    const zone = (serial: number, www: string) =>
      `${zoneText(serial, www).replaceAll("example.test", "sec.test")}mail IN A ${www}\n`;
    await Deno.writeTextFile(`${dir}/sec.zone`, zone(1, "192.0.2.80"));
    const secondaryPort = freeUdpPort();
    const primary = await startDnsd((port) => [
      "--port",
      String(port),
      "--zone",
      `${dir}/sec.zone`,
      "--allow-transfer",
      "127.0.0.1/32",
      "--notify",
      `127.0.0.1:${secondaryPort}`,
      "--no-mappings",
      "--reload-settle",
      "100",
    ], PERMISSIONS);
    const secondary = spawnDnsd([
      "--port",
      String(secondaryPort),
      "--workers",
      "2",
      "--workers-busy",
      "0",
      "--no-recursion",
      "--secondary",
      `sec.test=127.0.0.1:${primary.port}`,
      "--no-mappings",
    ], PERMISSIONS);
    try {
      await secondary.stderr.waitFor(runningLine(secondaryPort), PROCESS_TIMEOUT_MS);
      await secondary.stderr.waitFor(/Zone sec\.test serial 1 transferred/, PROCESS_TIMEOUT_MS);
      // www on one worker's socket, mail on the other's: both serve the zone.
      assert.notEqual(socketOf("www.sec.test"), socketOf("mail.sec.test"));
      const ask = async (count: number, expected: string) => {
        // Sent again each second while a worker may not have the zone yet (it looks each second).
        for (let tries = 0;; tries++) {
          const replies: Message[] = [];
          for (const name of ["www.sec.test", "mail.sec.test"]) {
            const make = () => queryBytes(name, RRType.A, { recursionDesired: false });
            replies.push(...await askMany(secondaryPort, make, count / 2));
          }
          const counts = tally(replies.map(addressOf));
          if (counts[expected] === count || tries === 3) return counts;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      };
      assert.deepEqual(await ask(30, "192.0.2.80"), { "192.0.2.80": 30 });
      // The primary's file changes: it reloads, sends NOTIFY, and the secondary transfers serial 2.
      await Deno.writeTextFile(`${dir}/sec.zone`, zone(2, "192.0.2.81"));
      await secondary.stderr.waitFor(/Zone sec\.test serial 2 transferred/, PROCESS_TIMEOUT_MS);
      assert.deepEqual(await ask(30, "192.0.2.81"), { "192.0.2.81": 30 });
    } finally {
      await secondary.stop();
      await primary.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(
  needsFfi("dnsd --workers 2 --workers-spread client: one name's queries spread over both workers", ["run"]),
  async () => {
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--workers",
      "2",
      "--workers-spread",
      "client",
      "--no-mappings",
      "--metrics",
      "127.0.0.1:0",
    ], PERMISSIONS);
    try {
      await dnsd.stderr.waitFor(/Answering UDP on 2 workers$/, PROCESS_TIMEOUT_MS);
      const line = await dnsd.stderr.waitFor(
        /Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/,
        PROCESS_TIMEOUT_MS,
      );
      const replies = await askMany(dnsd.port, () => queryBytes("localhost", RRType.A), 40);
      assert.deepEqual(tally(replies.map(addressOf)), { "127.0.0.1": 40 });
      // By the sender's port alone: 40 fresh ports all on one worker would be one chance in 2^39.
      const url = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/metrics/.exec(line)![1]}/metrics`;
      const seen = samples(await (await fetch(url)).text());
      const spread = [0, 1].map((worker) => seen.get(`dnsd_worker_queries_total{worker="${worker}"}`)!);
      assert.ok(spread[0]! > 0 && spread[1]! > 0, `both workers took some: ${spread}`);
      assert.equal(spread[0]! + spread[1]!, 40);
    } finally {
      await dnsd.stop();
    }
  },
);

/** Asks `name` over and over from one socket, one query at a time, for `ms`; how many were answered. */
async function keepAsking(port: number, name: string, ms: number): Promise<number> {
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const query = queryBytes(name, RRType.A);
  let answered = 0;
  try {
    for (const end = Date.now() + ms; Date.now() < end;) {
      await client.send(query, to);
      await client.receive();
      answered++;
    }
  } finally {
    client.close();
  }
  return answered;
}

test(
  {
    ...needsFfi("dnsd --workers 2: the main thread alone until it is busy, then both, then one again", [
      "run",
    ]),
    timeoutMs: 90_000,
  },
  async () => {
    // Names the steering program sends to each socket once both take queries: local, nothing forwarded.
    const names = Array.from({ length: 8 }, (_, i) => `name${i}.lan.test`);
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/hosts`, names.map((name) => `192.0.2.8 ${name}\n`).join(""));
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--workers",
      "2",
      "--workers-busy",
      "2",
      "--hosts",
      `${dir}/hosts`,
      "--no-mappings",
      "--metrics",
      "127.0.0.1:0",
    ], PERMISSIONS);
    try {
      await dnsd.stderr.waitFor(
        / - INFO - Answering UDP on 1 event loop, up to 2 when the busiest is 2% busy$/,
        PROCESS_TIMEOUT_MS,
      );
      const line = await dnsd.stderr.waitFor(
        /Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/,
        PROCESS_TIMEOUT_MS,
      );
      const url = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/metrics/.exec(line)![1]}/metrics`;
      let loops = 0;
      const spread = async () => {
        const seen = samples(await (await fetch(url)).text());
        loops = seen.get("dnsd_udp_event_loops")!;
        assert.equal(seen.get("dnsd_udp_event_loops_max"), 2);
        return [0, 1].map((worker) => seen.get(`dnsd_worker_queries_total{worker="${worker}"}`) ?? 0);
      };
      const second = names.find((name) => socketOf(name) === 1)!;
      const first = names.find((name) => socketOf(name) === 0)!;
      // Light load: every query on the main thread, no worker started.
      const replies = await askMany(dnsd.port, () => queryBytes(second, RRType.A), 20);
      assert.deepEqual(tally(replies.map(addressOf)), { "192.0.2.8": 20 });
      assert.deepEqual(await spread(), [20, 0]);
      assert.equal(loops, 1);
      assert.ok(!dnsd.stderr.seen.some((seen) => seen.includes("now go to")));
      // Busy: a worker starts, and the names steered to it go there.
      const asked = (await Promise.all([0, 1].map(() => keepAsking(dnsd.port, first, 4_000))))
        .reduce((sum, count) => sum + count, 0);
      await dnsd.stderr.waitFor(
        / - INFO - UDP queries now go to 2 of 2 event loops \(the busiest was \d+% busy\)$/,
        20_000,
      );
      const before = await spread();
      assert.equal(loops, 2);
      assert.equal(before[0]! + before[1]!, 20 + asked);
      const both = [
        ...await askMany(dnsd.port, () => queryBytes(second, RRType.A), 20),
        ...await askMany(dnsd.port, () => queryBytes(first, RRType.A), 10),
      ];
      assert.deepEqual(tally(both.map(addressOf)), { "192.0.2.8": 30 });
      const after = await spread();
      assert.deepEqual([after[0]! - before[0]!, after[1]! - before[1]!], [10, 20]);
      // Idle: back to the main thread alone, every name there again.
      await dnsd.stderr.waitFor(/ - INFO - UDP queries now go to 1 of 2 event loops/, 30_000);
      const idle = await spread();
      assert.equal(loops, 1);
      await askMany(dnsd.port, () => queryBytes(second, RRType.A), 20);
      const last = await spread();
      assert.deepEqual([last[0]! - idle[0]!, last[1]! - idle[1]!], [20, 0]);
    } finally {
      await dnsd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(needsFfi("dnsd --workers 2 --udp-io deno: one worker, and the log says why", ["run"]), async () => {
  const dnsd = await startDnsd(
    (port) => ["--port", String(port), "--workers", "2", "--udp-io", "deno"],
    PERMISSIONS,
  );
  try {
    const warning = dnsd.stderr.seen.find((line) => line.includes("Running one worker, not more"));
    assert.ok(warning, dnsd.stderr.seen.join("\n"));
    assert.match(warning, / - WARNING - .*SO_REUSEPORT.*--udp-io batched/);
    assert.deepEqual(
      tally((await askMany(dnsd.port, () => queryBytes("localhost", RRType.A), 3)).map(addressOf)),
      {
        "127.0.0.1": 3,
      },
    );
  } finally {
    await dnsd.stop();
  }
});

test(
  needsFfi("dnsd --workers 2 without read access to its worker module: one line, exit status 1", ["run"]),
  async () => {
    const finished = await runDnsd(
      ["--port", String(freeUdpPort()), "--workers", "2", "--no-mappings", "--no-default-zones"],
      ["--allow-net", "--allow-read=/etc/hosts", "--allow-ffi", "--allow-env"],
    );
    assert.equal(finished.code, 1, finished.stderr);
    assert.match(
      finished.stderr,
      /^dnsd: --workers needs read access to \S+worker_main\.ts \(deno run --allow-read/m,
    );
    assert.doesNotMatch(finished.stderr, /Uncaught|\n\s+at /);
  },
);

test(
  needsFfi("a second dnsd on the port of one with --workers 2: address already in use, not a share of it", [
    "run",
  ]),
  async () => {
    const first = await startDnsd(
      (port) => ["--port", String(port), "--workers", "2", "--no-mappings"],
      PERMISSIONS,
    );
    try {
      // Both set SO_REUSEPORT: the second must refuse the port (its UDP socket checks it is free
      // before it opens a group; tests/net/reuseport_steering_test.ts), and the first answers on.
      for (const workers of ["2", "1"]) {
        const second = await runDnsd(["--port", String(first.port), "--workers", workers, "--no-mappings"]);
        assert.equal(second.code, 1, second.stderr);
        assert.match(
          second.stderr,
          new RegExp(`^dnsd: cannot listen on 127\\.0\\.0\\.1:${first.port}: address already in use$`, "m"),
        );
      }
      const replies = await askMany(first.port, () => queryBytes("localhost", RRType.A), 20);
      assert.deepEqual(tally(replies.map(addressOf)), { "127.0.0.1": 20 });
    } finally {
      await first.stop();
    }
  },
);
