/**
 * A zone's packed names give back the records the zone file holds, exactly: every type dnsd
 * parses, names in their written case and with escapes, RRsets in file order, empty non-terminals,
 * the signed test zones; and a run too big for one message, kept as it is.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { nameKey, type ResourceRecord, RRClass } from "../../lib/proto/mod.ts";
import type { ZoneNode } from "../../lib/zone/zone.ts";
import { buildZone } from "../../lib/zone/zone.ts";
import { PackedNodesBuilder, packNodes, RepeatedKey } from "../../lib/zone/packed_nodes.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { typeCode } from "../../lib/proto/rdata.ts";
import { a } from "../_records.ts";

const EVERY_TYPE = `$ORIGIN Example.ORG.
$TTL 300
@          SOA    ns1 hostmaster 2024010101 7200 900 1209600 60
@          NS     ns1
@          NS     NS2.example.net.
@          MX     10 Mail
@          TXT    "v=spf1 -all" "second \\"quoted\\" string" "\\255\\000"
@          CAA    0 issue "ca.example.net"
@          HTTPS  1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEX+DQBBpQAgACBc9Dc8x4h7A2ya1zJuiGvUTNBeRWRlbGgkmsfg8Y4X4wAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA=
ns1        A      192.0.2.53
ns1        AAAA   2001:DB8::53
Mail       AAAA   2001:db8:0:0:0:0:0:25
www        CNAME  @
_sip._tcp  SRV    10 60 5060 sip.Example.ORG.
sip        A      192.0.2.60
svc        SVCB   0 www
deep.a.b.c A      192.0.2.7
esc\\.aped A      192.0.2.8
sp\\032ace  A      192.0.2.9
key        DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
key        DS     2371 13 2 c988ec423e3880eb8dd8a46fe06ca230ee23f35b578d64e1d6e2fddf5148ccd8
unknown    TYPE65280 \\# 3 abcdef
rev        PTR    host.Example.ORG.
`;

/** The records of `text` grouped as a zone groups them: by owner key, then by type in order of appearance. */
function grouped(records: readonly ResourceRecord[]): Map<string, Map<number, ResourceRecord[]>> {
  const nodes = new Map<string, Map<number, ResourceRecord[]>>();
  for (const record of records) {
    const key = nameKey(record.name);
    if (!nodes.has(key)) nodes.set(key, new Map());
    const byType = nodes.get(key)!;
    const type = typeCode(record.data);
    if (!byType.has(type)) byType.set(type, []);
    byType.get(type)!.push(record);
  }
  return nodes;
}

function asGroups(node: ZoneNode): Map<number, ResourceRecord[]> {
  return new Map(node.rrsets.map((rrset) => [rrset.type, [...rrset.records]]));
}

async function packedAgainstFile(path: string, read: (path: string) => Promise<string>): Promise<void> {
  const parsed = await parseZoneFile(path, { read });
  const zone = buildZone(parsed, path);
  const expected = grouped(parsed.records);
  for (const [key, byType] of expected) {
    const node = zone.nodes.get(key);
    ok(node, `${key} is there`);
    deepEqual(asGroups(node), byType, key);
    // Looked up again (from the recently decoded): the same.
    deepEqual(asGroups(zone.nodes.get(key)!), byType, key);
  }
  // Every name it walks is one of the file's, or an empty non-terminal above one.
  let walked = 0;
  for (const key of zone.nodes.keys()) {
    walked++;
    ok(zone.nodes.has(key));
    if (!expected.has(key)) equal(zone.nodes.get(key)!.rrsets.length, 0, `${key} is an empty non-terminal`);
  }
  equal(walked, zone.nodes.size);
  equal([...zone.nodes.values()].length, zone.nodes.size);
  equal(zone.nodes.get(`nowhere.${zone.key}`), undefined);
  equal(zone.nodes.has(`nowhere.${zone.key}`), false);
}

test("packed names give back every record of the file, exactly", async (t) => {
  await t.step("every type dnsd parses, names in their case and escaped", async () => {
    await packedAgainstFile("every.zone", () => Promise.resolve(EVERY_TYPE));
  });
  for (const file of ["nsec.example.test.zone", "nsec3.example.test.zone", "optout.example.test.zone"]) {
    await t.step(`the signed test zone ${file}`, async () => {
      const folder = new URL("../testdata/zones/signed/", import.meta.url);
      await packedAgainstFile(file, (path) => Deno.readTextFile(new URL(path, folder)));
    });
  }
});

test("a name whose records are too many for one message is kept as it is", () => {
  const records: ResourceRecord[] = [];
  for (let i = 0; i < 5000; i++) {
    records.push({
      name: "big.example",
      class: RRClass.IN,
      ttl: 60,
      data: { type: "TXT", strings: [new TextEncoder().encode(`record ${i} ${"x".repeat(10)}`)] },
    });
  }
  const node: ZoneNode = { rrsets: [{ type: 16, records }] };
  const packed = packNodes(new Map([["big.example", node], ["small.example", { rrsets: [] }]]));
  equal(packed.size, 2);
  deepEqual(packed.get("big.example"), node);
  deepEqual(packed.get("small.example"), { rrsets: [] });
  deepEqual([...packed.keys()].sort(), ["big.example", "small.example"]);
});

test("a builder finds every key it has and no other, placed in bulk or one at a time", () => {
  const builder = new PackedNodesBuilder();
  const count = 100_000; // placed by region of the table (past SORT_FROM, 4,096), when first asked
  for (let i = 0; i < count; i++) {
    builder.add(`n${i}.example`, i % 2 === 0 ? [] : [{ type: 1, records: [a(`n${i}.example`, 60)] }]);
  }
  for (let i = 0; i < count; i++) ok(builder.has(`n${i}.example`), `n${i} in`);
  equal(builder.indexOf("n777.example"), 777);
  // Then one at a time: each placed as the next question comes.
  for (let i = count; i < count + 1000; i++) {
    ok(!builder.has(`n${i}.example`), `n${i} not in yet`);
    builder.add(`n${i}.example`, []);
    ok(builder.has(`n${i}.example`), `n${i} in`);
  }
  for (let i = count + 1000; i < count + 2000; i++) ok(!builder.has(`n${i}.example`), `n${i} never added`);
  const packed = builder.build();
  equal(packed.size, count + 1000);
  equal(packed.get("n99999.example")?.rrsets[0]?.records[0]?.name, "n99999.example");
  deepEqual(packed.get("n99998.example"), { rrsets: [] });
});

test("a key added twice is found when the keys are placed", async (t) => {
  const cases: Record<string, { count: number; again: number }> = {
    "placed one at a time": { count: 100, again: 42 },
    "placed by region": { count: 10_000, again: 4321 },
  };
  for (const [name, { count, again }] of Object.entries(cases)) {
    await t.step(name, () => {
      const builder = new PackedNodesBuilder();
      for (let i = 0; i < count; i++) builder.add(`n${i}.example`, []);
      builder.add(`N${again}.example`.toLowerCase(), [{ type: 1, records: [a(`n${again}.example`, 60)] }]);
      throws(() => builder.build(), RepeatedKey);
    });
  }
  await t.step("kept apart (too many records for a message), then packed", () => {
    const builder = new PackedNodesBuilder();
    const many = Array.from({ length: 5000 }, (_, i) => ({
      name: "big.example",
      class: RRClass.IN,
      ttl: 60,
      data: { type: "TXT" as const, strings: [new TextEncoder().encode(`record ${i} of many`)] },
    }));
    builder.add("big.example", [{ type: 16, records: many }]);
    builder.add("big.example", [{ type: 1, records: [a("big.example", 60)] }]);
    throws(() => builder.build(), RepeatedKey);
  });
  await t.step("kept apart (a key past Latin-1)", () => {
    const builder = new PackedNodesBuilder();
    builder.add("\u{1F600}.example", []);
    throws(() => builder.add("\u{1F600}.example", []), RepeatedKey);
  });
});
