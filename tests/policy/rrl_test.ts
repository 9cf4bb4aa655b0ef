/**
 * The response rate limiter, pure: token buckets per prefix with an injected clock, the slip
 * cycle, prefix grouping of IPv4, IPv6 and IPv4-mapped addresses (as text and as the struct
 * sockaddr a batched socket gives), bounded memory under a flood of random sources, and the
 * truncated form of a slipped response from real packet bytes.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { RateDecision, RateLimiter, type RateLimitOptions, slipResponse } from "../../lib/policy/mod.ts";
import { sockaddr, SocketPeer } from "../../lib/net/mod.ts";
import { parseHex } from "../_hex.ts";

const { SEND, DROP } = RateDecision;
const BASE: RateLimitOptions = { perSecond: 5, prefix4: 24, prefix6: 56, slip: 2 };

function udp(hostname: string): Deno.NetAddr {
  return { transport: "udp", hostname, port: 5353 };
}

/** A limiter on a clock the test moves. */
function limiter(options: Partial<RateLimitOptions> = {}) {
  let time = 1_000;
  const limit = new RateLimiter({ ...BASE, ...options }, () => time);
  return { limit, advance: (ms: number) => (time += ms) };
}

const BURSTS: readonly {
  name: string;
  options: Partial<RateLimitOptions>;
  expected: readonly number[];
}[] = [
  {
    name: "slip 2: every second one over the limit slips",
    options: {},
    expected: [0, 0, 0, 0, 0, 1, 2, 1, 2],
  },
  { name: "slip 0: all over the limit dropped", options: { slip: 0 }, expected: [0, 0, 0, 0, 0, 1, 1, 1, 1] },
  { name: "slip 1: all over the limit slip", options: { slip: 1 }, expected: [0, 0, 0, 0, 0, 2, 2, 2, 2] },
  { name: "slip 3", options: { slip: 3 }, expected: [0, 0, 0, 0, 0, 1, 1, 2, 1] },
  { name: "a limit of 1", options: { perSecond: 1 }, expected: [0, 1, 2, 1, 2, 1, 2, 1, 2] },
];

for (const { name, options, expected } of BURSTS) {
  test(`a burst at one instant: ${name}`, () => {
    const { limit } = limiter(options);
    deepEqual(expected.map(() => limit.check(udp("192.0.2.7"))), expected);
    equal(limit.size, 1);
  });
}

test("tokens come back at the rate, never above the burst", () => {
  const { limit, advance } = limiter({ slip: 0 });
  for (let i = 0; i < 5; i++) equal(limit.check(udp("192.0.2.7")), SEND);
  equal(limit.check(udp("192.0.2.7")), DROP);
  advance(200); // one token at 5 a second
  equal(limit.check(udp("192.0.2.7")), SEND);
  equal(limit.check(udp("192.0.2.7")), DROP);
  advance(60_000); // a minute idle: the bucket is full again, but holds only 5
  const after = Array.from({ length: 7 }, () => limit.check(udp("192.0.2.7")));
  deepEqual(after, [SEND, SEND, SEND, SEND, SEND, DROP, DROP]);
  deepEqual(limit.counts, { dropped: 4, slipped: 0 });
});

const GROUPING: readonly {
  name: string;
  options: Partial<RateLimitOptions>;
  a: string;
  b: string;
  same: boolean;
}[] = [
  { name: "IPv4 in one /24", options: {}, a: "198.51.100.1", b: "198.51.100.254", same: true },
  { name: "IPv4 in two /24s", options: {}, a: "198.51.100.1", b: "198.51.101.1", same: false },
  { name: "IPv4 /32", options: { prefix4: 32 }, a: "198.51.100.1", b: "198.51.100.2", same: false },
  { name: "IPv4 /0", options: { prefix4: 0 }, a: "198.51.100.1", b: "203.0.113.9", same: true },
  { name: "IPv6 in one /56", options: {}, a: "2001:db8:0:ab00::1", b: "2001:db8:0:abff:ffff::2", same: true },
  { name: "IPv6 in two /56s", options: {}, a: "2001:db8:0:ab00::1", b: "2001:db8:0:ac00::1", same: false },
  { name: "IPv6 /64", options: { prefix6: 64 }, a: "2001:db8:0:1::1", b: "2001:db8:0:2::1", same: false },
  {
    name: "IPv6 /128 counts 64 bits",
    options: { prefix6: 128 },
    a: "2001:db8::1",
    b: "2001:db8::2",
    same: true,
  },
  { name: "IPv4-mapped is IPv4", options: {}, a: "::ffff:198.51.100.1", b: "198.51.100.9", same: true },
  { name: "IPv4 and IPv6 apart", options: { prefix4: 0, prefix6: 0 }, a: "0.0.0.1", b: "::1", same: false },
];

for (const { name, options, a, b, same } of GROUPING) {
  for (const form of ["text", "sockaddr"] as const) {
    test(`prefixes: ${name} (${form})`, () => {
      const { limit } = limiter({ ...options, perSecond: 1, slip: 0 });
      const peer = (hostname: string) =>
        form === "text" ? udp(hostname) : new SocketPeer(sockaddr(hostname.replace(/^::ffff:/, ""), 53));
      equal(limit.check(peer(a)), SEND);
      equal(limit.check(peer(b)), same ? DROP : SEND);
      equal(limit.size, same ? 1 : 2);
    });
  }
}

test("a flood from 1,000,000 random sources keeps the bucket count at its capacity", () => {
  const { limit, advance } = limiter({ perSecond: 10, prefix4: 32, buckets: 4096 });
  equal(limit.capacity, 4096);
  let state = 12345;
  for (let i = 0; i < 1_000_000; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    limit.take(4, state, 0);
    if (i % 1000 === 0) advance(1);
  }
  ok(limit.size <= limit.capacity);
  ok(limit.size > limit.capacity * 0.95, `${limit.size} of ${limit.capacity} slots used`);
});

test("a client seen all along keeps its bucket through a flood of new sources", () => {
  const { limit, advance } = limiter({ perSecond: 3, slip: 0, buckets: 64 });
  for (let i = 0; i < 3; i++) equal(limit.check(udp("192.0.2.1")), SEND);
  // 10,000 new prefixes, one between two of the steady client's queries, in 100 ms (0.3 tokens):
  // its emptied bucket, the most recently seen of its set but one, is never evicted for a full one.
  for (let i = 0; i < 10_000; i++) {
    advance(0.01);
    limit.take(4, (i + 1) << 8, 0);
    equal(limit.check(udp("192.0.2.1")), DROP);
  }
  equal(limit.size, 64);
});

test("bad settings are refused", () => {
  throws(() => new RateLimiter({ ...BASE, perSecond: 0 }), RangeError);
  throws(() => new RateLimiter({ ...BASE, prefix4: 33 }), RangeError);
  throws(() => new RateLimiter({ ...BASE, prefix6: 129 }), RangeError);
});

const SLIPS: readonly { name: string; response: string; expected: string }[] = [
  {
    // example.com A: header, question, one answer (pointer to the question), an OPT record
    name: "an answer with a record and OPT",
    response: "1234 8180 0001 0001 0000 0001 076578616d706c6503636f6d00 0001 0001" +
      "c00c 0001 0001 0000012c 0004 c0000201" + "00 0029 04d0 00000000 0000",
    expected: "1234 8380 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001",
  },
  {
    name: "a header-only SERVFAIL",
    response: "abcd 8182 0000 0000 0000 0000",
    expected: "abcd 8382 0000 0000 0000 0000",
  },
  {
    name: "a question cut short keeps only the header",
    response: "abcd 8180 0001 0000 0000 0000 0765786d",
    expected: "abcd 8380 0000 0000 0000 0000",
  },
];

for (const { name, response, expected } of SLIPS) {
  test(`slipped response: ${name}`, () => {
    deepEqual(slipResponse(parseHex(response)), parseHex(expected));
  });
}
