/**
 * What response rate limiting and DNS cookies cost per query (`deno bench bench/policy_bench.ts`):
 * the limiter's check for a batched socket's sender and for a Deno socket's (text) one, the cookie
 * look at a query without EDNS, with EDNS but no cookie, and with a cookie (check and stamp), against
 * decoding the query, which every answer that is not a memo hit does.
 * @module
 */
import { RateLimiter, ServerCookies } from "../lib/policy/mod.ts";
import { sockaddr, SocketPeer } from "../lib/net/mod.ts";
import { query } from "../lib/proto/message.ts";
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";

const limiter = new RateLimiter({ perSecond: 1_000_000_000, prefix4: 24, prefix6: 56, slip: 2 });
const peer = new SocketPeer(sockaddr("192.0.2.7", 5300));
const text: Deno.NetAddr = { transport: "udp", hostname: "192.0.2.7", port: 5300 };
const cookies = new ServerCookies({ secrets: [new Uint8Array(16).fill(7)], require: false });

const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0 };
const plain = encodeMessage(query({ name: "www.example.com", type: 1 }, { id: 1, edns: null }));
const withEdns = encodeMessage(
  query({ name: "www.example.com", type: 1 }, { id: 1, edns: { ...edns, options: [] } }),
);
const clientCookie = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const withCookie = encodeMessage(
  query({ name: "www.example.com", type: 1 }, {
    id: 1,
    edns: { ...edns, options: [{ code: 10, data: clientCookie }] },
  }),
);

Deno.bench("rrl: check, batched sender (SocketPeer)", { group: "rrl" }, () => {
  limiter.check(peer);
});
Deno.bench("rrl: check, Deno sender (text)", { group: "rrl" }, () => {
  limiter.check(text);
});
Deno.bench("cookies: look at a query without EDNS", { group: "cookies" }, () => {
  cookies.inspect(plain, peer);
});
Deno.bench("cookies: look at a query with EDNS, no cookie", { group: "cookies" }, () => {
  cookies.inspect(withEdns, peer);
});
Deno.bench("cookies: check a client cookie and stamp the answer", { group: "cookies" }, () => {
  const check = cookies.inspect(withCookie, peer)!;
  cookies.stamp(withEdns, check, true);
});
Deno.bench(
  "baseline: decoding the query (every answer that is not a memo hit)",
  { group: "baseline" },
  () => {
    decodeMessage(withEdns);
  },
);
