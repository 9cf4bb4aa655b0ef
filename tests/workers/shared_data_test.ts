/**
 * What a worker is sent (lib/workers): local data, lists and metrics as they cross a
 * structured clone (what `postMessage` does). The zone's packed names and the lists' arrays must
 * arrive as the same memory, not a copy (a write to the original shows through the clone), and the
 * copy must answer every lookup as the original does.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { blockPolicyFromShared, DomainSet, isBlocked, shareBlockPolicy } from "../../lib/block/mod.ts";
import { Metrics, UpstreamResult } from "../../lib/observe/mod.ts";
import { RRType } from "../../lib/proto/mod.ts";
import { buildZone, localDataFromShared, parseZoneFile, shareLocalData } from "../../lib/zone/mod.ts";
import { buildLocalData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { PackedNodes } from "../../lib/zone/packed_nodes.ts";
import { ZoneStream } from "../../lib/zone/zone_stream.ts";

const ZONE = `$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A 192.0.2.80
www IN AAAA 2001:db8::80
a.b.c IN TXT "deep"
`;

async function sampleData() {
  const parsed = await parseZoneFile("example.zone", { read: () => Promise.resolve(ZONE) });
  const zone = buildZone(parsed, "example.zone");
  return buildLocalData({
    zones: [zone],
    hosts: [],
    mappings: mappingRecords({ "local.test": "192.0.2.7" }),
  });
}

test("shared local data: a structured clone answers every name as the original, over the same memory", async () => {
  const data = await sampleData();
  const packed = data.zones.get("example.test")!.nodes as PackedNodes;
  const before = [...data.zones.get("example.test")!.nodes.keys()];
  const shared = shareLocalData(data);
  assert.deepEqual([...packed.keys()], before, "the same names once moved");
  const arrived = localDataFromShared(structuredClone(shared));
  const original = data.zones.get("example.test")!;
  const copy = arrived.zones.get("example.test")!;
  assert.deepEqual([...copy.nodes.keys()].sort(), [...original.nodes.keys()].sort());
  for (const key of original.nodes.keys()) {
    assert.deepEqual(copy.nodes.get(key), original.nodes.get(key), key);
  }
  assert.equal(copy.nodes.has("c.example.test"), true); // an empty non-terminal
  assert.equal(copy.nodes.get("nope.example.test"), undefined);
  assert.deepEqual(copy.soa, original.soa);
  assert.deepEqual([...copy.parents], [...original.parents]);
  assert.deepEqual(arrived.names.get("local.test"), data.names.get("local.test"));
  assert.equal(arrived.size, data.size);
  // The same memory: every packed array is in a SharedArrayBuffer, and the clone sees a write to it.
  const parts = (original.nodes as PackedNodes).share();
  for (const array of [parts.keys, parts.runs, parts.keyStarts, parts.runStarts, parts.types, parts.table]) {
    assert.ok(array.buffer instanceof SharedArrayBuffer);
  }
  const cloned = structuredClone(parts);
  parts.keys[0] = parts.keys[0]! ^ 0xff;
  assert.equal(cloned.keys[0], parts.keys[0]);
  parts.keys[0] = parts.keys[0]! ^ 0xff;
});

test("packed in shared memory from the start (--workers): sharing copies nothing, and answers alike", async () => {
  const parsed = await parseZoneFile("example.zone", { read: () => Promise.resolve(ZONE) });
  const plain = buildZone(parsed, "example.zone").nodes as PackedNodes;
  const shared = buildZone(parsed, "example.zone", undefined, true).nodes as PackedNodes;
  const parts = shared.share();
  assert.ok(
    parts.keys.buffer instanceof SharedArrayBuffer && parts.table.buffer instanceof SharedArrayBuffer,
  );
  const again = shared.share();
  assert.equal(again.keys, parts.keys, "the same arrays: nothing copied");
  assert.equal(again.table, parts.table);
  for (const key of plain.keys()) assert.deepEqual(shared.get(key), plain.get(key), key);
  const streamed = new ZoneStream(undefined, true);
  await parseZoneFile("example.zone", {
    read: () => Promise.resolve(ZONE),
    ...streamed.parserSink,
  });
  const nodes = streamed.finish().zone.nodes as PackedNodes;
  assert.equal(nodes.share().runs, nodes.share().runs);
  assert.ok(nodes.share().runs.buffer instanceof SharedArrayBuffer);
});

test("shared lists: a clone blocks and allows as the original; adding after sharing leaves the clone alone", () => {
  const blocked = new DomainSet(["ads.example", "tracker.example.com"]);
  const allowed = new DomainSet(["ok.ads.example"]);
  const shared = shareBlockPolicy({ lists: { blocked, allowed }, mode: "nxdomain" });
  const arrived = blockPolicyFromShared(structuredClone(shared));
  assert.equal(arrived.mode, "nxdomain");
  const names = [
    "ads.example",
    "x.ads.example",
    "ok.ads.example",
    "a.ok.ads.example",
    "tracker.example.com",
    "example.com",
    "",
  ];
  for (const name of names) {
    assert.equal(isBlocked(arrived.lists, name), isBlocked({ blocked, allowed }, name), name);
  }
  assert.ok(shared.blocked.table.buffer instanceof SharedArrayBuffer);
  assert.equal(blocked.share().table, shared.blocked.table, "shared once: the same parts again");
  blocked.add("more.example");
  assert.equal(blocked.longestSuffix("x.more.example"), "more.example".length);
  assert.equal(arrived.lists.blocked.longestSuffix("x.more.example"), -1);
  assert.equal(arrived.lists.blocked.size, 2);
});

test("metrics: snapshots from several servers sum into one", () => {
  const query = new Uint8Array([
    0,
    1,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    RRType.A >> 8,
    RRType.A & 0xff,
    0,
    1,
  ]);
  const response = query.slice();
  response[2]! |= 0x80;
  const client: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 1 };
  const one = new Metrics();
  const two = new Metrics();
  one.observe(query, response, client, "udp", 0, 0, null, false);
  two.observe(query, response, client, "udp", 0, 0, null, true);
  two.observe(query, response, client, "tcp", 0, 0, null, false);
  two.upstreamTry(two.upstreamIndex("192.0.2.53:53"), UpstreamResult.OK, 0.004);
  const sum = new Metrics();
  sum.absorb(structuredClone(one.snapshot()));
  sum.absorb(structuredClone(two.snapshot()));
  const totals = sum.totals();
  assert.equal(totals.queries, 3);
  assert.equal(totals.rateLimited, 1);
  assert.equal(Object.values(totals.bySource).reduce((all, count) => all + count, 0), 3);
  assert.ok(sum.upstreamAnswered);
  assert.match(sum.render(), /dnsd_upstream_requests_total\{upstream="192\.0\.2\.53:53",result="ok"\} 1/);
});
