/**
 * Failover between upstreams over real sockets on 127.0.0.1: dead upstreams and their back-off,
 * SERVFAIL and REFUSED, and the three strategies. dnsd runs from startServer() (see _failover.ts);
 * the back-off probe runs through forward() directly with an injected clock.
 * @module
 */
import { requestOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { createForwardCounters, forward } from "../../lib/upstream/forward.ts";
import { refuse } from "../../lib/resolve/resolver.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { udpExchange } from "../../lib/upstream/udp_exchange.ts";
import { type Behaviour, startFakeUpstream } from "../_fake_upstream.ts";
import { addresses, query, withServer } from "../_failover.ts";

const NAME = "www.dnsd.test";
const alive: Record<string, Behaviour> = { [NAME]: { kind: "answer", address: "192.0.2.2" } };
const silent: Record<string, Behaviour> = { [NAME]: { kind: "silent" } };
const servfail: Record<string, Behaviour> = { [NAME]: { kind: "servfail" } };
const refused: Record<string, Behaviour> = { [NAME]: { kind: "refused" } };
/** A header alone, no question: what NSD sends to a query it will not read. */
const bareRefused: Record<string, Behaviour> = { [NAME]: { kind: "refused", bare: true } };
const bareServfail: Record<string, Behaviour> = { [NAME]: { kind: "servfail", bare: true } };

test("dnsd answers from the live upstream and stops asking a dead one first after 3 failures", async (t) => {
  const timeoutMs = 400;
  for (const dead of [silent, "closed-port"] as const) {
    await t.step(dead === "closed-port" ? "a closed port" : "a socket that never answers", async () => {
      await withServer([dead, alive], { timeoutMs }, async ({ server, fakes, ask }) => {
        for (let id = 1; id <= 10; id++) {
          const { message, ms } = await ask(query(NAME, { id }));
          equal(message.rcode, Rcode.NOERROR);
          equal(message.id, id);
          deepEqual(addresses(message), ["192.0.2.2"]);
          ok(ms < timeoutMs, `query ${id} took ${ms.toFixed(0)} ms`);
        }
        if (dead !== "closed-port") equal(fakes[0]!.count("udp", NAME), 3); // then backed off (1 s)
        equal(fakes[1]!.count("udp", NAME), 10);
        equal(server.counters.timeouts + server.counters.failures, 3);
        equal(server.counters.answered, 10);
      });
    });
  }
});

test("forward() probes a backed-off upstream again when its back-off ends, and doubles it", async () => {
  const dead = startFakeUpstream(silent);
  const live = startFakeUpstream(alive);
  try {
    let time = 0;
    const counters = createForwardCounters();
    const stage = forward([
      { name: "dead", exchange: udpExchange(dead.address) },
      { name: "live", exchange: udpExchange(live.address) },
    ], {
      timeoutMs: 200, // the clock stands still, so each try at the dead one waits 100 ms of real time
      now: () => time,
      counters,
      pool: { failuresBeforeBackoff: 3, backoffMs: 1000, maxBackoffMs: 60_000 },
    });
    const deadAsked: number[] = [];
    const askAt = async (at: number) => {
      time = at;
      const response = await stage(requestOf(query(NAME)), refuse);
      deepEqual(addresses(response), ["192.0.2.2"]);
      deadAsked.push(dead.count("udp"));
    };
    for (const at of [0, 0, 0, 0, 500, 999]) await askAt(at); // 3 failures, then 1 s of back-off
    await askAt(1000); // back-off over: probed, fails again: back off 2 s
    await askAt(2999);
    await askAt(3000); // probed again
    deepEqual(deadAsked, [1, 2, 3, 3, 3, 3, 4, 4, 5]);
    equal(counters.timeouts, 5);
    equal(live.count("udp"), 9);
  } finally {
    await dead.close();
    await live.close();
  }
});

test("dnsd takes the second upstream's answer when the first answers SERVFAIL or REFUSED", async (t) => {
  const firsts = [
    ["SERVFAIL", servfail],
    ["REFUSED", refused],
    ["SERVFAIL without the question", bareServfail],
    ["REFUSED without the question", bareRefused],
  ] as const;
  for (const [rcode, first] of firsts) {
    await t.step(rcode, async () => {
      // A 10 s timeout: an error reply dropped as a stray datagram would hold the answer for all of it.
      await withServer([first, alive], { timeoutMs: 10_000 }, async ({ server, fakes, ask }) => {
        const began = performance.now();
        const { message } = await ask(query(NAME));
        ok(performance.now() - began < 2000, `answered after ${Math.round(performance.now() - began)} ms`);
        equal(message.rcode, Rcode.NOERROR);
        deepEqual(addresses(message), ["192.0.2.2"]);
        deepEqual(fakes.map((fake) => fake.count("udp")), [1, 1]);
        equal(server.counters.failovers, 1);
        equal(server.counters.answered, 1);
      });
    });
  }
});

test("dnsd passes on the last SERVFAIL or REFUSED when no upstream does better", async (t) => {
  const cases = [
    { name: "SERVFAIL, SERVFAIL", upstreams: [servfail, servfail], rcode: Rcode.SERVFAIL, failovers: 2 },
    { name: "REFUSED, SERVFAIL", upstreams: [refused, servfail], rcode: Rcode.SERVFAIL, failovers: 2 },
    { name: "SERVFAIL, REFUSED", upstreams: [servfail, refused], rcode: Rcode.REFUSED, failovers: 2 },
    // a REFUSED answer tells the client more than the silent upstream's timeout; the silent one,
    // the only upstream left, is asked again in the time that remains
    {
      name: "silent, REFUSED",
      upstreams: [silent, refused],
      rcode: Rcode.REFUSED,
      failovers: 1,
      counts: [2, 1],
    },
    { name: "REFUSED, silent", upstreams: [refused, silent], rcode: Rcode.REFUSED, failovers: 1 },
  ];
  for (const { name, upstreams, rcode, failovers, counts = [1, 1] } of cases) {
    await t.step(name, async () => {
      await withServer(upstreams, { timeoutMs: 300 }, async ({ server, fakes, ask }) => {
        const { message } = await ask(query(NAME, { id: 77 }));
        equal(message.id, 77);
        equal(message.rcode, rcode);
        deepEqual(message.answers, []);
        deepEqual(fakes.map((fake) => fake.count("udp")), counts);
        equal(server.counters.failovers, failovers);
        equal(server.counters.answered, 0);
      });
    });
  }
});

test("dnsd answers SERVFAIL within its timeout when every upstream is silent", async () => {
  await withServer([silent, silent], { timeoutMs: 300 }, async ({ server, fakes, ask }) => {
    const { message, ms } = await ask(query(NAME));
    equal(message.rcode, Rcode.SERVFAIL);
    ok(ms >= 250 && ms < 1000, `${ms.toFixed(0)} ms`);
    deepEqual(fakes.map((fake) => fake.count("udp")), [1, 1]); // each got its share of the deadline
    equal(server.counters.timeouts, 2);
  });
});

test("dnsd with --upstream-strategy fastest prefers the quicker upstream after one query each", async (t) => {
  const slow: Record<string, Behaviour> = { [NAME]: { kind: "answer", address: "192.0.2.1", delayMs: 80 } };
  const fast: Record<string, Behaviour> = { [NAME]: { kind: "answer", address: "192.0.2.2" } };
  const strategies = [
    { strategy: "fastest", counts: [1, 9] }, // the slow one is measured once (listed first), then skipped
    { strategy: "sequential", counts: [10, 0] },
  ] as const;
  for (const { strategy, counts } of strategies) {
    await t.step(strategy, async () => {
      await withServer([slow, fast], { strategy, timeoutMs: 1000 }, async ({ fakes, ask }) => {
        const answers: string[] = [];
        for (let id = 1; id <= 10; id++) answers.push(...addresses((await ask(query(NAME, { id }))).message));
        deepEqual(fakes.map((fake) => fake.count("udp")), counts);
        if (strategy === "fastest") deepEqual(answers.slice(1), Array(9).fill("192.0.2.2"));
      });
    });
  }
});

test("dnsd with --upstream-strategy random spreads queries over both upstreams", async () => {
  const first: Record<string, Behaviour> = { [NAME]: { kind: "answer", address: "192.0.2.1" } };
  await withServer([first, alive], { strategy: "random" }, async ({ fakes, ask }) => {
    const seen = new Set<string>();
    for (let id = 1; id <= 30; id++) {
      addresses((await ask(query(NAME, { id }))).message).forEach((a) => seen.add(a));
    }
    // each query goes to one upstream; all 30 to one of two would happen once in 2^29 runs
    deepEqual([...seen].sort(), ["192.0.2.1", "192.0.2.2"]);
    equal(fakes[0]!.count("udp") + fakes[1]!.count("udp"), 30);
    ok(fakes.every((fake) => fake.count("udp") > 0));
  });
});
