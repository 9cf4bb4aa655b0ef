/**
 * Malformed zone files, one table (after miekg's `TestUnpackDomainName`): each gives a
 * `ParseError` at the exact `file:line:column`, with a reason people can act on.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, fail, ok } from "node:assert/strict";
import { ParseError } from "../../lib/proto/errors.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";

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

const LONG_LABEL = "a".repeat(64);

interface Malformed {
  readonly name: string;
  /** The files; the first is the one parsed. A bare string is the text of `z.zone`. */
  readonly files: string | Readonly<Record<string, string>>;
  /** The `--zone ORIGIN=FILE` origin; `null` for none. */
  readonly origin?: string | null;
  /** The exact `file:line:column`. */
  readonly at: string;
  /** A substring of the reason. */
  readonly reason: string;
}

const malformed: readonly Malformed[] = [
  {
    name: "a relative name inside RDATA with no origin",
    files: "$TTL 300\na.example. NS ns1\n",
    origin: null,
    at: "z.zone:2:15",
    reason: 'relative name server "ns1" with no origin',
  },
  {
    name: "a TTL over 2^32-1, which is not a type either",
    files: "$ORIGIN example.\n$TTL 300\nwww 4294967296 A 192.0.2.1\n",
    at: "z.zone:3:5",
    reason: "TTL 4294967296 is over 2147483647",
  },
  {
    name: "a class written twice (BIND and NSD refuse it too)",
    files: "$ORIGIN example.\n$TTL 300\nwww IN IN A 192.0.2.1\n",
    at: "z.zone:3:8",
    reason: "a second class, IN",
  },
  {
    name: "an unknown type",
    files: "$TTL 300\nwww FOO 1\n",
    at: "z.zone:2:5",
    reason: 'unknown record type "FOO"',
  },
  {
    name: "a type written in quotes",
    files: '$TTL 300\nwww "A" 192.0.2.1\n',
    at: "z.zone:2:5",
    reason: 'unknown record type "A"',
  },
  {
    name: "TYPE65536",
    files: "www 300 TYPE65536 \\# 0\n",
    at: "z.zone:1:9",
    reason: 'unknown record type "TYPE65536"',
  },
  {
    name: "a meta type",
    files: "www 300 ANY \\# 0\n",
    at: "z.zone:1:9",
    reason: "ANY is not a type of record that can be stored",
  },
  {
    name: "an unknown directive",
    files: "$TTL 300\n$GENERATE 1-2 a$ A 192.0.2.$\n",
    at: "z.zone:2:1",
    reason: "unknown directive $GENERATE",
  },
  { name: "$TTL without a value", files: "$TTL ; none\n", at: "z.zone:1:1", reason: "$TTL needs a value" },
  {
    name: "$ORIGIN without a value",
    files: "\n$ORIGIN\n",
    at: "z.zone:2:1",
    reason: "$ORIGIN needs a value",
  },
  {
    name: "$INCLUDE without a file",
    files: "$INCLUDE\n",
    at: "z.zone:1:1",
    reason: "$INCLUDE needs a file name",
  },
  { name: "a bad $TTL unit", files: "$TTL 1x\n", at: "z.zone:1:6", reason: 'bad $TTL "1x"' },
  {
    name: "a $TTL over 2^31-1",
    files: "$TTL 2147483648\n",
    at: "z.zone:1:6",
    reason: 'bad $TTL "2147483648"',
  },
  {
    name: "a second value after $TTL",
    files: "$TTL 300 600\n",
    at: "z.zone:1:10",
    reason: 'unexpected "600" after $TTL',
  },
  {
    name: "a relative owner with no origin",
    files: "www 300 A 192.0.2.1\n",
    origin: null,
    at: "z.zone:1:1",
    reason: 'relative owner name "www" with no origin',
  },
  {
    name: "a relative $ORIGIN with no origin",
    files: "$ORIGIN sub\n",
    origin: null,
    at: "z.zone:1:9",
    reason: 'relative origin "sub" with no origin',
  },
  {
    name: "'@' with no origin",
    files: "example.org. 300 A 192.0.2.1\n@ 300 A 192.0.2.2\n",
    origin: null,
    at: "z.zone:2:1",
    reason: '"@" with no origin',
  },
  {
    name: "a record with no owner before it",
    files: "$TTL 300\n\tA 192.0.2.1\n",
    at: "z.zone:2:2",
    reason: "no owner name before it",
  },
  {
    name: "an included file starting with an omitted owner",
    files: {
      "z.zone": "$TTL 300\nwww A 192.0.2.1\n$INCLUDE inc.zone\n",
      "inc.zone": "; inc\n  A 192.0.2.2\n",
    },
    at: "inc.zone:2:3",
    reason: "no owner name before it",
  },
  { name: "no TTL anywhere", files: "www A 192.0.2.1\n", at: "z.zone:1:1", reason: "no TTL for this record" },
  { name: "missing RDATA", files: "$TTL 300\nwww A\n", at: "z.zone:2:6", reason: "missing RDATA for A" },
  {
    name: "missing RDATA before a comment",
    files: "$TTL 300\nwww IN MX ; none\n",
    at: "z.zone:2:10",
    reason: "missing RDATA for MX",
  },
  { name: "missing RDATA fields", files: "$TTL 300\nwww MX 10\n", at: "z.zone:2:10", reason: "missing" },
  {
    name: "a bad IPv4 address",
    files: "$TTL 300\nwww A 192.0.2.256\n",
    at: "z.zone:2:7",
    reason: '"192.0.2.256" is not an IPv4 address',
  },
  {
    name: "trailing garbage after RDATA",
    files: "$TTL 300\nwww A 192.0.2.1 extra\n",
    at: "z.zone:2:17",
    reason: 'unexpected "extra" after the record data',
  },
  {
    name: "trailing garbage on a continuation line",
    files: "$TTL 300\nwww MX ( 10\n  mail extra )\n",
    at: "z.zone:3:8",
    reason: 'unexpected "extra" after the record data',
  },
  {
    name: "an unterminated quote",
    files: '$TTL 300\nt TXT "abc\n',
    at: "z.zone:2:7",
    reason: "unterminated quoted string",
  },
  {
    name: "')' without '('",
    files: "$TTL 300\nwww A 192.0.2.1 )\n",
    at: "z.zone:2:17",
    reason: "')' without '('",
  },
  {
    name: "'(' never closed, at the '('",
    files: "$TTL 300\n@ SOA ns h (\n 1 2 3 4 5\n",
    at: "z.zone:2:12",
    reason: "'(' is never closed",
  },
  {
    name: "class CH",
    files: "$TTL 300\nwww CH A 192.0.2.1\n",
    at: "z.zone:2:5",
    reason: "class CH is not supported",
  },
  {
    name: "class HS after a TTL",
    files: "www 300 hs A 192.0.2.1\n",
    at: "z.zone:1:9",
    reason: "class hs is not supported",
  },
  {
    name: "CLASS3",
    files: "www CLASS3 300 A 192.0.2.1\n",
    at: "z.zone:1:5",
    reason: "class CLASS3 is not supported",
  },
  {
    name: "a TTL over 2^31-1",
    files: "www 2147483648 A 192.0.2.1\n",
    at: "z.zone:1:5",
    reason: "TTL 2147483648 is over 2147483647",
  },
  {
    name: "a TTL in units over 2^31-1",
    files: "www 3551w A 192.0.2.1\n",
    at: "z.zone:1:5",
    reason: "TTL 3551w is over 2147483647",
  },
  {
    name: "an $INCLUDE loop (a includes b includes a)",
    files: { "a.zone": "$TTL 300\n$INCLUDE b.zone\n", "b.zone": "; b\n$INCLUDE a.zone\n" },
    at: "b.zone:2:10",
    reason: "$INCLUDE loop: a.zone -> b.zone -> a.zone",
  },
  {
    name: "an $INCLUDE loop through ./ and a folder",
    files: { "zones/a.zone": "$INCLUDE ./b.zone\n", "zones/b.zone": "$INCLUDE a.zone\n" },
    at: "zones/b.zone:1:10",
    reason: "$INCLUDE loop: zones/a.zone -> zones/b.zone -> zones/a.zone",
  },
  {
    name: "a file that includes itself",
    files: "$INCLUDE z.zone\n",
    at: "z.zone:1:10",
    reason: "$INCLUDE loop: z.zone -> z.zone",
  },
  {
    name: "a missing $INCLUDE file, at the argument",
    files: "$TTL 300\n$INCLUDE  missing.zone\n",
    at: "z.zone:2:11",
    reason: "cannot read $INCLUDE file missing.zone: no such file",
  },
  {
    name: "a missing file included from an included file",
    files: { "z.zone": "$INCLUDE d/inc.zone\n", "d/inc.zone": "\n$INCLUDE gone.zone\n" },
    at: "d/inc.zone:2:10",
    reason: "cannot read $INCLUDE file d/gone.zone",
  },
  {
    name: "an owner label over 63 octets",
    files: `${LONG_LABEL} 300 A 192.0.2.1\n`,
    at: "z.zone:1:1",
    reason: "label over 63 octets",
  },
  {
    name: "a label over 63 octets in RDATA",
    files: `www 300 CNAME ${LONG_LABEL}\n`,
    at: "z.zone:1:15",
    reason: "label over 63 octets",
  },
  {
    name: "a $ORIGIN label over 63 octets",
    files: `$ORIGIN ${LONG_LABEL}.\n`,
    at: "z.zone:1:9",
    reason: "label over 63 octets",
  },
  {
    name: "an error inside an included file, with its own name and line",
    files: {
      "zones/z.zone": "$ORIGIN example.org.\n$TTL 300\n$INCLUDE inc.zone\nafter A 192.0.2.9\n",
      "zones/inc.zone": "ok A 192.0.2.1\n\nbad A 192.0.2.x\n",
    },
    at: "zones/inc.zone:3:7",
    reason: '"192.0.2.x" is not an IPv4 address',
  },
  {
    name: "an error after an $INCLUDE, back in the including file",
    files: { "z.zone": "$TTL 300\n$INCLUDE inc.zone\nafter BOGUS x\n", "inc.zone": "ok A 192.0.2.1\n" },
    at: "z.zone:3:7",
    reason: 'unknown record type "BOGUS"',
  },
  {
    name: String.raw`\# with a length that does not match its hex`,
    files: "g 300 TYPE65534 \\# 4 abcdef\n",
    at: "z.zone:1:17",
    reason: String.raw`\# says 4 octets but the hex holds 3`,
  },
  {
    name: String.raw`\# data that is not valid for its known type`,
    files: "a 300 A \\# 3 C00002\n",
    at: "z.zone:1:9",
    reason: String.raw`\# data is not valid RDATA for this type`,
  },
  {
    name: String.raw`an unknown type without \#`,
    files: "g 300 TYPE65534 abc\n",
    at: "z.zone:1:17",
    reason: String.raw`type 65534 has no text form in dnsd: write its RDATA as \# LENGTH HEX`,
  },
  {
    name: String.raw`a type IANA names that dnsd keeps opaque, without \#`,
    files: "cert 300 CERT PGP 0 0 aGVsbG8=\n",
    at: "z.zone:1:15",
    reason: String.raw`CERT (type 37) has no text form in dnsd: write its RDATA as \# LENGTH HEX`,
  },
  {
    // Regression: the escape once took the line end, joining the next line to this record.
    name: "a backslash at the end of a line, which escapes nothing",
    files: "$TTL 300\nt TXT a\\\nb A 192.0.2.1\n",
    at: "z.zone:2:7",
    reason: "a backslash at the end",
  },
];

test("parseZoneFile() rejects malformed files at the exact file:line:column", async (t) => {
  for (const { name, files, origin = "example.org", at, reason } of malformed) {
    await t.step(name, async () => {
      const texts = typeof files === "string" ? { "z.zone": files } : files;
      const file = Object.keys(texts)[0]!;
      try {
        await parseZoneFile(file, { read: memoryRead(texts), ...(origin === null ? {} : { origin }) });
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        const { line, column } = error.location;
        equal(`${error.location.file}:${line}:${column}`, at, error.message);
        ok(error.reason.includes(reason), `${JSON.stringify(error.reason)} lacks ${JSON.stringify(reason)}`);
        equal(error.message, `${at}: ${error.reason}`);
        return;
      }
      fail(`no ParseError for ${name}`);
    });
  }
});

test("parseZoneFile() passes on a failure to read the zone file itself", async () => {
  try {
    await parseZoneFile("absent.zone", { read: memoryRead({}) });
    fail("no error for a missing zone file");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
});
