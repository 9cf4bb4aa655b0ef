/**
 * struct sockaddr building and matching for the FFI sockets, and the forwarder's light abort signal.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { sockaddr, SocketPeer } from "../../lib/net/sockaddr.ts";
import { TimeoutSignal } from "../../lib/upstream/udp_exchange.ts";

test("SocketPeer.is() compares family, port and address, and nothing else", async (t) => {
  const upstream = sockaddr("127.0.0.1", 5300);
  const cases: { name: string; peer: Deno.NetAddr; same: boolean }[] = [
    { name: "the same address and port", peer: new SocketPeer(sockaddr("127.0.0.1", 5300)), same: true },
    { name: "another port", peer: new SocketPeer(sockaddr("127.0.0.1", 5301)), same: false },
    { name: "another address", peer: new SocketPeer(sockaddr("127.0.0.2", 5300)), same: false },
    { name: "IPv6", peer: new SocketPeer(sockaddr("::1", 5300)), same: false },
    {
      name: "an address given as text",
      peer: { transport: "udp", hostname: "127.0.0.1", port: 5300 },
      same: false,
    },
  ];
  for (const { name, peer, same } of cases) {
    await t.step(name, () => equal(SocketPeer.is(peer, upstream), same));
  }
  await t.step("an IPv4 address in a receive slot of 28 octets", () => {
    const slot = new Uint8Array(28);
    slot.set(sockaddr("127.0.0.1", 5300));
    slot.fill(0xff, 16); // what a longer address left behind
    const peer = new SocketPeer(slot);
    equal(SocketPeer.is(peer, upstream), true);
    deepEqual([peer.hostname, peer.port, SocketPeer.raw(peer).length], ["127.0.0.1", 5300, 16]);
  });
  await t.step("IPv6: the flow label does not count", () => {
    const withFlow = sockaddr("2001:db8::1", 53);
    withFlow[4] = 0x12;
    equal(SocketPeer.is(new SocketPeer(withFlow), sockaddr("2001:db8::1", 53)), true);
    equal(SocketPeer.is(new SocketPeer(sockaddr("2001:db8::2", 53)), sockaddr("2001:db8::1", 53)), false);
  });
});

test("TimeoutSignal runs each listener once, and none that was removed", () => {
  const signal = new TimeoutSignal();
  const calls: string[] = [];
  const kept = () => calls.push("kept");
  const removed = () => calls.push("removed");
  signal.addEventListener("abort", kept);
  signal.addEventListener("abort", removed);
  signal.removeEventListener("abort", removed);
  equal(signal.aborted, false);
  signal.abort();
  signal.abort();
  equal(signal.aborted, true);
  signal.addEventListener("abort", () => calls.push("late")); // a fired signal never calls back
  deepEqual(calls, ["kept"]);
});
