/**
 * Forwarding by domain, end to end over UDP and TCP through `startServer` with fake upstreams on
 * 127.0.0.1: a forward zone's names go to its upstreams and every other name to the default one
 * (which upstream saw which query is checked), the longest matching domain wins, a reverse forward
 * zone takes its names from a default local zone, failover works inside a forward zone, and the
 * cache is shared. Then `--check` through `main.ts`: a config's `FORWARDED` assertion names the
 * forward zone's upstream, and `x.home.arpa` is NXDOMAIN with no network traffic.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { type Message, Rcode, RRType } from "../../lib/proto/types.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { type FakeUpstream, startFakeUpstream } from "../_fake_upstream.ts";
import { connectTcp } from "../_tcp_client.ts";
import { queryBytes, udpAsk } from "../_udp_client.ts";
import { runDnsd } from "../_dnsd_process.ts";
import { needsPermissions } from "../_tools.ts";

const WAIT_MS = 3_000;

interface Upstreams {
  /** The default upstream. */
  readonly general: FakeUpstream;
  /** `lan` and `168.192.in-addr.arpa`. */
  readonly router: FakeUpstream;
  /** `office.lan`'s first upstream: SERVFAIL for everything it knows. */
  readonly officeDown: FakeUpstream;
  /** `office.lan`'s second upstream. */
  readonly office: FakeUpstream;
}

/** Runs `fn` against a dnsd with three forward zones over four fake upstreams, and stops them all. */
async function withZones(fn: (server: RunningServer, up: Upstreams) => Promise<void>): Promise<void> {
  const up: Upstreams = {
    general: startFakeUpstream({
      "www.example.com": { kind: "answer", address: "192.0.2.1" },
      "tcp.example.com": { kind: "answer", address: "192.0.2.2" },
    }),
    router: startFakeUpstream({
      "nas.lan": { kind: "answer", address: "192.168.1.10" },
      "tv.lan": { kind: "answer", address: "192.168.1.11" },
      "10.1.168.192.in-addr.arpa": { kind: "nxdomain", zone: "168.192.in-addr.arpa" },
      "11.1.168.192.in-addr.arpa": { kind: "nxdomain", zone: "168.192.in-addr.arpa" },
      "big.lan": { kind: "truncated", records: 3, over: "udp" },
    }),
    officeDown: startFakeUpstream({
      "printer.office.lan": { kind: "servfail" },
      "scanner.office.lan": { kind: "servfail" },
    }),
    office: startFakeUpstream({
      "printer.office.lan": { kind: "answer", address: "10.0.0.5" },
      "scanner.office.lan": { kind: "answer", address: "10.0.0.6" },
    }),
  };
  let server: RunningServer | undefined;
  try {
    server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: [up.general.address],
      timeoutMs: 2_000,
      localData: fixedData({}),
      cache: { limits: { maxEntries: 1000, minTtl: 0, maxTtl: 3600, servfailTtl: 5, staleMax: 0 } },
      forwardZones: [
        { domain: "lan", upstreams: [up.router.address] },
        { domain: "office.lan", upstreams: [up.officeDown.address, up.office.address] },
        { domain: "168.192.in-addr.arpa", upstreams: [up.router.address] },
      ],
    });
    await fn(server, up);
  } finally {
    if (server) {
      await server.stop(0);
      await server.finished;
    }
    await Promise.all(Object.values(up).map((upstream) => upstream.close()));
  }
}

/** Asks `name`/`type` over `transport` and decodes the answer. */
async function ask(
  server: RunningServer,
  transport: "udp" | "tcp",
  name: string,
  type: number = RRType.A,
): Promise<Message> {
  const bytes = queryBytes(name, type);
  if (transport === "udp") return decodeMessage(await udpAsk(server.address, bytes, WAIT_MS));
  const client = await connectTcp({ ...server.address, transport: "tcp" });
  try {
    return decodeMessage(await client.ask(bytes, WAIT_MS));
  } finally {
    client.close();
  }
}

function addressesOf(message: Message): string[] {
  return message.answers.flatMap((record) => record.data.type === "A" ? [record.data.address] : []);
}

/** The names each upstream was asked, in order, as `transport name`. */
function seen(upstream: FakeUpstream): string[] {
  return upstream.received.map((query) => `${query.transport} ${query.message?.questions[0]?.name}`);
}

test("forward zones: each name goes to its zone's upstreams, the rest to the default, over UDP and TCP", async () => {
  await withZones(async (server, up) => {
    const asked: readonly [("udp" | "tcp"), string, number, string[], number][] = [
      ["udp", "www.example.com", RRType.A, ["192.0.2.1"], Rcode.NOERROR],
      ["udp", "nas.lan", RRType.A, ["192.168.1.10"], Rcode.NOERROR],
      ["udp", "10.1.168.192.in-addr.arpa", RRType.PTR, [], Rcode.NXDOMAIN],
      ["tcp", "tcp.example.com", RRType.A, ["192.0.2.2"], Rcode.NOERROR],
      ["tcp", "TV.Lan", RRType.A, ["192.168.1.11"], Rcode.NOERROR],
      ["tcp", "11.1.168.192.in-addr.arpa", RRType.PTR, [], Rcode.NXDOMAIN],
    ];
    for (const [transport, name, type, addresses, rcode] of asked) {
      const answer = await ask(server, transport, name, type);
      equal(answer.rcode, rcode, `${transport} ${name}`);
      deepEqual(addressesOf(answer), addresses, `${transport} ${name}`);
    }
    // The reverse names came from the forward zone, not from the default local zone 168.192.in-addr.arpa.
    deepEqual(seen(up.general), ["udp www.example.com", "udp tcp.example.com"]);
    deepEqual(seen(up.router), [
      "udp nas.lan",
      "udp 10.1.168.192.in-addr.arpa",
      "udp TV.Lan",
      "udp 11.1.168.192.in-addr.arpa",
    ]);
    deepEqual(seen(up.office), []);
    // dnsd asks its upstreams over UDP whatever the client used; a cached answer asks no one.
    equal((await ask(server, "tcp", "nas.lan")).answers.length, 1);
    equal(up.router.received.length, 4, "the second nas.lan came from the shared cache");
  });
});

test("forward zones: the longest match wins; failover and TCP fallback work inside a forward zone", async () => {
  await withZones(async (server, up) => {
    deepEqual(addressesOf(await ask(server, "udp", "printer.office.lan")), ["10.0.0.5"]);
    deepEqual(addressesOf(await ask(server, "tcp", "scanner.office.lan")), ["10.0.0.6"]);
    // office.lan is inside lan: its names go to office.lan's upstreams, the first failing over to the second.
    deepEqual(seen(up.officeDown), ["udp printer.office.lan", "udp scanner.office.lan"]);
    deepEqual(seen(up.office), ["udp printer.office.lan", "udp scanner.office.lan"]);
    deepEqual(seen(up.router), []);
    deepEqual(seen(up.general), []);
    equal(server.counters.failovers, 2);
    // A truncated reply inside a forward zone is asked again over TCP, of that zone's upstream.
    equal((await ask(server, "udp", "big.lan", RRType.TXT)).answers.length, 3);
    deepEqual(seen(up.router), ["udp big.lan", "tcp big.lan"]);
    equal(server.counters.tcpFallbacks, 1);
  });
});

test(
  needsPermissions(
    ["read", "write", "run"],
    "dnsd --check: a forward zone's FORWARDED assertion and a default zone",
  ),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd-forward-zone-" });
    try {
      const path = `${dir}/dnsd.toml`;
      const text = [
        'upstream = ["127.0.0.1:5300"]', // 1
        'forward_zone = ["lan=127.0.0.1:5301"]', // 2
        "", // 3
        "[[assert]]", // 4
        'name = "nas.lan"', // 5
        'expect = "FORWARDED"', // 6
        'upstream = "127.0.0.1:5301"', // 7
        "", // 8
        "[[assert]]", // 9
        'name = "x.home.arpa"', // 10
        'expect = "NXDOMAIN"', // 11
        "", // 12
        "[[assert]]", // 13
        'name = "www.example.com"', // 14
        'expect = "FORWARDED"', // 15
        'upstream = "127.0.0.1:5300"', // 16
      ].join("\n") + "\n";
      await Deno.writeTextFile(path, text);
      const ok = await runDnsd(["--config", path, "--check"]);
      equal(ok.code, 0, ok.stderr);
      equal(ok.stdout.endsWith("3 assertions hold\n"), true, ok.stdout);

      // The same assertion with the default upstream named fails, and says where the name would go.
      await Deno.writeTextFile(
        path,
        text.replace('upstream = "127.0.0.1:5301"', 'upstream = "127.0.0.1:5300"'),
      );
      const failed = await runDnsd(["--config", path, "--check"]);
      equal(failed.code, 1, failed.stderr);
      equal(
        failed.stderr,
        `dnsd: ${path}:4: assert nas.lan A: expected forwarding to 127.0.0.1:5300, would go to 127.0.0.1:5301\n`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
