/**
 * IPv4 and IPv6 text <-> octets: strict parsing, and RFC 5952 canonical IPv6 text.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { formatIPv4, formatIPv6, ipv4Number, parseIPv4, parseIPv6 } from "../../lib/proto/ip.ts";
import { hex, toHex } from "../_hex.ts";

const ipv4: readonly { text: string; octets: Uint8Array }[] = [
  { text: "0.0.0.0", octets: hex`00000000` },
  { text: "192.0.2.1", octets: hex`c0000201` },
  { text: "10.0.0.255", octets: hex`0a0000ff` },
  { text: "255.255.255.255", octets: hex`ffffffff` },
  { text: "8.8.8.8", octets: hex`08080808` },
];

test("parseIPv4() and formatIPv4() agree on dotted quads", async (t) => {
  for (const { text, octets } of ipv4) {
    await t.step(text, () => {
      assert.equal(toHex(parseIPv4(text) ?? new Uint8Array()), toHex(octets));
      assert.equal(ipv4Number(text), new DataView(octets.buffer).getUint32(0));
      assert.equal(formatIPv4(octets), text);
    });
  }
});

const badIPv4 = [
  "01.2.3.4", // a leading zero could mean octal
  "1.2.3.04",
  "00.1.1.1",
  "256.1.1.1",
  "1.2.3.1000",
  "1.2.3",
  "1.2.3.4.5",
  "1..2.3",
  "1.2.3.4.",
  ".1.2.3.4",
  "",
  "1.2.3.4 ",
  " 1.2.3.4",
  "+1.2.3.4",
  "1.2.3.-4",
  "0x1.2.3.4",
  "1.2.3.a",
  "١.2.3.4", // ARABIC-INDIC DIGIT ONE
  "::1",
];

test("parseIPv4() rejects what is not exactly a dotted quad", async (t) => {
  for (const text of badIPv4) {
    await t.step(JSON.stringify(text), () => {
      assert.equal(parseIPv4(text), null);
      assert.equal(ipv4Number(text), -1);
    });
  }
});

/** Canonical RFC 5952 text: parse and format are inverses. */
const canonical: readonly { text: string; octets: Uint8Array; why: string }[] = [
  { text: "2001:db8::1", octets: hex`20010db8 00000000 00000000 00000001`, why: "leading zeros dropped" },
  { text: "::", octets: hex`00000000 00000000 00000000 00000000`, why: "all zeros" },
  { text: "::1", octets: hex`00000000 00000000 00000000 00000001`, why: "loopback" },
  { text: "1::", octets: hex`00010000 00000000 00000000 00000000`, why: "trailing run" },
  {
    text: "2001:db8:0:1:1:1:1:1",
    octets: hex`20010db8 00000001 00010001 00010001`,
    why: "a single zero group is not compressed (RFC 5952 section 4.2.2)",
  },
  {
    text: "2001:0:0:1::1",
    octets: hex`20010000 00000001 00000000 00000001`,
    why: "the longest run is compressed (section 4.2.3)",
  },
  {
    text: "2001:db8::1:0:0:1",
    octets: hex`20010db8 00000000 00010000 00000001`,
    why: "the first of equal runs is compressed (section 4.2.3)",
  },
  { text: "fe80::1:2:3:4", octets: hex`fe800000 00000000 00010002 00030004`, why: "link-local" },
  {
    text: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    octets: hex`ffffffff ffffffff ffffffff ffffffff`,
    why: "no zeros, lower case",
  },
  {
    text: "::ffff:192.0.2.1",
    octets: hex`00000000 00000000 0000ffff c0000201`,
    why: "IPv4-mapped, mixed notation (section 5)",
  },
  { text: "1:0:2:0:3:0:4:0", octets: hex`00010000 00020000 00030000 00040000`, why: "only single zeros" },
];

test("parseIPv6() and formatIPv6() agree on RFC 5952 canonical text", async (t) => {
  for (const { text, octets, why } of canonical) {
    await t.step(`${text} (${why})`, () => {
      assert.equal(toHex(parseIPv6(text) ?? new Uint8Array()), toHex(octets));
      assert.equal(formatIPv6(octets), text);
    });
  }
});

/** Other spellings parse to the same octets and format back to the canonical text. */
const spellings: readonly { text: string; canonical: string }[] = [
  { text: "2001:0db8:0000:0000:0000:0000:0000:0001", canonical: "2001:db8::1" },
  { text: "2001:db8:0:0:0:0:0:1", canonical: "2001:db8::1" },
  { text: "2001:db8::0:1", canonical: "2001:db8::1" },
  { text: "2001:DB8::1", canonical: "2001:db8::1" },
  { text: "0:0:0:0:0:0:0:0", canonical: "::" },
  { text: "2001:db8:0:0:1:0:0:1", canonical: "2001:db8::1:0:0:1" },
  { text: "2001:0:0:1:0:0:0:1", canonical: "2001:0:0:1::1" },
  { text: "1:2:3:4:5:6:7::", canonical: "1:2:3:4:5:6:7:0" },
  { text: "::2:3:4:5:6:7:8", canonical: "0:2:3:4:5:6:7:8" },
  { text: "::ffff:c000:201", canonical: "::ffff:192.0.2.1" },
  { text: "64:ff9b::192.0.2.33", canonical: "64:ff9b::c000:221" },
  { text: "1:2:3:4:5:6:1.2.3.4", canonical: "1:2:3:4:5:6:102:304" },
];

test("parseIPv6() accepts other spellings and formatIPv6() canonicalises them", async (t) => {
  for (const { text, canonical } of spellings) {
    await t.step(text, () => {
      const octets = parseIPv6(text);
      assert.ok(octets, `${text} did not parse`);
      assert.equal(formatIPv6(octets), canonical);
      assert.equal(toHex(parseIPv6(canonical) ?? new Uint8Array()), toHex(octets));
    });
  }
});

const badIPv6 = [
  ":::",
  "1::2::3",
  "1:2:3:4:5:6:7:8:9", // nine groups
  "1:2:3:4:5:6:7", // seven groups, no "::"
  "1:2:3:4:5:6:7:8::", // "::" must stand for at least one group
  "12345::",
  "::g",
  ":1::",
  "1::2:",
  ":1:2:3:4:5:6:7:8",
  "",
  "1.2.3.4",
  "::ffff:256.0.0.1",
  "::ffff:01.2.3.4",
  "::1.2.3",
  "1.2.3.4::",
  "1:2:3:4:5:6:7:1.2.3.4", // nine groups' worth with the IPv4 tail
  "fe80::1%eth0", // zone identifiers are not addresses
  " ::1",
  "::1 ",
  "[::1]",
];

test("parseIPv6() rejects malformed text", async (t) => {
  for (const text of badIPv6) {
    await t.step(JSON.stringify(text), () => assert.equal(parseIPv6(text), null));
  }
});
