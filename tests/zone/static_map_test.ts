/**
 * The `mappings.ts` table: every value form, a record set for every type dnsd knows by text, and
 * one table of bad entries with the exact startup message each one gives.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, throws } from "node:assert/strict";
import { DataError } from "../../lib/proto/errors.ts";
import { MAPPING_TTL, mappingRecords, type Mappings } from "../../lib/zone/static_map.ts";
import { type RData, type ResourceRecord, RRClass } from "../../lib/proto/types.ts";
import mappings from "../../mappings.ts";
import { hex } from "../_hex.ts";

function record(name: string, data: RData, ttl = MAPPING_TTL): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data };
}
const text = (value: string) => new TextEncoder().encode(value);

test("mappings.ts holds its four A records", () => {
  deepEqual(mappingRecords(mappings), [
    record("example.com", { type: "A", address: "8.8.8.8" }),
    record("test.com", { type: "A", address: "8.8.4.4" }),
    record("helloworld.com", { type: "A", address: "1.1.1.1" }),
    record("random.org", { type: "A", address: "1.0.0.1" }),
  ]);
});

const forms: readonly { name: string; table: Mappings; records: ResourceRecord[] }[] = [
  {
    name: "an IPv4 address",
    table: { "nas.lan": "192.168.1.5" },
    records: [record("nas.lan", { type: "A", address: "192.168.1.5" })],
  },
  {
    name: "an IPv6 address, in RFC 5952 form",
    table: { "v6.lan": "2001:DB8:0:0::1" },
    records: [record("v6.lan", { type: "AAAA", address: "2001:db8::1" })],
  },
  {
    name: "a list of IPv4 and IPv6 addresses",
    table: { "dual.lan": ["192.168.1.6", "2001:db8::6", "192.168.1.7"] },
    records: [
      record("dual.lan", { type: "A", address: "192.168.1.6" }),
      record("dual.lan", { type: "AAAA", address: "2001:db8::6" }),
      record("dual.lan", { type: "A", address: "192.168.1.7" }),
    ],
  },
  {
    name: "a record set with its own ttl",
    table: { lan: { A: ["192.168.1.1", "192.168.1.2"], AAAA: "2001:db8::1", ttl: 60 } },
    records: [
      record("lan", { type: "A", address: "192.168.1.1" }, 60),
      record("lan", { type: "A", address: "192.168.1.2" }, 60),
      record("lan", { type: "AAAA", address: "2001:db8::1" }, 60),
    ],
  },
  {
    name: "a name with a root dot, kept in its case without the dot",
    table: { "NAS.Lan.": "10.0.0.1", "ttl0.lan": { A: "10.0.0.2", ttl: 0 } },
    records: [
      record("NAS.Lan", { type: "A", address: "10.0.0.1" }),
      record("ttl0.lan", { type: "A", address: "10.0.0.2" }, 0),
    ],
  },
];

test("mappingRecords() reads every value form", async (t) => {
  for (const { name, table, records } of forms) {
    await t.step(name, () => deepEqual(mappingRecords(table), records));
  }
});

test("mappingRecords() gives entries without a ttl the table's TTL", () => {
  deepEqual(mappingRecords({ a: "10.0.0.1", b: { A: "10.0.0.2", ttl: 5 }, c: ["::1"] }, 3600), [
    record("a", { type: "A", address: "10.0.0.1" }, 3600),
    record("b", { type: "A", address: "10.0.0.2" }, 5),
    record("c", { type: "AAAA", address: "::1" }, 3600),
  ]);
  throws(() => mappingRecords({}, -1), DataError);
});

const long = "x".repeat(300);
const accents = "é".repeat(200); // 400 octets: the split must not cut a two-octet character
const types: readonly { type: string; value: Mappings[string]; data: RData[] }[] = [
  { type: "A", value: { A: "192.0.2.1" }, data: [{ type: "A", address: "192.0.2.1" }] },
  {
    type: "AAAA",
    value: { AAAA: ["2001:db8::1", "::ffff:192.0.2.1"] },
    data: [
      { type: "AAAA", address: "2001:db8::1" },
      { type: "AAAA", address: "::ffff:192.0.2.1" },
    ],
  },
  {
    type: "CNAME",
    value: { CNAME: "target.example.com" },
    data: [{ type: "CNAME", target: "target.example.com" }],
  },
  {
    type: "CNAME to the root dot form",
    value: { CNAME: "target.example.com." },
    data: [
      { type: "CNAME", target: "target.example.com" },
    ],
  },
  {
    type: "MX",
    value: { MX: ["10 mail.example.com", "20 backup.example.com.", "0 ."] },
    data: [
      { type: "MX", preference: 10, exchange: "mail.example.com" },
      { type: "MX", preference: 20, exchange: "backup.example.com" },
      { type: "MX", preference: 0, exchange: "" }, // RFC 7505 null MX
    ],
  },
  {
    type: "MX in lower case",
    value: { mx: "10 mail" },
    data: [{ type: "MX", preference: 10, exchange: "mail" }],
  },
  {
    type: "TXT",
    value: { TXT: ["v=spf1 -all", 'a "quoted" \\065 ; not a comment', ""] },
    data: [
      { type: "TXT", strings: [text("v=spf1 -all")] },
      { type: "TXT", strings: [text('a "quoted" \\065 ; not a comment')] },
      { type: "TXT", strings: [new Uint8Array()] },
    ],
  },
  {
    type: "TXT over 255 octets",
    value: { TXT: [long, accents] },
    data: [
      { type: "TXT", strings: [text(long.slice(0, 255)), text(long.slice(255))] },
      { type: "TXT", strings: [text(accents.slice(0, 127)), text(accents.slice(127))] },
    ],
  },
  {
    type: "NS",
    value: { NS: ["ns1.example.com", "ns2.example.net."] },
    data: [
      { type: "NS", host: "ns1.example.com" },
      { type: "NS", host: "ns2.example.net" },
    ],
  },
  { type: "PTR", value: { PTR: "host.example.com" }, data: [{ type: "PTR", target: "host.example.com" }] },
  {
    type: "SOA",
    value: { SOA: "ns1.example.com hostmaster.example.com ( 2024010101 1h 15m 1w 300 )" },
    data: [{
      type: "SOA",
      mname: "ns1.example.com",
      rname: "hostmaster.example.com",
      serial: 2024010101,
      refresh: 3600,
      retry: 900,
      expire: 604800,
      minimum: 300,
    }],
  },
  {
    type: "SRV",
    value: { SRV: "0 5 5060 sip.example.com" },
    data: [
      { type: "SRV", priority: 0, weight: 5, port: 5060, target: "sip.example.com" },
    ],
  },
  {
    type: "TYPE65534 (RFC 3597)",
    value: { TYPE65534: "\\# 2 abcd" },
    data: [
      { type: "unknown", code: 65534, bytes: hex`abcd` },
    ],
  },
  {
    type: "MX in the RFC 3597 form",
    value: { MX: "\\# 3 000a 00" },
    data: [
      { type: "MX", preference: 10, exchange: "" },
    ],
  },
];

test("mappingRecords() reads a record set of every type", async (t) => {
  for (const { type, value, data } of types) {
    await t.step(type, () => {
      deepEqual(mappingRecords({ "set.lan": value }), data.map((d) => record("set.lan", d)));
    });
  }
});

const bad: readonly { name: string; table: unknown; message: string | RegExp }[] = [
  {
    name: "an octet over 255",
    table: { "ok.lan": "10.0.0.1", nas: "999.1.1.1" },
    message: 'Cannot load mapping "nas": "999.1.1.1" is not an IPv4 or IPv6 address',
  },
  {
    name: "a name, not an address",
    table: { router: "router.lan" },
    message: 'Cannot load mapping "router": "router.lan" is not an IPv4 or IPv6 address',
  },
  {
    name: "a bad address in a list",
    table: { dual: ["10.0.0.1", "10.0.0"] },
    message: 'Cannot load mapping "dual": "10.0.0" is not an IPv4 or IPv6 address',
  },
  { name: "an empty list", table: { e: [] }, message: 'Cannot load mapping "e": the address list is empty' },
  {
    name: "an address twice",
    table: { d: ["::1", "0::1"] },
    message: 'Cannot load mapping "d": "::1" is listed twice',
  },
  {
    name: "an empty label",
    table: { "a..b": "10.0.0.1" },
    message: /^Cannot load mapping "a\.\.b": empty label/,
  },
  {
    name: "a label over 63 octets",
    table: { [`${"x".repeat(64)}.lan`]: "10.0.0.1" },
    message: /^Cannot load mapping "x{64}\.lan": label over 63 octets/,
  },
  {
    name: "one name twice, in another case",
    table: { "nas.lan": "10.0.0.1", "NAS.lan.": "10.0.0.2" },
    message: 'Cannot load mapping "NAS.lan.": the same name as mapping "nas.lan"',
  },
  {
    name: "a value of the wrong kind",
    table: { n: 5 },
    message: 'Cannot load mapping "n": expected an address, a list of addresses or a record set',
  },
  {
    name: "a bad MX preference",
    table: { x: { MX: ["ten mail"] } },
    message:
      'Cannot load mapping "x": MX "ten mail": bad preference "ten": expected a whole number from 0 to 65535',
  },
  {
    name: "an MX without its exchange",
    table: { x: { MX: "10" } },
    message: 'Cannot load mapping "x": MX "10": missing mail exchange',
  },
  {
    name: "extra RDATA",
    table: { x: { SRV: "0 5 5060 sip.lan extra" } },
    message:
      'Cannot load mapping "x": SRV "0 5 5060 sip.lan extra": unexpected "extra" after the record data',
  },
  {
    name: "two records in one string",
    table: { x: { NS: "ns1.lan\nns2.lan" } },
    message: 'Cannot load mapping "x": NS "ns1.lan\\nns2.lan": one record per string',
  },
  {
    name: "an unterminated quote",
    table: { x: { SOA: 'ns "x' } },
    message: 'Cannot load mapping "x": SOA "ns \\"x": unterminated quoted string',
  },
  {
    name: "an IPv6 address under A",
    table: { x: { A: "2001:db8::1" } },
    message: 'Cannot load mapping "x": A "2001:db8::1": not an IPv4 address',
  },
  {
    name: "an IPv4 address under AAAA",
    table: { x: { AAAA: ["::1", "192.0.2.1"] } },
    message: 'Cannot load mapping "x": AAAA "192.0.2.1": not an IPv6 address',
  },
  {
    name: "an unknown type",
    table: { x: { MAIL: "10 mail" } },
    message: 'Cannot load mapping "x": unknown record type "MAIL"',
  },
  {
    name: "a pseudo-type",
    table: { x: { OPT: "\\# 0" } },
    message: 'Cannot load mapping "x": unknown record type "OPT"',
  },
  {
    name: "a question-only type",
    table: { x: { ANY: "\\# 0" } },
    message: 'Cannot load mapping "x": unknown record type "ANY"',
  },
  {
    name: "a CNAME with other data",
    table: { www: { CNAME: "lan", A: "10.0.0.1" } },
    message: 'Cannot load mapping "www": CNAME cannot coexist with other data (RFC 1034 section 3.6.2)',
  },
  {
    name: "two CNAMEs",
    table: { www: { CNAME: ["a.lan", "b.lan"] } },
    message: 'Cannot load mapping "www": a name has at most one CNAME (RFC 2181 section 10.1)',
  },
  {
    name: "an empty type list",
    table: { x: { MX: [] } },
    message: 'Cannot load mapping "x": MX is an empty list',
  },
  { name: "an empty record set", table: { x: { ttl: 60 } }, message: /"x": the record set has no records$/ },
  {
    name: "a list of numbers",
    table: { x: { TXT: [1, 2] } },
    message: 'Cannot load mapping "x": TXT must be a string or a list of strings',
  },
  {
    name: "the same MX twice",
    table: { x: { MX: ["10 m", "10 m."] } },
    message: /MX "10 m\." is listed twice$/,
  },
  ...[-1, 1.5, 2147483648, "60"].map((ttl) => ({
    name: `ttl ${JSON.stringify(ttl)}`,
    table: { x: { A: "10.0.0.1", ttl } },
    message: `Cannot load mapping "x": ttl ${
      JSON.stringify(ttl)
    } is not a whole number from 0 to 2147483647 (RFC 2181 section 8)`,
  })),
];

test("mappingRecords() rejects bad entries with a message naming the entry", async (t) => {
  for (const { name, table, message } of bad) {
    await t.step(name, () => {
      throws(() => mappingRecords(table as Mappings), (error) => {
        equal(error instanceof DataError, true, String(error));
        const actual = (error as Error).message;
        if (typeof message === "string") equal(actual, message);
        else equal(message.test(actual), true, actual);
        return true;
      });
    });
  }
});
