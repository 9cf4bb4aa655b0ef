/**
 * The short form of A and AAAA lines (lib/proto/address_line.ts): which lines it reads, and what
 * it reads of them. A line it leaves (-1) goes to the lexer and the full parser, so leaving one
 * is always safe; reading one it should have left, or reading it wrong, is the bug these look for.
 * The parser's two ways compared on whole files: tests/zone/address_path_test.ts.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { addressLine, readAddressLine } from "../../lib/proto/address_line.ts";

type Read = { owner: string; ttl: number; type: number; address: string; ipv4?: number; ipv6?: number[] };

function read(text: string, pos = 0): { next: number; line?: Read } {
  const into = addressLine();
  const next = readAddressLine(text, pos, into);
  if (next < 0) return { next };
  const line: Read = { owner: into.owner, ttl: into.ttl, type: into.type, address: into.address };
  if (into.ipv6) line.ipv6 = [...into.ipv6];
  else line.ipv4 = into.ipv4;
  return { next, line };
}

const READ: readonly [string, Read][] = [
  ["host A 192.0.2.1\n", { owner: "host", ttl: -1, type: 1, address: "192.0.2.1", ipv4: 0xc0000201 }],
  ["host 3600 IN A 10.0.0.1\n", { owner: "host", ttl: 3600, type: 1, address: "10.0.0.1", ipv4: 0x0a000001 }],
  ["host in 60 a 0.0.0.0\n", { owner: "host", ttl: 60, type: 1, address: "0.0.0.0", ipv4: 0 }],
  ["a.b.c.\t0\tIN\tA\t255.255.255.255\n", {
    owner: "a.b.c.",
    ttl: 0,
    type: 1,
    address: "255.255.255.255",
    ipv4: 0xffffffff,
  }],
  ["@ 2147483647 A 192.0.2.9 ; the largest TTL\n", {
    owner: "@",
    ttl: 2147483647,
    type: 1,
    address: "192.0.2.9",
    ipv4: 0xc0000209,
  }],
  ["*.wild A 192.0.2.2;comment right after\n", {
    owner: "*.wild",
    ttl: -1,
    type: 1,
    address: "192.0.2.2",
    ipv4: 0xc0000202,
  }],
  ["CAPS IN AAAA 2001:DB8::1  \r\n", {
    owner: "CAPS",
    ttl: -1,
    type: 28,
    address: "2001:DB8::1",
    ipv6: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  }],
  ["v4 aaaa ::ffff:192.0.2.1\n", {
    owner: "v4",
    ttl: -1,
    type: 28,
    address: "::ffff:192.0.2.1",
    ipv6: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1],
  }],
  ["last A 192.0.2.3", { owner: "last", ttl: -1, type: 1, address: "192.0.2.3", ipv4: 0xc0000203 }],
];

/** Lines left to the lexer: each either means something else, or is wrong and must be reported. */
const LEFT: readonly [string, string][] = [
  ["an owner-less line", "\tA 192.0.2.1\n"],
  ["a directive", "$TTL 60\n"],
  ["a comment line", "; host A 192.0.2.1\n"],
  ["an empty line", "\n"],
  ["a TTL with units", "host 1h A 192.0.2.1\n"],
  ["a TTL over 2^31 - 1", "host 2147483648 A 192.0.2.1\n"],
  ["a TTL of eleven digits", "host 00000000001 A 192.0.2.1\n"],
  ["two TTLs", "host 60 60 A 192.0.2.1\n"],
  ["two classes", "host IN IN A 192.0.2.1\n"],
  ["another class", "host CH A 192.0.2.1\n"],
  ["CLASS1", "host CLASS1 A 192.0.2.1\n"],
  ["TYPE1", "host TYPE1 192.0.2.1\n"],
  ["another type", "host MX 10 mail\n"],
  ["a leading zero", "host A 192.0.2.01\n"],
  ["an octet over 255", "host A 192.0.2.256\n"],
  ["three octets", "host A 192.0.2\n"],
  ["five octets", "host A 192.0.2.1.1\n"],
  ["a bad IPv6 address", "host AAAA 2001:db8::1::2\n"],
  ["an IPv4 address in AAAA", "host AAAA 192.0.2.1\n"],
  ["no address", "host A\n"],
  ["no address, blanks after", "host A   \n"],
  ["a second address", "host A 192.0.2.1 192.0.2.2\n"],
  ["parentheses", "host A ( 192.0.2.1 )\n"],
  ["an owner touching a parenthesis", "host( A 192.0.2.1 )\n"],
  ["a quoted address", 'host A "192.0.2.1"\n'],
  ["an escape in the owner", "ho\\.st A 192.0.2.1\n"],
  ["a non-ASCII owner", "hôst A 192.0.2.1\n"],
  ["an owner alone", "host\n"],
  ["a return inside the line", "host\rA 192.0.2.1\n"],
  ["a return after the type", "host A\r192.0.2.1\n"],
];

test("the short form of A and AAAA lines is read, field by field", () => {
  for (const [text, expected] of READ) {
    const { next, line } = read(text);
    deepEqual(line, expected, JSON.stringify(text));
    equal(next, text.length, JSON.stringify(text));
  }
});

test("any other line is left to the lexer", () => {
  for (const [why, text] of LEFT) equal(read(text).next, -1, `${why}: ${JSON.stringify(text)}`);
});

test("a line is read from where it starts, and the next one starts after its line end", () => {
  const text = "$TTL 60\nwww A 192.0.2.1\nmail 30 AAAA ::1\n";
  const first = read(text, 8);
  equal(first.line?.owner, "www");
  equal(text.slice(first.next), "mail 30 AAAA ::1\n");
  const second = read(text, first.next);
  deepEqual([second.line?.owner, second.line?.ttl, second.next], ["mail", 30, text.length]);
});
