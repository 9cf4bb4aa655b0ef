/**
 * Where dnsd listens, the pure parts: listen items (`--host`, the config file's `listen`) parsed,
 * names looked up in real /etc/hosts texts, loopback told from the rest, the open-resolver
 * warning, and the SIGUSR1 statistics line.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { parseListen, UsageError } from "../../lib/config/cli.ts";
import {
  hostsAddresses,
  isLoopback,
  ListenAddressError,
  mergeDualStack,
  openResolverWarning,
  resolveListen,
} from "../../lib/net/listen_addresses.ts";
import { formatStatistics } from "../../lib/server/statistics.ts";
import { DEFAULT_RECURSION_PREFIXES, publicRecursion } from "../../lib/policy/mod.ts";
import { createForwardCounters } from "../../lib/upstream/forward.ts";

const parsed = [
  { text: "127.0.0.1", want: { hostname: "127.0.0.1", port: 2053 } },
  { text: "127.0.0.1:53", want: { hostname: "127.0.0.1", port: 53 } },
  { text: "192.168.1.2:5300", want: { hostname: "192.168.1.2", port: 5300 } },
  { text: "[::1]:5300", want: { hostname: "::1", port: 5300 } },
  { text: "[::1]", want: { hostname: "::1", port: 2053 } },
  { text: "::1", want: { hostname: "::1", port: 2053 } },
  { text: "fd00::53", want: { hostname: "fd00::53", port: 2053 } },
  { text: "localhost", want: { hostname: "localhost", port: 2053 } },
  { text: "localhost:0", want: { hostname: "localhost", port: 0 } },
  { text: "dns.home.arpa.", want: { hostname: "dns.home.arpa.", port: 2053 } },
] as const;

for (const { text, want } of parsed) {
  test(`parseListen() reads ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseListen(text, 2053), want);
  });
}

const rejected = [
  { text: "", message: "--host : an address is needed" },
  { text: "127.0.0.1:-1", message: '--host 127.0.0.1:-1: "-1" is not a port number (0-65535)' },
  { text: "127.0.0.1:65536", message: '--host 127.0.0.1:65536: "65536" is not a port number (0-65535)' },
  { text: "[::1]:x", message: '--host [::1]:x: "x" is not a port number (0-65535)' },
  { text: "[localhost]:53", message: '--host [localhost]:53: "localhost" is not an IPv6 address' },
  { text: "999.1.1.1", message: '--host 999.1.1.1: "999.1.1.1" is not an IP address or a host name' },
  { text: "bad_name", message: '--host bad_name: "bad_name" is not an IP address or a host name' },
  { text: "-h", message: '--host -h: "-h" is not an IP address or a host name' },
] as const;

for (const { text, message } of rejected) {
  test(`parseListen() rejects ${JSON.stringify(text)} with one clear line`, () => {
    assert.throws(() => parseListen(text, 2053), (e) => e instanceof UsageError && e.message === message);
  });
}

// A Debian /etc/hosts, and the one this project's CI machines have (no ::1 line).
const DEBIAN_HOSTS = `127.0.0.1\tlocalhost
127.0.1.1\tdns.home.arpa\tdns

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
192.168.1.2 DNS.Home.Arpa # the LAN address too
`;
const SANDBOX_HOSTS = "127.0.0.1 localhost\n127.0.0.1 runsc\n127.0.0.1 vm\n";

test("hostsAddresses() maps each name to its addresses in file order, case-insensitively", () => {
  const names = hostsAddresses(DEBIAN_HOSTS);
  assert.deepEqual(names.get("localhost"), ["127.0.0.1", "::1"]);
  assert.deepEqual(names.get("dns.home.arpa"), ["127.0.1.1", "192.168.1.2"]);
  assert.deepEqual(names.get("ip6-allnodes"), ["ff02::1"]);
  assert.equal(names.get("the"), undefined, "a comment's words are not names");
});

const resolved = [
  {
    name: "localhost from a Debian /etc/hosts is 127.0.0.1 and ::1, one port",
    items: [{ hostname: "localhost", port: 53 }],
    hosts: DEBIAN_HOSTS,
    want: [{ hostname: "127.0.0.1", port: 53 }, { hostname: "::1", port: 53 }],
  },
  {
    name: "localhost from a file without ::1 is 127.0.0.1 only",
    items: [{ hostname: "localhost", port: 0 }],
    hosts: SANDBOX_HOSTS,
    want: [{ hostname: "127.0.0.1", port: 0 }],
  },
  {
    name: "localhost with no /etc/hosts is loopback (RFC 6761 §6.3)",
    items: [{ hostname: "LOCALHOST.", port: 53 }],
    hosts: null,
    want: [{ hostname: "127.0.0.1", port: 53 }, { hostname: "::1", port: 53 }],
  },
  {
    name: "addresses stay as given, in order; the same address and port is bound once",
    items: [
      { hostname: "::1", port: 53 },
      { hostname: "127.0.0.1", port: 53 },
      { hostname: "0:0:0:0:0:0:0:1", port: 53 },
      { hostname: "127.0.0.1", port: 5300 },
    ],
    hosts: null,
    want: [{ hostname: "::1", port: 53 }, { hostname: "127.0.0.1", port: 53 }, {
      hostname: "127.0.0.1",
      port: 5300,
    }],
  },
  {
    name: "a name with two lines gets both addresses",
    items: [{ hostname: "dns", port: 53 }, { hostname: "dns.home.arpa", port: 53 }],
    hosts: DEBIAN_HOSTS,
    want: [{ hostname: "127.0.1.1", port: 53 }, { hostname: "192.168.1.2", port: 53 }],
  },
] as const;

for (const { name, items, hosts, want } of resolved) {
  test(`resolveListen(): ${name}`, () => {
    assert.deepEqual(resolveListen(items, hosts), want);
  });
}

const dualStack = [
  {
    name: "0.0.0.0 and :: on one port: :: alone",
    given: [{ hostname: "0.0.0.0", port: 53 }, { hostname: "::", port: 53 }],
    want: [{ hostname: "::", port: 53 }],
    merged: [53],
  },
  {
    name: "in either order, and only on the same port",
    given: [
      { hostname: "::", port: 53 },
      { hostname: "0.0.0.0", port: 53 },
      { hostname: "0.0.0.0", port: 5300 },
      { hostname: "::", port: 853 },
    ],
    want: [{ hostname: "::", port: 53 }, { hostname: "0.0.0.0", port: 5300 }, { hostname: "::", port: 853 }],
    merged: [53],
  },
  {
    name: "specific addresses are left alone",
    given: [{ hostname: "127.0.0.1", port: 53 }, { hostname: "::1", port: 53 }, { hostname: "::", port: 53 }],
    want: [{ hostname: "127.0.0.1", port: 53 }, { hostname: "::1", port: 53 }, { hostname: "::", port: 53 }],
    merged: [],
  },
] as const;

for (const { name, given, want, merged } of dualStack) {
  test(`mergeDualStack(): ${name}`, () => {
    assert.deepEqual(mergeDualStack(given), { addresses: want, merged });
  });
}

test("resolveListen() names a host /etc/hosts does not have, and never asks the DNS", () => {
  assert.throws(
    () => resolveListen([{ hostname: "nas.example", port: 53 }], SANDBOX_HOSTS),
    (e) =>
      e instanceof ListenAddressError &&
      e.message === "--host nas.example: not an IP address, and /etc/hosts has no such name " +
          "(names are not looked up in the DNS at start-up)",
  );
});

const loopback = [
  ["127.0.0.1", true],
  ["127.255.0.9", true],
  ["::1", true],
  ["::ffff:127.0.0.1", true],
  ["0.0.0.0", false],
  ["::", false],
  ["192.168.1.2", false],
  ["10.0.0.53", false],
  ["fd00::53", false],
  ["fe80::1", false],
  ["128.0.0.1", false],
  ["::2", false],
] as const;

for (const [address, want] of loopback) {
  test(`isLoopback(${address}) is ${want}`, () => assert.equal(isLoopback(address), want));
}

test("openResolverWarning() speaks only when public clients may recurse through an address beyond loopback", () => {
  const lan = [{ hostname: "127.0.0.1", port: 53 }, { hostname: "192.168.1.2", port: 53 }, {
    hostname: "::",
    port: 53,
  }];
  const loopback = [{ hostname: "127.0.0.1", port: 53 }, { hostname: "::1", port: 53 }];
  assert.equal(openResolverWarning(loopback, ["0.0.0.0/0"]), null);
  // The default --allow-recursion (loopback and private networks) keeps a LAN server closed.
  assert.deepEqual(publicRecursion({ disabled: false, allow: DEFAULT_RECURSION_PREFIXES }), []);
  assert.equal(
    openResolverWarning(lan, publicRecursion({ disabled: false, allow: DEFAULT_RECURSION_PREFIXES })),
    null,
  );
  const open = publicRecursion({
    disabled: false,
    allow: ["192.168.0.0/16", "0.0.0.0/0", "10.1.0.0/16", "2001:db8::/32"],
  });
  assert.deepEqual(open, ["0.0.0.0/0", "2001:db8::/32"]);
  assert.deepEqual(publicRecursion({ disabled: true, allow: ["0.0.0.0/0"] }), []);
  const warning = openResolverWarning(lan, open);
  assert.ok(warning?.startsWith("Listening on 192.168.1.2, ::, beyond loopback"), warning ?? "null");
  assert.match(warning!, /lets 0\.0\.0\.0\/0, 2001:db8::\/32 recurse: this is an open resolver/);
});

test("formatStatistics() is one line of the running server's counters", () => {
  const counters = { ...createForwardCounters(), dropped: 2 };
  counters.forwarded = 12;
  counters.answered = 11;
  counters.timeouts = 1;
  const line = formatStatistics({
    counters,
    cache: { counters: { hits: 40, misses: 12, stale: 0, prefetches: 0, coalesced: 0 }, size: 12 },
    tcpConnections: () => 3,
  });
  assert.equal(
    line,
    "Statistics: cache size 12, hits 40, misses 12, stale served 0; forwarded 12, answered 11, " +
      "upstream timeouts 1, upstream failures 0, malformed replies 0, busy 0, dropped upstream datagrams 2; " +
      "TCP connections open 3",
  );
  assert.match(formatStatistics({ counters, tcpConnections: () => 0 }), /^Statistics: cache off; /);
  // With --metrics, the metrics' totals follow.
  const observed = () => ({ queries: 9, bySource: { local: 5, cache: 3, refused: 1 }, rateLimited: 2 });
  assert.match(
    formatStatistics({ counters, tcpConnections: () => 0, observed }),
    /; TCP connections open 0; queries 9 \(local 5, cache 3, refused 1\), rate limited 2$/,
  );
});
