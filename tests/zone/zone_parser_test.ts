/**
 * Zone-file parsing: one vector per construct of RFC 1035 section 5 (and RFC 2308's `$TTL`, RFC
 * 3597's `\#`), each read through an in-memory `read`, with the records and where each starts.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { type RData, type ResourceRecord, RRClass } from "../../lib/proto/types.ts";
import { parseZoneFile, PROGRESS_EVERY } from "../../lib/zone/zone_parser.ts";

/** A `read` over a Map of path -> text; a path not in it fails as a missing file would. */
function memoryRead(files: Readonly<Record<string, string>>): (path: string) => Promise<string> {
  const texts = new Map(Object.entries(files));
  return function read(path) {
    const text = texts.get(path);
    return text === undefined
      ? Promise.reject(new Deno.errors.NotFound(`no such file: ${path}`))
      : Promise.resolve(text);
  };
}

function rr(name: string, ttl: number, data: RData): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data };
}
const a = (address: string): RData => ({ type: "A", address });
const octets = (text: string) => new TextEncoder().encode(text);
const txt = (...strings: string[]): RData => ({ type: "TXT", strings: strings.map(octets) });
const soa = (mname: string, rname: string, timers: readonly number[]): RData => {
  const [serial, refresh, retry, expire, minimum] = timers as [number, number, number, number, number];
  return { type: "SOA", mname, rname, serial, refresh, retry, expire, minimum };
};

interface Vector {
  readonly name: string;
  /** The files; the first is the one parsed. */
  readonly files: Readonly<Record<string, string>>;
  /** The `--zone ORIGIN=FILE` origin. */
  readonly origin?: string;
  readonly records: readonly ResourceRecord[];
  /** `file:line:column` of each record, when the vector is about where records start. */
  readonly locations?: readonly string[];
}

const vectors: readonly Vector[] = [
  {
    name: "$ORIGIN with an absolute name",
    files: { "z.zone": "$ORIGIN example.org.\n$TTL 300\nwww A 192.0.2.1\n" },
    records: [rr("www.example.org", 300, a("192.0.2.1"))],
    locations: ["z.zone:3:1"],
  },
  {
    name: "$ORIGIN relative to the previous origin",
    files: { "z.zone": "$ORIGIN example.org.\n$TTL 300\n$ORIGIN sub\nwww A 192.0.2.1\n@ A 192.0.2.2\n" },
    records: [rr("www.sub.example.org", 300, a("192.0.2.1")), rr("sub.example.org", 300, a("192.0.2.2"))],
  },
  {
    name: "$ORIGIN . (the root)",
    files: { "z.zone": "$ORIGIN .\n$TTL 300\norg NS a.org.\n@ NS b.org.\n" },
    records: [rr("org", 300, { type: "NS", host: "a.org" }), rr("", 300, { type: "NS", host: "b.org" })],
  },
  {
    name: "$TTL with units, upper or lower case",
    files: {
      "z.zone":
        "$ORIGIN example.org.\n$TTL 1h30m\na A 192.0.2.1\n$TTL 1W2D\nb A 192.0.2.2\n$ttl 0\nc A 192.0.2.3\n",
    },
    records: [
      rr("a.example.org", 5400, a("192.0.2.1")),
      rr("b.example.org", 777600, a("192.0.2.2")),
      rr("c.example.org", 0, a("192.0.2.3")),
    ],
  },
  {
    name: "$INCLUDE without an origin: the current origin, then the previous owner again",
    files: {
      "z.zone": "$ORIGIN example.org.\n$TTL 300\nwww A 192.0.2.1\n$INCLUDE inc.zone\n AAAA 2001:db8::1\n",
      "inc.zone": "@ A 192.0.2.2\nhost A 192.0.2.3\n",
    },
    records: [
      rr("www.example.org", 300, a("192.0.2.1")),
      rr("example.org", 300, a("192.0.2.2")),
      rr("host.example.org", 300, a("192.0.2.3")),
      rr("www.example.org", 300, { type: "AAAA", address: "2001:db8::1" }),
    ],
    locations: ["z.zone:3:1", "inc.zone:1:1", "inc.zone:2:1", "z.zone:5:2"],
  },
  {
    name: "$INCLUDE with an origin, restored after (and so is a $ORIGIN inside)",
    files: {
      "zones/z.zone": "$ORIGIN example.org.\n$TTL 300\n$INCLUDE sub/inc.zone inc\nafter A 192.0.2.9\n",
      "zones/sub/inc.zone": "@ A 192.0.2.2\n$ORIGIN deeper.example.net.\nhost A 192.0.2.3\n",
    },
    records: [
      rr("inc.example.org", 300, a("192.0.2.2")),
      rr("host.deeper.example.net", 300, a("192.0.2.3")),
      rr("after.example.org", 300, a("192.0.2.9")),
    ],
    locations: ["zones/sub/inc.zone:1:1", "zones/sub/inc.zone:3:1", "zones/z.zone:4:1"],
  },
  {
    name: "$INCLUDE of an absolute path, with an absolute origin",
    files: {
      "z.zone": "$ORIGIN example.org.\n$TTL 300\n$INCLUDE /data/inc.zone example.net.\n",
      "/data/inc.zone": "@ A 192.0.2.2\n",
    },
    records: [rr("example.net", 300, a("192.0.2.2"))],
  },
  {
    name: "$INCLUDE nested, each path relative to the file that names it",
    files: {
      "z.zone": "$ORIGIN example.org.\n$TTL 300\n$INCLUDE d/one.zone\n",
      "d/one.zone": "$INCLUDE two.zone\n",
      "d/two.zone": "two A 192.0.2.2\n",
    },
    records: [rr("two.example.org", 300, a("192.0.2.2"))],
    locations: ["d/two.zone:1:1"],
  },
  {
    name: "'@', relative and absolute names, in owners and RDATA",
    files: {
      "z.zone":
        "$ORIGIN example.org.\n$TTL 300\n@ MX 10 mail\nmail.example.net. MX 20 @\nx CNAME y.example.net.\n",
    },
    records: [
      rr("example.org", 300, { type: "MX", preference: 10, exchange: "mail.example.org" }),
      rr("mail.example.net", 300, { type: "MX", preference: 20, exchange: "example.org" }),
      rr("x.example.org", 300, { type: "CNAME", target: "y.example.net" }),
    ],
  },
  {
    name: "an omitted owner is the previous record's",
    files: { "z.zone": "$ORIGIN example.org.\n$TTL 300\nwww A 192.0.2.1\n\tAAAA 2001:db8::1\n  TXT hi\n" },
    records: [
      rr("www.example.org", 300, a("192.0.2.1")),
      rr("www.example.org", 300, { type: "AAAA", address: "2001:db8::1" }),
      rr("www.example.org", 300, txt("hi")),
    ],
    locations: ["z.zone:3:1", "z.zone:4:2", "z.zone:5:3"],
  },
  {
    name: "an omitted TTL is the last one written (RFC 1035) when there is no $TTL",
    files: {
      "z.zone": "$ORIGIN example.org.\na 30 A 192.0.2.1\nb A 192.0.2.2\nc 40 A 192.0.2.3\nd A 192.0.2.4\n",
    },
    records: [
      rr("a.example.org", 30, a("192.0.2.1")),
      rr("b.example.org", 30, a("192.0.2.2")),
      rr("c.example.org", 40, a("192.0.2.3")),
      rr("d.example.org", 40, a("192.0.2.4")),
    ],
  },
  {
    name: "an omitted TTL is $TTL (RFC 2308), even after a TTL written on a record",
    files: {
      "z.zone":
        "$ORIGIN example.org.\na 30 A 192.0.2.1\n$TTL 50\nb A 192.0.2.2\nc 60 A 192.0.2.3\nd A 192.0.2.4\n",
    },
    records: [
      rr("a.example.org", 30, a("192.0.2.1")),
      rr("b.example.org", 50, a("192.0.2.2")),
      rr("c.example.org", 60, a("192.0.2.3")),
      rr("d.example.org", 50, a("192.0.2.4")),
    ],
  },
  {
    name: "with neither, the SOA minimum is the fallback, for the SOA too",
    files: { "z.zone": "$ORIGIN example.org.\n@ SOA ns h 1 2 3 4 77\na A 192.0.2.1\n" },
    records: [
      rr("example.org", 77, soa("ns.example.org", "h.example.org", [1, 2, 3, 4, 77])),
      rr("a.example.org", 77, a("192.0.2.1")),
    ],
  },
  {
    name: "a TTL written on the SOA wins over its minimum",
    files: { "z.zone": "$ORIGIN example.org.\n@ 10 SOA ns h 1 2 3 4 77\na A 192.0.2.1\n" },
    records: [
      rr("example.org", 10, soa("ns.example.org", "h.example.org", [1, 2, 3, 4, 77])),
      rr("a.example.org", 10, a("192.0.2.1")),
    ],
  },
  {
    name: "an omitted class, TTL and class in either order, CLASS1 for IN, any case",
    files: {
      "z.zone": "$ORIGIN example.org.\na 10 A 192.0.2.1\nb IN 20 A 192.0.2.2\nc 30 IN A 192.0.2.3\n" +
        "d CLASS1 40 a 192.0.2.4\ne 2147483647 in Aaaa ::1\nf class1 txt x\n",
    },
    records: [
      rr("a.example.org", 10, a("192.0.2.1")),
      rr("b.example.org", 20, a("192.0.2.2")),
      rr("c.example.org", 30, a("192.0.2.3")),
      rr("d.example.org", 40, a("192.0.2.4")),
      rr("e.example.org", 2147483647, { type: "AAAA", address: "::1" }),
      rr("f.example.org", 2147483647, txt("x")),
    ],
  },
  {
    name: "an owner that looks like a class or a type",
    files: { "z.zone": "$ORIGIN example.org.\n$TTL 300\nin A 192.0.2.1\na A 192.0.2.2\n3600 A 192.0.2.3\n" },
    records: [
      rr("in.example.org", 300, a("192.0.2.1")),
      rr("a.example.org", 300, a("192.0.2.2")),
      rr("3600.example.org", 300, a("192.0.2.3")),
    ],
  },
  {
    name: "parentheses across lines with comments; the record starts on its first line",
    files: {
      "z.zone":
        "; a zone\n$ORIGIN example.org.\n$TTL 1h\n@ IN SOA ns1 hostmaster ( ; the SOA\n\t2026112601 ; serial\n" +
        "\t7200 1h ; refresh, retry\n\t2w\n\t300 ) ; minimum\n  NS ns1 ; the first NS\n",
    },
    records: [
      rr(
        "example.org",
        3600,
        soa("ns1.example.org", "hostmaster.example.org", [2026112601, 7200, 3600, 1209600, 300]),
      ),
      rr("example.org", 3600, { type: "NS", host: "ns1.example.org" }),
    ],
    locations: ["z.zone:4:1", "z.zone:9:3"],
  },
  {
    // Regression: the blank before ')' once made the SOA's "@" the type of an owner-omitted record.
    name: "an SOA whose ')' line starts with a blank keeps '@' as its owner",
    files: { "z.zone": "$TTL 300\n@ SOA ns h ( 1 2 3 4 5\n )\nwww A 192.0.2.1\n" },
    origin: "example.org",
    records: [
      rr("example.org", 300, soa("ns.example.org", "h.example.org", [1, 2, 3, 4, 5])),
      rr("www.example.org", 300, a("192.0.2.1")),
    ],
  },
  {
    name: String.raw`TXT: quoted strings with \", \\, \DDD and ';', and unquoted ones`,
    files: {
      "z.zone": String.raw`t 300 TXT "say \"hi\"; ok" "back\\slash" "\065\066C" "" plain\ text \059` + "\n",
    },
    origin: "example.org",
    records: [rr("t.example.org", 300, txt('say "hi"; ok', "back\\slash", "ABC", "", "plain text", ";"))],
  },
  {
    name: String.raw`generic \# RDATA for a known type is decoded into its typed form`,
    files: { "z.zone": "a 300 A \\# 4 C0000201\nb 300 TXT \\# 3 026869\nc 300 A \\# 4 C000 0202\n" },
    origin: "example.org",
    records: [
      rr("a.example.org", 300, a("192.0.2.1")),
      rr("b.example.org", 300, txt("hi")),
      rr("c.example.org", 300, a("192.0.2.2")),
    ],
  },
  {
    name: String.raw`TYPE65534 and other unknown types with \# RDATA, empty included`,
    files: { "z.zone": "g 300 TYPE65534 \\# 3 abcdef\ne 300 type65280 \\# 0\n" },
    origin: "example.org",
    records: [
      rr("g.example.org", 300, { type: "unknown", code: 65534, bytes: Uint8Array.of(0xab, 0xcd, 0xef) }),
      rr("e.example.org", 300, { type: "unknown", code: 65280, bytes: new Uint8Array() }),
    ],
  },
  {
    name: "TYPEnnn for a known type reads its text form",
    files: { "z.zone": "a 300 TYPE1 192.0.2.1\nb 300 type16 hi\n" },
    origin: "example.org",
    records: [rr("a.example.org", 300, a("192.0.2.1")), rr("b.example.org", 300, txt("hi"))],
  },
  {
    name: "the origin from --zone ORIGIN=FILE, written with its root dot, keeps its case",
    files: { "z.zone": "$TTL 300\n@ NS ns\nwww CNAME @\n" },
    origin: "Example.ORG.",
    records: [
      rr("Example.ORG", 300, { type: "NS", host: "ns.Example.ORG" }),
      rr("www.Example.ORG", 300, { type: "CNAME", target: "Example.ORG" }),
    ],
  },
  {
    name: "a $ORIGIN replaces the origin from --zone",
    files: { "z.zone": "$TTL 300\n$ORIGIN example.net.\n@ A 192.0.2.1\n" },
    origin: "example.org",
    records: [rr("example.net", 300, a("192.0.2.1"))],
  },
  {
    name: "an escaped dot inside an owner label",
    files: {
      "z.zone":
        "$ORIGIN example.org.\n$TTL 300\nescaped\\.dot A 192.0.2.77\nabs\\.x.example.org. A 192.0.2.78\n",
    },
    records: [
      rr("escaped\\.dot.example.org", 300, a("192.0.2.77")),
      rr("abs\\.x.example.org", 300, a("192.0.2.78")),
    ],
  },
  {
    name: "CRLF line endings and no final newline",
    files: { "z.zone": '$ORIGIN example.org.\r\n$TTL 300\r\nwww A 192.0.2.1\r\n\tTXT "x"' },
    records: [rr("www.example.org", 300, a("192.0.2.1")), rr("www.example.org", 300, txt("x"))],
    locations: ["z.zone:3:1", "z.zone:4:2"],
  },
  { name: "an empty file", files: { "z.zone": "" }, records: [] },
];

test("parseZoneFile() reads every construct of RFC 1035 section 5", async (t) => {
  for (const { name, files, origin, records, locations } of vectors) {
    await t.step(name, async () => {
      const file = Object.keys(files)[0]!;
      const parsed = await parseZoneFile(file, {
        read: memoryRead(files),
        ...(origin === undefined ? {} : { origin }),
      });
      deepEqual(parsed.records, records);
      equal(parsed.locations.length, records.length);
      if (locations) deepEqual(parsed.locations.map((l) => `${l.file}:${l.line}:${l.column}`), locations);
    });
  }
});

test("parseZoneFile() reports progress every PROGRESS_EVERY records", async () => {
  const count = PROGRESS_EVERY * 2 + 1;
  const text = "$ORIGIN example.org.\n$TTL 300\n" + "a A 192.0.2.1\n".repeat(count);
  const seen: number[] = [];
  const parsed = await parseZoneFile("z.zone", {
    read: memoryRead({ "z.zone": text }),
    onProgress: (n) => seen.push(n),
  });
  equal(parsed.records.length, count);
  deepEqual(seen, [PROGRESS_EVERY, PROGRESS_EVERY * 2]);
});
