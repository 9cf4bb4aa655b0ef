/**
 * Record runs, octet by octet: an owner spelled as the run's key is the two octets 0xC0 0x00 and
 * comes back as the key; an owner spelled otherwise (another case) is written out and keeps its
 * case; any other pointer is refused.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, throws } from "node:assert/strict";
import { DecodeError, readRecordRun, RecordRunWriter, type ResourceRecord } from "../../lib/proto/mod.ts";
import { a } from "../_records.ts";

const KEY = "www.example.org";

/** The A record of `name` for 192.0.2.1, TTL 300, as its octets after the owner. */
const AFTER_OWNER = [0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1];
const WWW_EXAMPLE_ORG = [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 111, 114, 103, 0];
const WWW_UPPER = [3, 87, 87, 87, 7, 101, 120, 97, 109, 112, 108, 101, 3, 111, 114, 103, 0];

const cases: readonly { name: string; records: ResourceRecord[]; octets: number[] }[] = [
  {
    name: "an owner spelled as the key is 0xC0 0x00",
    records: [a(KEY, 300)],
    octets: [0, 1, 0xc0, 0, ...AFTER_OWNER],
  },
  {
    name: "an owner in another case is written out",
    records: [a("WWW.example.org", 300)],
    octets: [0, 1, ...WWW_UPPER, ...AFTER_OWNER],
  },
  {
    name: "both in one run",
    records: [a(KEY, 300), a("WWW.example.org", 300)],
    octets: [0, 2, 0xc0, 0, ...AFTER_OWNER, ...WWW_UPPER, ...AFTER_OWNER],
  },
];

test("a record run writes an owner spelled as its key as two octets and reads it back", async (t) => {
  for (const { name, records, octets } of cases) {
    await t.step(name, () => {
      const run = new RecordRunWriter().write([{ records }], KEY);
      deepEqual([...run], octets);
      const read = readRecordRun(run, KEY);
      deepEqual(read, records);
      // The owner given back is the key itself, not a copy decoded per record.
      if (records[0]!.name === KEY) equal(read[0]!.name, KEY);
    });
  }
});

test("a record run refuses a pointer other than the key's", () => {
  throws(
    () => readRecordRun(Uint8Array.of(0, 1, 0xc0, 2, ...AFTER_OWNER), KEY),
    (error) => error instanceof DecodeError && error.reason === "bad-pointer",
  );
  deepEqual(readRecordRun(Uint8Array.of(0, 1, ...WWW_EXAMPLE_ORG, ...AFTER_OWNER), KEY)[0]!.name, KEY);
  equal(readRecordRun(Uint8Array.of(0, 0), KEY).length, 0);
});

test("a run of one A or AAAA record written from its fields is the run write() makes of it", () => {
  const writer = new RecordRunWriter();
  const v6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01);
  const records: [ResourceRecord, number, Uint8Array | null][] = [
    [a(KEY, 300), 0xc0000201, null],
    [{ name: KEY, class: 1, ttl: 0x7fffffff, data: { type: "A", address: "255.0.128.1" } }, 0xff008001, null],
    [{ name: KEY, class: 1, ttl: 0, data: { type: "AAAA", address: "2001:db8::ff01" } }, 0, v6],
  ];
  for (const [record, ipv4, ipv6] of records) {
    const whole = [...writer.write([{ records: [record] }], KEY)];
    deepEqual([...writer.writeAddress(record.ttl, ipv4, ipv6)], whole, JSON.stringify(record.data));
    deepEqual(readRecordRun(writer.writeAddress(record.ttl, ipv4, ipv6), KEY), [record]);
  }
  // An AAAA run after an A run, and back: nothing of one is left in the other.
  deepEqual([...writer.writeAddress(300, 0xc0000201, null)], [0, 1, 0xc0, 0, ...AFTER_OWNER]);
});
