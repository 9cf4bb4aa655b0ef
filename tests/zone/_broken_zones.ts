/**
 * Zone files that break a zone's rules, each with where and why: shared by the tests of `buildZone`
 * (tests/zone/zone_test.ts) and of the zone built as it is read (tests/zone/zone_stream_test.ts),
 * which must report the same.
 * @module
 */

/** Lines 1 and 2 of most of them. */
export const HEAD = "$ORIGIN example.org.\n$TTL 300\n"; // lines 1 and 2
/** Line 3 when after HEAD. */
export const SOA = "@ SOA ns h 1 2 3 4 5\n"; // line 3 when after HEAD

/** The broken zones. */
export const BROKEN_ZONES: readonly {
  name: string;
  text: string;
  origin?: string;
  at: string;
  reason: string;
}[] = [
  { name: "no SOA", text: `${HEAD}www A 192.0.2.1\n`, at: "z.zone:1:1", reason: "no SOA record" },
  { name: "an empty file", text: "", at: "z.zone:1:1", reason: "no SOA record" },
  {
    name: "two SOAs",
    text: `${HEAD}${SOA}www A 192.0.2.1\n@ SOA ns h 2 2 3 4 5\n`,
    at: "z.zone:5:1",
    reason: "a second SOA record",
  },
  {
    name: "an SOA below the apex",
    text: `${HEAD}${SOA}sub SOA ns h 1 2 3 4 5\n`,
    at: "z.zone:4:1",
    reason: 'an SOA below the apex, at "sub.example.org"',
  },
  {
    name: "a record outside the zone",
    text: `${HEAD}${SOA}www.example.net. A 192.0.2.1\n`,
    at: "z.zone:4:1",
    reason: '"www.example.net" is outside the zone "example.org"',
  },
  {
    name: "a record outside the zone, before the SOA",
    text: `${HEAD}org. NS a.org.\n${SOA}`,
    at: "z.zone:3:1",
    reason: '"org" is outside the zone "example.org"',
  },
  {
    name: "a name that only ends in the apex's text",
    text: `${HEAD}${SOA}badexample.org. A 192.0.2.1\n`,
    at: "z.zone:4:1",
    reason: '"badexample.org" is outside the zone',
  },
  {
    name: "a name whose label holds an escaped dot before the apex's text",
    text: `${HEAD}${SOA}x\\.example.org. A 192.0.2.1\n`,
    at: "z.zone:4:1",
    reason: '"x\\.example.org" is outside the zone',
  },
  {
    name: "a CNAME, then other data at its name",
    text: `${HEAD}${SOA}www CNAME web\n\tA 192.0.2.1\n`,
    at: "z.zone:5:2",
    reason: 'CNAME and other data at "www.example.org"',
  },
  {
    name: "other data, then a CNAME at its name (case-insensitive)",
    text: `${HEAD}${SOA}www TXT x\nWWW CNAME web\n`,
    at: "z.zone:5:1",
    reason: 'CNAME and other data at "WWW.example.org"',
  },
  {
    name: "a CNAME at the apex",
    text: `${HEAD}${SOA}@ CNAME web\n`,
    at: "z.zone:4:1",
    reason: "CNAME and other data",
  },
  {
    name: "two CNAMEs at one name",
    text: `${HEAD}${SOA}www CNAME a\nmail A 192.0.2.1\nwww CNAME b\n`,
    at: "z.zone:6:1",
    reason: 'a second CNAME at "www.example.org"',
  },
  {
    name: "two DNAMEs at one name (RFC 6672 section 2.4)",
    text: `${HEAD}${SOA}old DNAME a.example.\nold DNAME b.example.\n`,
    at: "z.zone:5:1",
    reason: 'a second DNAME at "old.example.org"',
  },
  {
    name: "a CNAME and a DNAME at one name",
    text: `${HEAD}${SOA}old DNAME a.example.\nold CNAME b.example.\n`,
    at: "z.zone:5:1",
    reason: 'CNAME and other data at "old.example.org"',
  },
  {
    name: "a DNAME with a name below it, which it would hide (RFC 6672 section 2.4)",
    text: `${HEAD}${SOA}old DNAME a.example.\nwww A 192.0.2.1\nx.old A 192.0.2.2\n`,
    at: "z.zone:4:1",
    reason: 'DNAME at "old.example.org" has names below it',
  },
  {
    name: "an SOA owner other than the origin given for the file",
    text: `${HEAD}\n${SOA}`,
    origin: "example.net",
    at: "z.zone:4:1",
    reason: 'the SOA is for "example.org", not the origin "example.net" given for this file',
  },
];
