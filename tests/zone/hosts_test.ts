/**
 * hosts(5) files: a realistic file as a vector, the reverse names of RFC 1035 section 3.5 and
 * RFC 3596 section 2.5, and a table of malformed lines with the location each error points at.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, throws } from "node:assert/strict";
import { DataError, ParseError } from "../../lib/proto/errors.ts";
import { HOSTS_TTL, parseHosts, reverseName } from "../../lib/zone/hosts.ts";
import { type RData, type ResourceRecord, RRClass } from "../../lib/proto/types.ts";

function record(name: string, data: RData, ttl = HOSTS_TTL): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data };
}
const a = (name: string, address: string) => record(name, { type: "A", address });
const aaaa = (name: string, address: string) => record(name, { type: "AAAA", address });
const ptr = (name: string, target: string) => record(name, { type: "PTR", target });

const LOOPBACK6 = `1.${"0.".repeat(31)}ip6.arpa`;

// A Debian /etc/hosts with local additions and a blocklist tail; tabs, CRLF and comments mixed.
const hostsFile = [
  "# /etc/hosts: static table lookup for hostnames",
  "127.0.0.1\tlocalhost",
  "127.0.1.1\tDesktop.example.org\tdesktop   # FQDN first, as Debian writes it",
  "",
  "# The following lines are desirable for IPv6 capable hosts",
  "::1     localhost ip6-localhost ip6-loopback",
  "ff02::1 ip6-allnodes",
  "fe80::1%eth0 router-ll\r",
  "192.168.1.10 nas.lan. NAS\r",
  "192.168.1.10 files.lan    # a second line for an address: A only, the PTR stays nas.lan",
  "2001:DB8:0::10 nas.lan",
  "   \t# an indented comment",
  "0.0.0.0 ads.example.com tracker.example.net",
  "0.0.0.0 ads.example.com",
  ":: ads6.example.com",
].join("\n");

test("parseHosts() reads a realistic hosts file", () => {
  const { records, warnings } = parseHosts(hostsFile, "/etc/hosts");
  deepEqual(records, [
    a("localhost", "127.0.0.1"),
    ptr("1.0.0.127.in-addr.arpa", "localhost"),
    a("Desktop.example.org", "127.0.1.1"),
    a("desktop", "127.0.1.1"),
    ptr("1.1.0.127.in-addr.arpa", "Desktop.example.org"),
    aaaa("localhost", "::1"),
    aaaa("ip6-localhost", "::1"),
    aaaa("ip6-loopback", "::1"),
    ptr(LOOPBACK6, "localhost"),
    aaaa("ip6-allnodes", "ff02::1"),
    ptr(`1.0.0.0.${"0.".repeat(24)}2.0.f.f.ip6.arpa`, "ip6-allnodes"),
    a("nas.lan", "192.168.1.10"),
    a("NAS", "192.168.1.10"),
    ptr("10.1.168.192.in-addr.arpa", "nas.lan"),
    a("files.lan", "192.168.1.10"),
    aaaa("nas.lan", "2001:db8::10"),
    ptr(`0.1.0.0.${"0.".repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa`, "nas.lan"),
    a("ads.example.com", "0.0.0.0"),
    a("tracker.example.net", "0.0.0.0"),
    aaaa("ads6.example.com", "::"),
  ]);
  equal(warnings.length, 1);
  equal(warnings[0] instanceof ParseError, true);
  equal(warnings[0]!.message, '/etc/hosts:8:1: skipped: "fe80::1%eth0" has a zone index');
});

test("parseHosts() applies the ttl option to every record", async (t) => {
  for (const ttl of [0, 60, 2147483647]) {
    await t.step(`ttl ${ttl}`, () => {
      const { records } = parseHosts("192.0.2.1 host\n", "hosts", { ttl });
      deepEqual(records, [
        record("host", { type: "A", address: "192.0.2.1" }, ttl),
        record("1.2.0.192.in-addr.arpa", { type: "PTR", target: "host" }, ttl),
      ]);
    });
  }
  for (const ttl of [-1, 1.5, 2147483648, NaN]) {
    await t.step(`rejects ttl ${ttl}`, () => {
      throws(() => parseHosts("", "hosts", { ttl }), DataError);
    });
  }
});

test("parseHosts() returns no records for empty and comment-only text", async (t) => {
  for (const text of ["", "\n\n", "# only a comment\n", "   \t  \r\n", "#127.0.0.1 commented-out\n"]) {
    await t.step(JSON.stringify(text), () => {
      deepEqual(parseHosts(text, "hosts"), { records: [], warnings: [] });
    });
  }
});

test("parseHosts() skips lines with an IPv6 zone index and warns at the address", async (t) => {
  const cases = [
    { text: "fe80::1%eth0 router", at: "hosts:1:1" },
    { text: "# link-local\n  fe80::1%25 r1 r2 # comment", at: "hosts:2:3" },
    { text: "127.0.0.1 localhost\n\tfe80::a:b%wlan0\tprinter", at: "hosts:2:2" },
  ];
  for (const { text, at } of cases) {
    await t.step(JSON.stringify(text), () => {
      const { records, warnings } = parseHosts(text, "hosts");
      equal(records.some((r) => r.name === "router" || r.name === "printer" || r.name === "r1"), false);
      deepEqual(warnings.map((warning) => warning.message.split(": ")[0]), [at]);
    });
  }
});

const reverseNames = [
  { address: "192.0.2.1", name: "1.2.0.192.in-addr.arpa" },
  { address: "10.0.0.255", name: "255.0.0.10.in-addr.arpa" },
  { address: "0.0.0.0", name: "0.0.0.0.in-addr.arpa" },
  { address: "::1", name: LOOPBACK6 },
  // RFC 3596 section 2.5's own example, 4321:0:1:2:3:4:567:89ab
  {
    address: "4321:0:1:2:3:4:567:89ab",
    name: "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa",
  },
  { address: "2001:db8::1", name: `1.0.0.0.${"0.".repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa` },
  { address: "2001:DB8::1", name: `1.0.0.0.${"0.".repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa` },
  { address: "::ffff:192.0.2.1", name: `1.0.2.0.0.0.0.c.f.f.f.f.${"0.".repeat(20)}ip6.arpa` },
];

test("reverseName() maps addresses to in-addr.arpa and nibble ip6.arpa names", async (t) => {
  for (const { address, name } of reverseNames) {
    await t.step(address, () => equal(reverseName(address), name));
  }
  for (const address of ["999.1.1.1", "1.2.3", "host.lan", "", "fe80::1%eth0", "2001:db8::1::2"]) {
    await t.step(`rejects ${JSON.stringify(address)}`, () => {
      throws(() => reverseName(address), DataError);
    });
  }
});

const malformed = [
  {
    name: "an octet over 255",
    text: "999.1.1.1 host",
    at: "f:1:1",
    reason: /is not an IPv4 or IPv6 address/,
  },
  {
    name: "a name where the address goes",
    text: "\n  localhost 127.0.0.1",
    at: "f:2:3",
    reason: /"localhost" is not/,
  },
  { name: "a leading zero", text: "127.000.0.1 localhost", at: "f:1:1", reason: /not an IPv4 or IPv6/ },
  {
    name: "an address with no name",
    text: "127.0.0.1\t# nothing",
    at: "f:1:1",
    reason: /no name after "127.0.0.1"/,
  },
  {
    name: "an IPv4 address with a %",
    text: "192.0.2.1%eth0 host",
    at: "f:1:1",
    reason: /not an IPv4 or IPv6/,
  },
  {
    name: "an empty label",
    text: "# x\n# y\n10.0.0.1 ok bad..name",
    at: "f:3:13",
    reason: /bad name "bad\.\.name".*empty label/,
  },
  {
    name: "a label over 63 octets",
    text: `10.0.0.1\t${"x".repeat(64)}.lan`,
    at: "f:1:10",
    reason: /label over 63 octets/,
  },
  { name: "a non-ASCII name", text: "10.0.0.1 ok café.lan", at: "f:1:13", reason: /non-ASCII.*punycode/ },
  { name: "the root as a name", text: "10.0.0.1 .", at: "f:1:10", reason: /bad name "\.": the root/ },
  { name: "a dot before the root dot", text: "::1 a..", at: "f:1:5", reason: /bad name "a\.\."/ },
];

test("parseHosts() rejects malformed lines with file:line:column at the token", async (t) => {
  for (const { name, text, at, reason } of malformed) {
    await t.step(name, () => {
      throws(() => parseHosts(text, "f"), (error) => {
        equal(error instanceof ParseError, true, String(error));
        const { message } = error as ParseError;
        equal(message.startsWith(`${at}: `), true, message);
        equal(reason.test(message), true, message);
        return true;
      });
    });
  }
});
