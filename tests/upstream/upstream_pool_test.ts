/**
 * upstreamPool() with an injected clock and random source: the three orders, the smoothed RTT,
 * and the exponential back-off of failing upstreams. Pure: no sockets, no timers.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { type PoolOptions, upstreamPool } from "../../lib/upstream/upstream_pool.ts";

/** A clock tests move by hand. */
function manualClock(start = 10_000) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

/** A random source that plays back `values` and counts how many were drawn. */
function playback(values: readonly number[]) {
  let drawn = 0;
  return {
    random: () => {
      const value = values[drawn % values.length]!;
      drawn++;
      return value;
    },
    drawn: () => drawn,
  };
}

const names = ["a", "b", "c", "d"] as const;

/** The health of an upstream never heard from. */
const CLEAN = { failures: 0, skipUntil: 0, srtt: undefined, rttvar: 0, rto: 376, noEdnsUntil: 0 };

function pool(options: PoolOptions = {}, upstreams: readonly string[] = names) {
  const clock = manualClock();
  return { clock, pool: upstreamPool(upstreams, { now: clock.now, ...options }) };
}

test("upstreamPool() tries upstreams in the order given by default", () => {
  const { pool: p } = pool();
  deepEqual(p.order(), ["a", "b", "c", "d"]);
  p.succeeded("c", 5);
  p.failed("a");
  deepEqual(p.order(), ["a", "b", "c", "d"]); // one failure is not yet a reason to skip
});

test("upstreamPool() shuffles with the injected random source (Fisher-Yates)", async (t) => {
  const shuffles = [
    // i=3: j=floor(r*4), i=2: j=floor(r*3), i=1: j=floor(r*2)
    { values: [0.99], expected: ["a", "b", "c", "d"] }, // j=i every time: no swap
    { values: [0], expected: ["b", "c", "d", "a"] }, // swap 3<->0, 2<->0, 1<->0
    { values: [0.5], expected: ["a", "d", "b", "c"] }, // swap 3<->2, 2<->1, 1<->1
    { values: [0.3, 0.9, 0.1], expected: ["d", "a", "c", "b"] }, // swap 3<->1, 2<->2, 1<->0
  ];
  for (const { values, expected } of shuffles) {
    await t.step(`random values ${values.join(", ")}`, () => {
      const source = playback(values);
      const { pool: p } = pool({ strategy: "random", random: source.random });
      deepEqual(p.order(), expected);
      equal(source.drawn(), names.length - 1);
    });
  }
});

test("upstreamPool() draws a new shuffle for every order()", () => {
  const source = playback([0.99, 0.99, 0.99, 0, 0, 0]);
  const { pool: p } = pool({ strategy: "random", random: source.random });
  deepEqual(p.order(), ["a", "b", "c", "d"]);
  deepEqual(p.order(), ["b", "c", "d", "a"]);
  equal(source.drawn(), 6);
});

test("upstreamPool() shuffles only the healthy upstreams and keeps those backing off last", () => {
  const source = playback([0]);
  const { pool: p } = pool({ strategy: "random", random: source.random, failuresBeforeBackoff: 1 });
  p.failed("b");
  deepEqual(p.order(), ["c", "d", "a", "b"]); // [a, c, d] shuffled by zeros, then b
  equal(source.drawn(), 2);
});

test("upstreamPool() orders by smoothed RTT with the fastest strategy, untimed upstreams first", () => {
  const { pool: p } = pool({ strategy: "fastest" });
  p.succeeded("a", 100);
  p.succeeded("b", 20);
  p.succeeded("d", 50);
  deepEqual(p.order(), ["c", "b", "d", "a"]);
  p.succeeded("c", 70);
  deepEqual(p.order(), ["b", "d", "c", "a"]);
});

test("upstreamPool() smooths RTT with gain 1/8 (RFC 6298 section 2)", () => {
  const { pool: p } = pool({ strategy: "fastest" }, ["a", "b"]);
  equal(p.health("a").srtt, undefined);
  p.succeeded("a", 100); // the first sample is taken as it is
  equal(p.health("a").srtt, 100);
  p.succeeded("a", 20); // 100 + (20 - 100) / 8
  equal(p.health("a").srtt, 90);
  p.succeeded("a", 170); // 90 + (170 - 90) / 8
  equal(p.health("a").srtt, 100);
  p.succeeded("b", 60);
  // a's last sample (170) is worse than b's, but one sample moves the average only an eighth of the way
  p.succeeded("a", 20);
  equal(p.health("a").srtt, 90);
  deepEqual(p.order(), ["b", "a"]);
});

test("upstreamPool() backs an upstream off after failuresBeforeBackoff failures in a row", () => {
  const { clock, pool: p } = pool({ failuresBeforeBackoff: 3, backoffMs: 1000, maxBackoffMs: 60_000 });
  p.failed("a");
  p.failed("a");
  deepEqual(p.order(), ["a", "b", "c", "d"]);
  deepEqual(p.health("a"), { ...CLEAN, failures: 2 });
  p.failed("a");
  deepEqual(p.health("a"), { ...CLEAN, failures: 3, skipUntil: clock.now() + 1000 });
  deepEqual(p.order(), ["b", "c", "d", "a"]);
  clock.advance(999);
  deepEqual(p.order(), ["b", "c", "d", "a"]);
  clock.advance(1);
  deepEqual(p.order(), ["a", "b", "c", "d"]); // the back-off is over: probed first again
});

test("upstreamPool() doubles the back-off with each further failure and caps it at maxBackoffMs", () => {
  const { clock, pool: p } = pool({ failuresBeforeBackoff: 2, backoffMs: 100, maxBackoffMs: 700 });
  const backoffs: number[] = [];
  for (let i = 0; i < 7; i++) {
    p.failed("b");
    const { skipUntil } = p.health("b");
    backoffs.push(skipUntil === 0 ? 0 : skipUntil - clock.now());
    clock.advance(1000); // past any back-off, so every failure is a probe that failed
  }
  deepEqual(backoffs, [0, 100, 200, 400, 700, 700, 700]);
});

test("upstreamPool() forgets failures and back-off after one success, but keeps the RTT", () => {
  const { clock, pool: p } = pool({ failuresBeforeBackoff: 1, backoffMs: 100, maxBackoffMs: 1000 });
  p.succeeded("a", 40);
  p.failed("a");
  p.failed("a");
  equal(p.health("a").skipUntil, clock.now() + 200);
  clock.advance(200);
  p.succeeded("a", 40);
  // Two samples of 40 ms: the deviation falls from 20 to 15, and the timeout is 40 + 4 * 15.
  deepEqual(p.health("a"), { ...CLEAN, srtt: 40, rttvar: 15, rto: 100 });
  p.failed("a");
  equal(p.health("a").skipUntil, clock.now() + 100); // the back-off starts again from backoffMs
});

test("upstreamPool() still returns every upstream when all are backing off, soonest back first", () => {
  const { clock, pool: p } = pool({ failuresBeforeBackoff: 1, backoffMs: 100, maxBackoffMs: 10_000 });
  p.failed("c"); // back at +100
  clock.advance(10);
  p.failed("a"); // back at +110
  p.failed("d");
  p.failed("d"); // back at +210
  clock.advance(20);
  p.failed("b"); // back at +130
  deepEqual(p.order(), ["c", "a", "b", "d"]);
  clock.advance(70); // +100: c is back
  deepEqual(p.order(), ["c", "a", "b", "d"]);
  clock.advance(10); // +110: a is back too
  deepEqual(p.order(), ["a", "c", "b", "d"]);
});

test("upstreamPool() puts a fast upstream that is backing off behind slower healthy ones", () => {
  const { clock, pool: p } = pool({
    strategy: "fastest",
    failuresBeforeBackoff: 1,
    backoffMs: 500,
    maxBackoffMs: 500,
  }, ["slow", "fast"]);
  p.succeeded("slow", 80);
  p.succeeded("fast", 5);
  deepEqual(p.order(), ["fast", "slow"]);
  p.failed("fast");
  deepEqual(p.order(), ["slow", "fast"]);
  clock.advance(500);
  deepEqual(p.order(), ["fast", "slow"]); // its RTT survived the failure
});

test("upstreamPool() answers health() for an upstream it does not know with a clean slate", () => {
  const { pool: p } = pool({}, ["a"]);
  deepEqual(p.health("z"), CLEAN);
});

test("upstreamPool() times tries from replies (RFC 6298) and backs the timeout off on a loss", () => {
  const { pool: p } = pool({}, ["a"]);
  equal(p.rto("a"), 376); // unbound's first guess
  p.succeeded("a", 0.2);
  equal(p.rto("a"), 50); // a loopback reply: the floor
  p.timedOut("a", 50);
  equal(p.rto("a"), 100);
  p.timedOut("a", 50); // another query sent with the old timeout: not doubled again
  equal(p.rto("a"), 100);
  p.timedOut("a", 100);
  equal(p.rto("a"), 200);
  p.succeeded("a", 0.2); // a reply ends the back-off
  equal(p.rto("a"), 50);
  p.timedOut("a", 100_000);
  equal(p.rto("a"), 50); // a try sent before the timeout came down says nothing about it now
  p.succeeded("a", 1000);
  ok(p.rto("a") > 1000);
});

test("upstreamPool() remembers an upstream that fails EDNS until the given time", () => {
  const { clock, pool: p } = pool({}, ["a", "b"]);
  equal(p.avoidsEdns("a", clock.now()), false);
  p.avoidEdns("a", clock.now() + 900_000);
  equal(p.avoidsEdns("a", clock.now() + 899_999), true);
  equal(p.avoidsEdns("a", clock.now() + 900_000), false);
  equal(p.avoidsEdns("b", clock.now()), false);
});
