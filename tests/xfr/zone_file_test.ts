/**
 * A secondary's copy on disk: file names kept inside the folder, the text read back as the same
 * zone (every record type the codec knows, and an unknown one), written atomically, and a broken
 * or wrong-zone copy refused.
 * @module
 */
import assert from "node:assert/strict";
import { DataError, formatRData, type ResourceRecord } from "../../lib/proto/mod.ts";
import { buildZone } from "../../lib/zone/mod.ts";
import { readZoneFile, writeZoneFile, zoneFileName, zoneRecords } from "../../lib/xfr/mod.ts";
import { test } from "../_limit.ts";
import { recordsOf, soaAt } from "./_xfr.ts";

const names = [
  { zone: "example.com", file: "example.com.zone" },
  { zone: "Example.COM.", file: "example.com.zone" },
  { zone: "", file: "root.zone" },
  { zone: "a\\/b.example", file: "a%5c%2fb.example.zone" },
  { zone: "a\\.b.example", file: "a%5c.b.example.zone" },
  { zone: "x y.example", file: "x%20y.example.zone" },
];

for (const row of names) {
  test(`zoneFileName() names "${row.zone}" ${row.file}`, () => {
    assert.equal(zoneFileName(row.zone), row.file);
  });
}

function lines(records: readonly ResourceRecord[]): string[] {
  return records.map((r) => `${r.name} ${r.ttl} ${r.data.type} ${formatRData(r.data)}`).sort();
}

const BODY = `
@        NS     ns1
@        MX     10 mail
@        TXT    "v=spf1 -all" "a \\"quoted\\" string"
@        CAA    0 issue "ca.example"
ns1      A      192.0.2.53
ns1      AAAA   2001:db8::53
mail     A      192.0.2.25
_sip._tcp SRV   10 5 5060 sip
sip      CNAME  mail
svc      HTTPS  1 . alpn=h2
sub      NS     ns.sub
ns.sub   A      192.0.2.99
sub      DS     12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
odd      TYPE65280 \\# 3 010203
`;

test("writeZoneFile() writes a copy readZoneFile() reads back as the same zone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const zone = buildZone(
      { records: [soaAt(7), ...await recordsOf(BODY)], locations: [] },
      "t",
      "example.com",
    );
    const path = await writeZoneFile(dir, zone);
    assert.equal(path, `${dir}/example.com.zone`);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["example.com.zone"], "no temporary file is left");
    const copy = await readZoneFile(dir, "example.com");
    assert.ok(copy);
    assert.equal(copy.soa.data.serial, 7);
    assert.deepEqual(lines(zoneRecords(copy)), lines(zoneRecords(zone)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const broken = [
  {
    name: "a file cut in the middle of a record",
    text: "$ORIGIN example.com.\nexample.com. 3600 IN SOA ns1",
  },
  {
    name: "another zone's copy",
    text: "example.org. 3600 IN SOA ns1.example.org. h.example.org. 1 2 3 4 5\n",
  },
  { name: "a copy with no SOA", text: "www.example.com. 3600 IN A 192.0.2.1\n" },
  { name: "an $INCLUDE", text: '$INCLUDE "/etc/passwd"\n' },
];

for (const row of broken) {
  test(`readZoneFile() refuses ${row.name}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/example.com.zone`, row.text);
      await assert.rejects(readZoneFile(dir, "example.com"), DataError);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

test("readZoneFile() finds no copy in an empty folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readZoneFile(dir, "example.com"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
