/**
 * Blocklists end to end over UDP and TCP through `startServer`: each block mode with and without
 * EDNS (EDE 15 only with EDNS), local data winning over the lists, the allowlist winning, lists
 * swapped between two queries; then the real `main.ts`: lists read from files, a reload by SIGHUP
 * and by the watcher that applies a new list and keeps the old one when the file breaks, and a
 * config file whose `[[assert]]` expects BLOCKED passing `--check`.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { query as makeQuery } from "../../lib/proto/message.ts";
import { type Message, Rcode, RRType } from "../../lib/proto/types.ts";
import { type BlockMode, type BlockPolicy, DomainSet } from "../../lib/block/mod.ts";
import { type RunningServer, startServer } from "../../lib/server/mod.ts";
import { dataLoader, fixedData, mappingRecords } from "../../lib/zone/mod.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { openUdpClient } from "../_udp_client.ts";
import { connectTcp, WAIT_MS } from "../_tcp_client.ts";
import { runDnsd, type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { needsPermissions } from "../_tools.ts";

type Transport = "udp" | "tcp";
const TRANSPORTS: readonly Transport[] = ["udp", "tcp"];

/** The policy the in-process server starts with: a blocked domain, an allowed part of it, a local name in it. */
function policyOf(mode: BlockMode, blocked = ["ads.example", "nas.lan"]): BlockPolicy {
  return { lists: { blocked: new DomainSet(blocked), allowed: new DomainSet(["ok.ads.example"]) }, mode };
}

/** The wire form of a query, as dig sends it (RD=1), with or without EDNS. */
function queryWire(name: string, type: number, edns: boolean): Uint8Array {
  return encodeMessage(makeQuery({ name, type }, {
    id: 0x1234,
    edns: edns ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] } : null,
  }));
}

/** Asks `server` over `transport` and decodes the answer. */
async function ask(server: Deno.NetAddr, transport: Transport, wire: Uint8Array): Promise<Message> {
  if (transport === "udp") {
    const client = openUdpClient(server);
    try {
      return decodeMessage(await client.ask(wire));
    } finally {
      client.close();
    }
  }
  const client = await connectTcp(server);
  try {
    return decodeMessage(await client.ask(wire, WAIT_MS));
  } finally {
    client.close();
  }
}

/** Runs `fn` against a server on 127.0.0.1 whose upstream answers 192.0.2.99 for ok.ads.example and www.example. */
async function withServer(
  policy: () => BlockPolicy,
  fn: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const upstream = startFakeUpstream({
    "ok.ads.example": { kind: "answer", address: "192.0.2.99" },
    "www.example": { kind: "answer", address: "192.0.2.99" },
  });
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 2_000,
    localData: fixedData({ mappings: mappingRecords({ "nas.lan": "192.168.1.10" }) }),
    blockPolicy: policy,
    cache: { limits: { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 } },
  });
  try {
    await fn(server);
  } finally {
    await server.stop(0);
    await server.finished;
    await upstream.close();
  }
}

function addresses(message: Message): string[] {
  return message.answers.map((record) =>
    record.data.type === "A" || record.data.type === "AAAA" ? `${record.data.address}/${record.ttl}` : "?"
  );
}

const cases: readonly {
  mode: BlockMode;
  type: number;
  rcode: number;
  answers: readonly string[];
}[] = [
  { mode: "null", type: RRType.A, rcode: Rcode.NOERROR, answers: ["0.0.0.0/60"] },
  { mode: "null", type: RRType.AAAA, rcode: Rcode.NOERROR, answers: ["::/60"] },
  { mode: "null", type: RRType.MX, rcode: Rcode.NOERROR, answers: [] },
  { mode: "nxdomain", type: RRType.A, rcode: Rcode.NXDOMAIN, answers: [] },
  { mode: "refused", type: RRType.A, rcode: Rcode.REFUSED, answers: [] },
];

for (const { mode, type, rcode, answers } of cases) {
  for (const edns of [true, false]) {
    test(`blocklist: --block-mode ${mode} answers type ${type} ${edns ? "with EDNS (EDE 15)" : "without EDNS"}`, async () => {
      await withServer(() => policyOf(mode), async (server) => {
        for (const transport of TRANSPORTS) {
          const reply = await ask(server.address, transport, queryWire("Tracker.ADS.example", type, edns));
          assert.equal(reply.id, 0x1234);
          assert.equal(reply.rcode, rcode, transport);
          assert.equal(reply.authoritative, false, `${transport}: AA is clear`);
          assert.equal(reply.questions[0]?.name, "Tracker.ADS.example", "the question as asked");
          assert.deepEqual(addresses(reply), answers, transport);
          assert.deepEqual(reply.authorities, [], `${transport}: no SOA`);
          for (const record of reply.answers) assert.equal(record.name, "Tracker.ADS.example");
          const ede = edeOf(reply.edns).map((error) => error.code);
          assert.deepEqual(ede, edns ? [15] : [], `${transport}: EDE 15 only with EDNS`);
          assert.equal(reply.edns !== null, edns);
        }
        assert.equal(server.counters.forwarded, 0, "nothing blocked is forwarded");
      });
    });
  }
}

test("blocklist: local data wins over the lists, the allowlist wins over them, other names are forwarded", async () => {
  await withServer(() => policyOf("null"), async (server) => {
    for (const transport of TRANSPORTS) {
      const local = await ask(server.address, transport, queryWire("nas.lan", RRType.A, true));
      assert.deepEqual(addresses(local), ["192.168.1.10/300"], `${transport}: local data`);
      assert.deepEqual(edeOf(local.edns), []);
      const allowed = await ask(server.address, transport, queryWire("ok.ads.example", RRType.A, true));
      assert.deepEqual(allowed.answers.map((r) => r.data.type === "A" && r.data.address), ["192.0.2.99"]);
      const below = await ask(server.address, transport, queryWire("x.ok.ads.example", RRType.A, true));
      assert.notDeepEqual(
        edeOf(below.edns).map((e) => e.code),
        [15],
        `${transport}: below the allowed entry`,
      );
      const other = await ask(server.address, transport, queryWire("www.example", RRType.A, true));
      assert.deepEqual(other.answers.map((r) => r.data.type === "A" && r.data.address), ["192.0.2.99"]);
    }
  });
});

test("blocklist: new lists apply from the next query, and a blocked answer is never served from the memo", async () => {
  let policy = policyOf("null", []);
  await withServer(() => policy, async (server) => {
    const wire = queryWire("www.example", RRType.A, true);
    // Asked twice, so the cached answer is in the memo, as a repeated question would be.
    for (let i = 0; i < 2; i++) assert.equal((await ask(server.address, "udp", wire)).answers.length, 1);
    policy = policyOf("nxdomain", ["example"]);
    for (const transport of TRANSPORTS) {
      assert.equal((await ask(server.address, transport, wire)).rcode, Rcode.NXDOMAIN);
    }
    policy = policyOf("null", []);
    for (const transport of TRANSPORTS) {
      assert.deepEqual(addresses(await ask(server.address, transport, wire)).map((a) => a.split("/")[0]), [
        "192.0.2.99",
      ]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The real main.ts: lists from files, reloaded as part of the configuration

const RELOAD_WITHIN_MS = 5_000;

function needsFiles(name: string): { name: string; ignore: boolean } {
  return needsPermissions(["read", "write", "run"], name);
}

/** What `dnsd` answers for `name` (A, EDNS) over `transport`: "BLOCKED", an RCODE, or the addresses. */
async function outcome(dnsd: RunningDnsd, transport: Transport, name: string): Promise<string> {
  const address = { transport: "udp", hostname: "127.0.0.1", port: dnsd.port } as const;
  const reply = await ask(address, transport, queryWire(name, RRType.A, true));
  if (edeOf(reply.edns).some((error) => error.code === 15)) return "BLOCKED";
  if (reply.rcode !== Rcode.NOERROR) return `rcode ${reply.rcode}`;
  return reply.answers.map((record) => record.data.type === "A" ? record.data.address : "?").join(",");
}

async function untilOutcome(dnsd: RunningDnsd, name: string, want: string): Promise<void> {
  const deadline = Date.now() + RELOAD_WITHIN_MS;
  let got = "";
  while (Date.now() < deadline) {
    got = await outcome(dnsd, "udp", name);
    if (got === want) {
      assert.equal(await outcome(dnsd, "tcp", name), want, `${name} over TCP`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`${name}: ${got}, not ${want}, ${RELOAD_WITHIN_MS} ms after the change`);
}

test(
  needsFiles(
    "blocklist: dnsd reloads a changed list (SIGHUP and the watcher) and keeps the old one when it breaks",
  ),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_block_" });
    const list = `${dir}/block.txt`;
    const hosts = `${dir}/hosts`;
    await Deno.writeTextFile(list, "0.0.0.0 ads.example\n||tracker.example^\nbad line here\n");
    await Deno.writeTextFile(hosts, "192.0.2.5 printer.tracker.example\n");
    let dnsd: RunningDnsd | undefined;
    try {
      dnsd = await startDnsd((port) => [
        ...["--port", String(port), "--upstream", "127.0.0.1:9", "--blocklist", list, "--hosts", hosts],
        ...["--reload-settle", "100", "--no-mappings"],
      ]);
      // The unreadable line is logged once, with its file:line.
      assert.ok(dnsd.stderr.seen.some((line) => line.includes(`${list}:3`)), dnsd.stderr.seen.join("\n"));
      assert.equal(await outcome(dnsd, "udp", "www.ads.example"), "BLOCKED");
      assert.equal(await outcome(dnsd, "tcp", "x.tracker.example"), "BLOCKED");
      assert.equal(await outcome(dnsd, "udp", "printer.tracker.example"), "192.0.2.5", "local data wins");
      // The watcher: a new list applies.
      await Deno.writeTextFile(list, "other.example\n");
      await untilOutcome(dnsd, "other.example", "BLOCKED");
      assert.equal(
        await outcome(dnsd, "udp", "www.ads.example"),
        "rcode 2",
        "unblocked: forwarded to nothing",
      );
      // A list that cannot be read (gone) fails the reload: the running lists stay.
      const from = dnsd.stderr.seen.length;
      await Deno.remove(list);
      dnsd.child.kill("SIGHUP");
      await dnsd.stderr.waitFor(/Reload failed/, RELOAD_WITHIN_MS, from);
      assert.ok(
        dnsd.stderr.seen.slice(from).some((line) => line.includes(`--blocklist ${list}: no such file`)),
      );
      assert.equal(await outcome(dnsd, "tcp", "other.example"), "BLOCKED", "the old lists stay");
      // SIGHUP once the file is back.
      await Deno.writeTextFile(list, "ads.example\n");
      dnsd.child.kill("SIGHUP");
      await untilOutcome(dnsd, "ads.example", "BLOCKED");
    } finally {
      await dnsd?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(
  needsFiles("blocklist: --check passes a config whose [[assert]] expects BLOCKED, fails one that does not"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_block_check_" });
    try {
      await Deno.writeTextFile(`${dir}/block.txt`, "||ads.example^\n");
      await Deno.writeTextFile(`${dir}/allow.txt`, "ok.ads.example\n");
      const config = (mode: string, name: string) =>
        [
          `blocklist = ["${dir}/block.txt"]`,
          `allowlist = ["${dir}/allow.txt"]`,
          `block_mode = "${mode}"`,
          'upstream = ["127.0.0.1:9"]',
          "",
          "[[assert]]",
          `name = "${name}"`,
          'expect = "BLOCKED"',
        ].join("\n") + "\n";
      for (const mode of ["null", "nxdomain", "refused"]) {
        await Deno.writeTextFile(`${dir}/dnsd.toml`, config(mode, "www.ads.example"));
        const ok = await runDnsd(["--config", `${dir}/dnsd.toml`, "--check"]);
        assert.equal(ok.code, 0, `${mode}: ${ok.stderr}`);
      }
      await Deno.writeTextFile(`${dir}/dnsd.toml`, config("null", "ok.ads.example"));
      const failed = await runDnsd(["--config", `${dir}/dnsd.toml`, "--check"]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /dnsd\.toml:6: assert ok\.ads\.example A: expected BLOCKED, got FORWARDED/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// A blocklist given as a hosts file: 1,000,000 lines (about 130,000 overflowed the call stack)

/** Lines in the generated hosts file, and the most time its load may take on a slow shared machine. */
const HOSTS_LINES = 1_000_000;
const HOSTS_LOAD_MS = 60_000;

test({
  name: "hosts: a 1,000,000-line hosts file loads, and a name from its end answers over UDP and TCP",
  timeoutMs: HOSTS_LOAD_MS + 20_000,
  fn: async () => {
    const lines: string[] = ["# generated: 1,000,000 blocklist-style lines"];
    for (let i = 1; i < HOSTS_LINES; i++) lines.push(`0.0.0.0 ad${i}.tracker${i % 1000}.example`);
    const last = `ad${HOSTS_LINES - 1}.tracker${(HOSTS_LINES - 1) % 1000}.example`;
    const text = lines.join("\n") + "\n";
    lines.length = 0;
    const started = performance.now();
    const load = dataLoader({
      zones: [],
      hosts: ["big.hosts"],
      mappings: () => ({}),
      read: () => Promise.resolve(text),
    });
    const loaded = await load(true);
    const tookMs = performance.now() - started;
    assert.equal(loaded.data.size, HOSTS_LINES - 1);
    assert.ok(tookMs < HOSTS_LOAD_MS, `loading took ${tookMs.toFixed(0)} ms`);
    const server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: [{ hostname: "127.0.0.1", port: 9 }],
      timeoutMs: 500,
      localData: () => loaded.data,
    });
    try {
      for (const transport of TRANSPORTS) {
        const reply = await ask(server.address, transport, queryWire(last, RRType.A, true));
        assert.equal(reply.rcode, Rcode.NOERROR, transport);
        assert.deepEqual(addresses(reply), ["0.0.0.0/300"], transport);
      }
    } finally {
      await server.stop(0);
      await server.finished;
    }
  },
});
