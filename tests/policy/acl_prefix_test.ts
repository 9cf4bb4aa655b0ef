import { deepEqual, equal, throws } from "node:assert/strict";
import { sockaddr, SocketPeer } from "../../lib/net/mod.ts";
import { parsePrefix, PrefixError, PrefixSet } from "../../lib/policy/mod.ts";
import { test } from "../_limit.ts";

const parsed = [
  { text: "10.0.0.0/8", prefix: { family: 4, network: 0x0a000000, length: 8 } },
  { text: "10.1.2.3/8", prefix: { family: 4, network: 0x0a000000, length: 8 } }, // host bits cleared
  { text: "192.0.2.1", prefix: { family: 4, network: 0xc0000201, length: 32 } },
  { text: "0.0.0.0/0", prefix: { family: 4, network: 0, length: 0 } },
  { text: "::1", prefix: { family: 6, words: [0, 0, 0, 1], length: 128 } },
  { text: "fc00::/7", prefix: { family: 6, words: [0xfc000000, 0, 0, 0], length: 7 } },
  { text: "2001:db8:ffff::/33", prefix: { family: 6, words: [0x20010db8, 0x80000000, 0, 0], length: 33 } },
  // IPv4-mapped: the IPv4 prefix, as the clients it must match are read.
  { text: "::ffff:127.0.0.7", prefix: { family: 4, network: 0x7f000007, length: 32 } },
  { text: "::ffff:10.0.0.0/104", prefix: { family: 4, network: 0x0a000000, length: 8 } },
  { text: "::ffff:0:0/96", prefix: { family: 4, network: 0, length: 0 } },
  { text: "::ffff:0:0/95", prefix: { family: 6, words: [0, 0, 0xfffe, 0], length: 95 } },
] as const;

for (const { text, prefix } of parsed) {
  test(`parsePrefix() reads ${text}`, () => deepEqual(parsePrefix(text), prefix));
}

const bad = [
  "10.0.0.0/33",
  "::/129",
  "10.0.0/8",
  "10.0.0.0/",
  "10.0.0.0/08",
  "host.example",
  "1:::2",
  "",
  "::/-1",
];
for (const text of bad) {
  test(`parsePrefix() rejects "${text}"`, () => {
    throws(
      () => parsePrefix(text),
      (e) => e instanceof PrefixError && e.message.startsWith(`Cannot read prefix "${text}"`),
    );
  });
}

const set = PrefixSet.parse([
  "10.0.0.0/8",
  "192.168.1.0/24",
  "127.0.0.2",
  "::1",
  "fc00::/7",
  "2001:db8::/32",
]);
const matches: readonly [string, boolean][] = [
  ["10.255.0.1", true],
  ["11.0.0.1", false],
  ["192.168.1.77", true],
  ["192.168.2.1", false],
  ["127.0.0.2", true],
  ["127.0.0.3", false],
  ["::1", true],
  ["::2", false],
  ["fd12:3456::1", true],
  ["fe80::1", false],
  ["2001:db8:0:1::53", true],
  ["2001:DB8::1", true],
  ["2001:db9::1", false],
  ["::ffff:10.1.1.1", true], // IPv4-mapped: matched as IPv4
  ["::ffff:a01:101", true],
  ["::ffff:11.1.1.1", false],
  ["0:0:0:0:0:0:0:1", true],
  ["not an address", false],
  ["1::2::3", false],
  ["1:2:3:4:5:6:7:8:9", false],
];
test("PrefixSet.has() matches IPv4, IPv6 and IPv4-mapped addresses", () => {
  for (const [address, expected] of matches) deepEqual(set.has(address), expected, address);
});

test("PrefixSet.has() is false for every address when empty", () => {
  const empty = new PrefixSet([]);
  deepEqual(empty.has("127.0.0.1"), false);
  deepEqual(empty.has("::1"), false);
});

test("PrefixSet.hasClient() reads a batched socket's sender from its struct sockaddr, as has() reads the text", () => {
  const set = PrefixSet.parse(["10.0.0.0/8", "192.168.1.0/24", "fd00::/8"]);
  const cases = ["10.1.2.3", "11.0.0.1", "192.168.1.200", "192.168.2.1", "fd00::5", "2001:db8::1"];
  for (const address of cases) {
    const peer = new SocketPeer(sockaddr(address, 53));
    equal(peer.hostname, address);
    equal(set.hasClient(peer), set.has(address), address);
    equal(set.hasClient({ hostname: address }), set.has(address), address);
  }
  equal(set.hasClient(new SocketPeer(sockaddr("10.9.9.9", 53))), true);
  equal(PrefixSet.parse([]).hasClient(new SocketPeer(sockaddr("10.9.9.9", 53))), false);
});
