/**
 * Zone semantics (`buildZone`): one table of broken zones with the `file:line:column` of the record
 * that breaks the rule, the nodes of a good zone, and the real tests/testdata/zones/example.org.zone.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, fail, ok } from "node:assert/strict";
import { ParseError } from "../../lib/proto/errors.ts";
import { type RData, type ResourceRecord, RRClass, RRType } from "../../lib/proto/types.ts";
import { buildZone, rrsetOf, type Zone } from "../../lib/zone/zone.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { needsPermissions } from "../_tools.ts";
import { BROKEN_ZONES as broken, HEAD, SOA } from "./_broken_zones.ts";

/** Parses and builds `text` as z.zone, read from a Map (no files needed). */
async function zoneOf(text: string, origin?: string): Promise<Zone> {
  const files = new Map([["z.zone", text]]);
  const read = (path: string) => Promise.resolve(files.get(path) ?? "");
  const parsed = await parseZoneFile("z.zone", { read });
  return buildZone(parsed, "z.zone", origin);
}

test("buildZone() rejects a broken zone at the record that breaks the rule", async (t) => {
  for (const { name, text, origin, at, reason } of broken) {
    await t.step(name, async () => {
      try {
        await zoneOf(text, origin);
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        const { file, line, column } = error.location;
        equal(`${file}:${line}:${column}`, at, error.message);
        ok(error.reason.includes(reason), `${JSON.stringify(error.reason)} lacks ${JSON.stringify(reason)}`);
        return;
      }
      fail(`no ParseError for ${name}`);
    });
  }
});

const GOOD = `${HEAD}${SOA}@ NS ns
ns A 192.0.2.1
a.b.c A 192.0.2.3
sub NS ns.sub
ns.sub A 192.0.2.53
*.wild TXT x
escaped\\.dot A 192.0.2.77
NS.example.org. AAAA 2001:db8::1
signed CNAME ns
signed RRSIG CNAME 13 3 300 20261231000000 20261101000000 1 example.org. AAAA
`;

test("buildZone() indexes every name, empty non-terminals included", async () => {
  const zone = await zoneOf(GOOD, "EXAMPLE.org.");
  equal(zone.apex, "example.org");
  equal(zone.key, "example.org");
  deepEqual(zone.soa.data, {
    type: "SOA",
    mname: "ns.example.org",
    rname: "h.example.org",
    serial: 1,
    refresh: 2,
    retry: 3,
    expire: 4,
    minimum: 5,
  });
  equal(zone.size, 11);
  equal(zone.hasDelegations, true);
  deepEqual([...zone.nodes.keys()].sort(), [
    "*.wild.example.org",
    "a.b.c.example.org",
    "b.c.example.org", // empty non-terminal
    "c.example.org", // empty non-terminal
    "escaped\\.dot.example.org", // one label: no "dot.example.org" above it
    "example.org",
    "ns.example.org",
    "ns.sub.example.org",
    "signed.example.org",
    "sub.example.org",
    "wild.example.org", // empty non-terminal
  ]);
  for (const empty of ["b.c.example.org", "c.example.org", "wild.example.org"]) {
    deepEqual(zone.nodes.get(empty)?.rrsets, [], empty);
  }
  const apex = zone.nodes.get("example.org")!;
  deepEqual(apex.rrsets.map((set) => set.type), [RRType.SOA, RRType.NS]);
  const ns = zone.nodes.get("ns.example.org")!;
  deepEqual(ns.rrsets.map((set) => [set.type, set.records.length]), [[RRType.A, 1], [RRType.AAAA, 1]]);
  equal(rrsetOf(ns, RRType.AAAA)?.records[0]?.name, "NS.example.org"); // case kept
  equal(rrsetOf(ns, RRType.MX), undefined);
  deepEqual(zone.nodes.get("signed.example.org")!.rrsets.map((set) => set.type), [
    RRType.CNAME,
    RRType.RRSIG,
  ]);
});

test("buildZone() groups records of one name and type into one RRset, in file order", async () => {
  const zone = await zoneOf(`${HEAD}${SOA}www A 192.0.2.1\nWWW TXT x\nwww A 192.0.2.2\n`);
  const www = zone.nodes.get("www.example.org")!;
  deepEqual(www.rrsets.map((set) => set.records.map((r) => r.data)), [
    [{ type: "A", address: "192.0.2.1" }, { type: "A", address: "192.0.2.2" }],
    [{ type: "TXT", strings: [new TextEncoder().encode("x")] }],
  ]);
  equal(zone.size, 4);
});

test("buildZone() sets hasDelegations only for NS below the apex", async (t) => {
  const cases = [
    { name: "NS at the apex only", text: `${HEAD}${SOA}@ NS ns\nns A 192.0.2.1\n`, expected: false },
    { name: "no NS at all", text: `${HEAD}${SOA}`, expected: false },
    { name: "an NS target below the apex", text: `${HEAD}${SOA}@ NS ns.sub\n`, expected: false },
    { name: "NS one level down", text: `${HEAD}${SOA}sub NS ns.example.net.\n`, expected: true },
    { name: "NS deep down", text: `${HEAD}${SOA}a.b.sub NS ns.example.net.\n`, expected: true },
  ];
  for (const { name, text, expected } of cases) {
    await t.step(name, async () => equal((await zoneOf(text)).hasDelegations, expected));
  }
});

const ZONE_FILE = new URL("../testdata/zones/example.org.zone", import.meta.url).pathname;
const rr = (name: string, ttl: number, data: RData): ResourceRecord => ({
  name,
  class: RRClass.IN,
  ttl,
  data,
});
const octets = (text: string) => new TextEncoder().encode(text);
const alpn = (...ids: string[]) => Uint8Array.from(ids.flatMap((id) => [id.length, ...octets(id)]));

test(
  needsPermissions(["read"], "parseZoneFile() and buildZone() read testdata/zones/example.org.zone"),
  async () => {
    const parsed = await parseZoneFile(ZONE_FILE, { read: (path) => Deno.readTextFile(path) });
    const zone = buildZone(parsed, ZONE_FILE, "example.org.");
    const { records, locations } = parsed;
    const find = (name: string, type: string) =>
      records.filter((r) => r.name === name && r.data.type === type);

    equal(zone.apex, "example.org");
    equal(records.length, 55);
    equal(zone.size, 55);
    equal(zone.hasDelegations, true);
    deepEqual(
      zone.soa,
      rr("example.org", 3600, {
        type: "SOA",
        mname: "ns1.example.org",
        rname: "hostmaster.example.org",
        serial: 2026112601,
        refresh: 7200,
        retry: 3600, // 1h
        expire: 1209600, // 2w
        minimum: 300,
      }),
    );
    deepEqual(find("example.org", "TXT"), [
      rr("example.org", 3600, {
        type: "TXT",
        strings: [octets("v=spf1 -all"), octets('second "quoted" string; not a comment')],
      }),
    ]);
    deepEqual(find("example.org", "NS").map((r) => r.data), [
      { type: "NS", host: "ns1.example.org" },
      { type: "NS", host: "ns2.example.org" },
    ]);
    // The $INCLUDE with origin inc.example.org, then `after` back at example.org.
    deepEqual(find("inc.example.org", "A"), [
      rr("inc.example.org", 3600, { type: "A", address: "192.0.2.200" }),
    ]);
    deepEqual(find("host.inc.example.org", "A"), [
      rr("host.inc.example.org", 3600, { type: "A", address: "192.0.2.201" }),
    ]);
    const host = records.findIndex((r) => r.name === "host.inc.example.org");
    ok(locations[host]!.file.endsWith("/testdata/zones/included.zone"), locations[host]!.file);
    equal(locations[host]!.line, 3);
    deepEqual(records.at(-1), rr("after.example.org", 3600, { type: "A", address: "192.0.2.88" }));
    equal(locations.at(-1)!.file, ZONE_FILE);
    deepEqual(find("escaped\\.dot.example.org", "A"), [
      rr("escaped\\.dot.example.org", 3600, { type: "A", address: "192.0.2.77" }),
    ]);
    deepEqual(find("generic.example.org", "unknown"), [
      rr("generic.example.org", 3600, {
        type: "unknown",
        code: 65534,
        bytes: Uint8Array.of(0xab, 0xcd, 0xef),
      }),
    ]);
    deepEqual(find("svc.example.org", "SVCB").map((r) => r.data), [{
      type: "SVCB",
      priority: 1,
      target: "",
      params: [{ key: 1, value: alpn("h2", "h3") }, { key: 3, value: Uint8Array.of(0x20, 0xfb) }], // port 8443
    }]);
    deepEqual(find("example.org", "HTTPS").map((r) => r.data), [{
      type: "HTTPS",
      priority: 1,
      target: "",
      params: [{ key: 1, value: alpn("h2") }, { key: 4, value: Uint8Array.of(192, 0, 2, 10) }],
    }]);
    // ns2's A has its own TTL; its AAAA, with the owner and TTL omitted, takes $TTL as all others do.
    deepEqual(find("ns2.example.org", "A"), [rr("ns2.example.org", 60, { type: "A", address: "192.0.2.2" })]);
    deepEqual(find("ns2.example.org", "AAAA"), [
      rr("ns2.example.org", 3600, { type: "AAAA", address: "2001:db8::2" }),
    ]);
    deepEqual(records.filter((r) => r.ttl !== 3600), find("ns2.example.org", "A"));
    for (const name of ["b.c.example.org", "c.example.org", "wild.example.org", "_udp.example.org"]) {
      deepEqual(zone.nodes.get(name)?.rrsets, [], name);
    }
    equal(zone.nodes.has("dot.example.org"), false);
  },
);
