/**
 * Explain checked against the real answer for each source, over UDP and TCP, through
 * `startServer`: a zone record, a hosts name, a mapping, a default zone, a blocked name, a cached
 * answer, a name that would be forwarded, and a client the ACL refuses. Each local source's
 * file:line is checked against the files written here. Explain must change nothing: no upstream
 * query, no cache entry, no rate-limit token. Then the pure parts: the question of a request, and
 * the source finders over real file text.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { query as makeQuery } from "../../lib/proto/message.ts";
import { formatRData, type Message, RRType, typeCode, typeName } from "../../lib/proto/mod.ts";
import { type BlockPolicy, DomainSet } from "../../lib/block/mod.ts";
import { explainQuestion, type Explanation, type RunningServer, startServer } from "../../lib/server/mod.ts";
import { hostsLineOf, listLineOf, mappingLineOf, zoneRecordsAt } from "../../lib/server/explain_sources.ts";
import { buildZone, fixedData, mappingRecords, parseHosts, parseZoneFile } from "../../lib/zone/mod.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { openUdpClient } from "../_udp_client.ts";
import { connectTcp, WAIT_MS } from "../_tcp_client.ts";

const ZONE = `$ORIGIN example.test.
$TTL 300
@    IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@    IN NS  ns
www  IN A   192.0.2.1
www  IN A   192.0.2.2
mail IN MX  10 www
`;
const HOSTS = `# printers
192.168.1.20 printer.lan printer
`;
const MAPPINGS_FILE = `[mappings]
"nas.lan" = "192.168.1.10"
`;
const BLOCKLIST = `# ads
0.0.0.0 ads.example
||tracker.example^
`;
const ALLOWLIST = `ok.ads.example
`;

type Transport = "udp" | "tcp";

/** The wire form of a query as dig sends it: RD=1, EDNS (so EDEs show). */
function wire(name: string, type: number): Uint8Array {
  return encodeMessage(makeQuery({ name, type }, {
    id: 0x4242,
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
  }));
}

/** Asks `server` over `transport`. */
async function ask(server: Deno.NetAddr, transport: Transport, name: string, type: number): Promise<Message> {
  if (transport === "udp") {
    const client = openUdpClient(server);
    try {
      return decodeMessage(await client.ask(wire(name, type)));
    } finally {
      client.close();
    }
  }
  const client = await connectTcp(server);
  try {
    return decodeMessage(await client.ask(wire(name, type), WAIT_MS));
  } finally {
    client.close();
  }
}

/** The real answer in explain's terms, to compare with `explanation.answer`. */
function inTermsOfExplain(response: Message) {
  return {
    rcode: response.rcode,
    ede: edeOf(response.edns).map((error) => error.code),
    answers: response.answers.map((record) =>
      `${typeName(typeCode(record.data))} ${formatRData(record.data)}`
    )
      .sort(),
  };
}

/** Asserts explain's answer is the one the server gives over both transports (TTLs aside). */
async function assertSameAnswer(server: RunningServer, explained: Explanation, name: string, type: number) {
  assert.ok(explained.answer, `explain of ${name} gave no answer`);
  const rcodes: Record<string, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };
  const said = {
    rcode: rcodes[explained.answer.rcode],
    ede: explained.answer.ede.map((error) => error.code),
    answers: explained.answer.answers.map((record) => `${record.type} ${record.data}`).sort(),
  };
  for (const transport of ["udp", "tcp"] as const) {
    const real = inTermsOfExplain(await ask(server.address, transport, name, type));
    assert.deepEqual(said, real, `${name} over ${transport}`);
  }
}

interface Fixture {
  readonly dir: string;
  readonly server: RunningServer;
  readonly upstreamCount: (name: string) => number;
}

/** A server over real files in a temporary directory, with a fake upstream and the given ACL. */
async function withFixture(
  access: { allow: string[]; deny: string[] } | undefined,
  fn: (fixture: Fixture) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd-explain-" });
  const path = (name: string) => `${dir}/${name}`;
  await Deno.writeTextFile(path("example.test.zone"), ZONE);
  await Deno.writeTextFile(path("hosts"), HOSTS);
  await Deno.writeTextFile(path("dnsd.toml"), MAPPINGS_FILE);
  await Deno.writeTextFile(path("block.txt"), BLOCKLIST);
  await Deno.writeTextFile(path("allow.txt"), ALLOWLIST);
  const zone = buildZone(
    await parseZoneFile(path("example.test.zone"), { read: Deno.readTextFile }),
    path("example.test.zone"),
  );
  const localData = fixedData({
    zones: [zone],
    hosts: parseHosts(HOSTS, path("hosts")).records,
    mappings: mappingRecords({ "nas.lan": "192.168.1.10" }),
  });
  const policy: BlockPolicy = {
    lists: {
      blocked: new DomainSet(["ads.example", "tracker.example"]),
      allowed: new DomainSet(["ok.ads.example"]),
    },
    mode: "null",
  };
  const upstream = startFakeUpstream({
    "cached.example": { kind: "answer", address: "192.0.2.50" },
    "a.cached.example": { kind: "answer", address: "192.0.2.51" },
    "fwd.example": { kind: "answer", address: "192.0.2.60" },
    "ok.ads.example": { kind: "answer", address: "192.0.2.70" },
  });
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 2_000,
    localData,
    blockPolicy: () => policy,
    cache: { limits: { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 } },
    rateLimit: { perSecond: 100, prefix4: 24, prefix6: 56, slip: 2 },
    ...(access ? { access } : {}),
    explainFiles: () => ({
      zones: [{ file: path("example.test.zone") }],
      hosts: [path("hosts")],
      mappings: path("dnsd.toml"),
      blocklists: [path("block.txt")],
      allowlists: [path("allow.txt")],
    }),
  });
  try {
    await fn({
      dir,
      server,
      upstreamCount: (name) => upstream.count("udp", name) + upstream.count("tcp", name),
    });
  } finally {
    await server.stop(0);
    await server.finished;
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Explains `name` of `type` for a loopback client. */
function explain(server: RunningServer, name: string, type: number = RRType.A, client = "127.0.0.1") {
  return server.explain({ name, type, client, dnssecOk: false });
}

test("explain matches the real answer for each local source, with the file:line of what matched", async () => {
  await withFixture(undefined, async ({ dir, server }) => {
    const zone = await explain(server, "www.example.test");
    assert.equal(zone.source, "local");
    assert.equal(zone.stage, "local-data");
    assert.equal(zone.local?.kind, "zone");
    assert.equal(zone.local?.zone, "example.test");
    assert.deepEqual(zone.local?.records.map((record) => [record.data, record.at]), [
      ["192.0.2.1", `${dir}/example.test.zone:5`],
      ["192.0.2.2", `${dir}/example.test.zone:6`],
    ]);
    await assertSameAnswer(server, zone, "www.example.test", RRType.A);

    const hosts = await explain(server, "PRINTER.lan");
    assert.equal(hosts.source, "local");
    assert.equal(hosts.local?.kind, "hosts");
    assert.equal(hosts.local?.at, `${dir}/hosts:2`);
    await assertSameAnswer(server, hosts, "PRINTER.lan", RRType.A);

    const mapped = await explain(server, "nas.lan");
    assert.equal(mapped.local?.kind, "mappings");
    assert.equal(mapped.local?.at, `${dir}/dnsd.toml:2`);
    await assertSameAnswer(server, mapped, "nas.lan", RRType.A);

    // NODATA at a zone name: the zone still matched, with no records of that type.
    const nodata = await explain(server, "www.example.test", RRType.TXT);
    assert.equal(nodata.local?.kind, "zone");
    assert.equal(nodata.answer?.rcode, "NOERROR");
    await assertSameAnswer(server, nodata, "www.example.test", RRType.TXT);

    const missing = await explain(server, "nope.example.test");
    assert.equal(missing.answer?.rcode, "NXDOMAIN");
    await assertSameAnswer(server, missing, "nope.example.test", RRType.A);
  });
});

test("explain names the default zone, the blocklist entry and its file:line, and the allowlist", async () => {
  await withFixture(undefined, async ({ dir, server }) => {
    const localhost = await explain(server, "localhost");
    assert.equal(localhost.source, "default-zone");
    assert.equal(localhost.defaultZone, "localhost");
    await assertSameAnswer(server, localhost, "localhost", RRType.A);

    const blocked = await explain(server, "x.ads.example");
    assert.equal(blocked.source, "blocked");
    assert.deepEqual(blocked.blocklist, {
      blocked: true,
      mode: "null",
      entry: "ads.example",
      at: `${dir}/block.txt:2`,
      allowEntry: null,
      allowAt: null,
    });
    assert.deepEqual(blocked.answer?.ede.map((error) => error.name), ["BLOCKED"]);
    await assertSameAnswer(server, blocked, "x.ads.example", RRType.A);

    const adblock = await explain(server, "tracker.example");
    assert.equal(adblock.blocklist?.at, `${dir}/block.txt:3`);

    // Allowed: the allowlist entry wins, and the name goes on to be forwarded.
    const allowed = await explain(server, "ok.ads.example");
    assert.equal(allowed.source, "upstream");
    assert.equal(allowed.blocklist?.blocked, false);
    assert.equal(allowed.blocklist?.allowAt, `${dir}/allow.txt:1`);
  });
});

test("explain reads the cache without filling it, and says where a name would be forwarded", async () => {
  await withFixture(undefined, async ({ server, upstreamCount }) => {
    const before = await explain(server, "cached.example");
    assert.equal(before.source, "upstream");
    assert.equal(before.stage, "forward");
    assert.equal(before.cache, null);
    assert.equal(before.answer, null);
    assert.equal(before.forward?.zone, ".");
    assert.equal(before.forward?.upstreams.length, 1);
    // Explain sent nothing upstream and stored nothing.
    assert.equal(upstreamCount("cached.example"), 0);
    assert.equal(server.cache?.size, 0);

    const real = await ask(server.address, "udp", "cached.example", RRType.A);
    assert.equal(upstreamCount("cached.example"), 1);
    const after = await explain(server, "cached.example");
    assert.equal(after.source, "cache");
    assert.equal(after.cache?.kind, "answer");
    assert.equal(after.cache?.stale, false);
    assert.ok(after.cache!.ttlLeft > 0 && after.cache!.ttlLeft <= 60, `ttlLeft ${after.cache?.ttlLeft}`);
    assert.deepEqual(after.answer?.answers.map((record) => record.data), ["192.0.2.50"]);
    assert.equal(inTermsOfExplain(real).answers[0], "A 192.0.2.50");
    await assertSameAnswer(server, after, "cached.example", RRType.A);
    // The upstream answered, so its health shows: no failures, a round-trip time.
    const upstream = after.forward!.upstreams[0]!;
    assert.equal(upstream.failures, 0);
    assert.equal(typeof upstream.srttMs, "number");
    assert.equal(upstream.backingOff, false);
    // Still only the one real query upstream; the cache holds just that entry.
    assert.equal(upstreamCount("cached.example"), 1);
    assert.equal(server.cache?.size, 1);

    const hits = server.cache!.counters.hits;
    await explain(server, "cached.example");
    assert.equal(server.cache!.counters.hits, hits, "an explain is not a cache hit");
  });
});

test("explain takes no rate-limit token, and shows the client's bucket", async () => {
  await withFixture(undefined, async ({ server }) => {
    const fresh = await explain(server, "www.example.test");
    assert.deepEqual(fresh.client.rateLimit, { tokens: 100, perSecond: 100 });
    for (let i = 0; i < 5; i++) await ask(server.address, "udp", "www.example.test", RRType.A);
    const first = await explain(server, "www.example.test");
    const second = await explain(server, "www.example.test");
    assert.ok(first.client.rateLimit!.tokens < 100, `tokens ${first.client.rateLimit?.tokens}`);
    // Refilled a little between the two reads, never taken: the second is not one token fewer.
    assert.ok(second.client.rateLimit!.tokens >= first.client.rateLimit!.tokens);
  });
});

test("explain says when the ACL refuses a client, as the server answers it over UDP and TCP", async () => {
  await withFixture({ allow: [], deny: ["127.0.0.0/8"] }, async ({ server }) => {
    const refused = await explain(server, "www.example.test");
    assert.equal(refused.source, "refused");
    assert.equal(refused.stage, "access");
    assert.equal(refused.client.access, "deny");
    assert.equal(refused.answer?.rcode, "REFUSED");
    await assertSameAnswer(server, refused, "www.example.test", RRType.A);
  });
});

test("explain says when a client may not recurse: local data yes, the rest REFUSED", async () => {
  await withFixture(undefined, async ({ server }) => {
    const outside = "192.0.2.7";
    const local = await explain(server, "www.example.test", RRType.A, outside);
    assert.equal(local.source, "local");
    assert.equal(local.client.recursion, false);
    const forwarded = await explain(server, "fwd.example", RRType.A, outside);
    assert.equal(forwarded.source, "refused");
    assert.equal(forwarded.stage, "recursion");
    assert.equal(forwarded.answer?.rcode, "REFUSED");
    assert.deepEqual(forwarded.answer?.ede.map((error) => error.name), ["PROHIBITED"]);
  });
});

// ---------------------------------------------------------------------------------------------
// The pure parts

const questions: readonly { query: string; want: ReturnType<typeof explainQuestion> }[] = [
  {
    query: "name=www.example.com",
    want: { name: "www.example.com", type: 1, client: "127.0.0.1", dnssecOk: false },
  },
  {
    query: "name=example.com&type=aaaa&client=::1&do=1",
    want: { name: "example.com", type: 28, client: "::1", dnssecOk: true },
  },
  { query: "name=x&type=TYPE65", want: { name: "x", type: 65, client: "127.0.0.1", dnssecOk: false } },
  { query: "", want: "name is needed: /explain?name=NAME&type=TYPE" },
  { query: "name=a&type=BOGUS", want: 'type "BOGUS" is not a record type' },
  { query: "name=a&client=999.1.1.1", want: 'client "999.1.1.1" is not an IP address' },
  { query: "name=a&do=yes", want: 'do "yes" is not 0 or 1' },
];
for (const { query, want } of questions) {
  test(`explainQuestion() reads "${query}"`, () => {
    assert.deepEqual(explainQuestion(new URLSearchParams(query)), want);
  });
}

test("explainQuestion() rejects a name with a label over 63 octets", () => {
  const result = explainQuestion(new URLSearchParams(`name=${"a".repeat(64)}.com`));
  assert.equal(typeof result, "string");
});

const texts: Readonly<Record<string, string>> = {
  "/z/example.test.zone": ZONE,
  "/z/hosts": HOSTS,
  "/z/dnsd.toml": MAPPINGS_FILE,
  "/z/block.txt": BLOCKLIST,
  "/z/mappings.ts": `export default {\n  "nas.lan": "192.168.1.10",\n  router: "192.168.1.1",\n};\n`,
};
const read = (path: string) => Promise.resolve(texts[path] ?? null);

const finders: readonly { name: string; find: () => Promise<unknown>; want: unknown }[] = [
  { name: "a hosts name", find: () => hostsLineOf(["/z/hosts"], "printer", read), want: "/z/hosts:2" },
  {
    name: "a hosts address by its reverse name",
    find: () => hostsLineOf(["/z/hosts"], "20.1.168.192.in-addr.arpa", read),
    want: "/z/hosts:2",
  },
  { name: "no hosts line", find: () => hostsLineOf(["/z/hosts", "/z/gone"], "nas.lan", read), want: null },
  {
    name: "a TOML mapping",
    find: () => mappingLineOf("/z/dnsd.toml", "nas.lan", read),
    want: "/z/dnsd.toml:2",
  },
  {
    name: "a quoted mappings.ts key",
    find: () => mappingLineOf("/z/mappings.ts", "nas.lan", read),
    want: "/z/mappings.ts:2",
  },
  {
    name: "a bare mappings.ts key",
    find: () => mappingLineOf("/z/mappings.ts", "router", read),
    want: "/z/mappings.ts:3",
  },
  {
    name: "a hosts-format list line",
    find: () => listLineOf(["/z/block.txt"], "ads.example", read),
    want: "/z/block.txt:2",
  },
  {
    name: "an Adblock list line",
    find: () => listLineOf(["/z/block.txt"], "tracker.example", read),
    want: "/z/block.txt:3",
  },
  {
    name: "zone records with their lines",
    find: async () =>
      (await zoneRecordsAt(
        [{ file: "/z/example.test.zone" }],
        "mail.example.test",
        RRType.MX,
        (path) => Promise.resolve(texts[path] ?? null),
      )).map((record) => `${record.type} ${record.data} ${record.at}`),
    want: ["MX 10 www.example.test. /z/example.test.zone:7"],
  },
  {
    name: "a zone file that is gone",
    find: () => zoneRecordsAt([{ file: "/z/gone.zone" }], "www.example.test", RRType.A, read),
    want: [],
  },
];
for (const { name, find, want } of finders) {
  test(`explain finds ${name}`, async () => {
    assert.deepEqual(await find(), want);
  });
}
