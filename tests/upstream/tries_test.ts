/**
 * The tries of one forwarded query (lib/upstream/tries.ts) with fake exchanges on real timers: a
 * retry after the upstream's retransmission timeout with a fresh ID, a late reply to an earlier
 * try taken, the number of tries bounded by doubling timeouts, and every try stopped when the
 * query ends.
 * @module
 */
import { requestOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { UpstreamTimeout } from "../../lib/proto/errors.ts";
import { createForwardCounters, forward, type UpstreamExchange } from "../../lib/upstream/forward.ts";
import { query } from "../../lib/proto/message.ts";
import { refuse } from "../../lib/resolve/resolver.ts";
import { type Message, RRClass } from "../../lib/proto/types.ts";
import type { AbortLike, Exchange } from "../../lib/upstream/udp_exchange.ts";

const REQUEST = requestOf(query({ name: "www.example.net" }, { id: 7 }));

function answerTo(bytes: Uint8Array): Uint8Array {
  const sent = decodeMessage(bytes);
  const answers = [{
    name: "www.example.net",
    class: RRClass.IN,
    ttl: 60,
    data: { type: "A", address: "192.0.2.9" },
  }];
  return encodeMessage({ ...sent, response: true, recursionAvailable: true, answers } as Message);
}

/** Each call to the exchange: its query's ID, when it was sent, and its signal. */
interface Call {
  readonly id: number;
  readonly at: number;
  readonly signal: AbortLike;
}

/**
 * An exchange whose `n`th call answers after `delays[n]` ms (undefined: never); every wait ends
 * when its signal aborts, so no timer outlives the test.
 */
function scripted(delays: readonly (number | undefined)[]) {
  const calls: Call[] = [];
  const exchange: Exchange = (bytes, signal) => {
    const delay = delays[calls.length];
    calls.push({ id: (bytes[0]! << 8) | bytes[1]!, at: performance.now(), signal });
    return new Promise((resolve, reject) => {
      const timer = delay === undefined ? undefined : setTimeout(() => resolve(answerTo(bytes)), delay);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new UpstreamTimeout("no reply"));
      }, { once: true });
    });
  };
  return { calls, upstreams: [{ name: "upstream", exchange }] as UpstreamExchange[] };
}

test("forward() asks again with a fresh ID after the upstream's timeout, and takes the retry's answer", async () => {
  const { calls, upstreams } = scripted([undefined, 0]);
  const ids = [0x1111, 0x2222];
  const counters = createForwardCounters();
  const stage = forward(upstreams, { timeoutMs: 2000, counters, nextId: () => ids.shift()! });
  const began = performance.now();
  const response = await stage(REQUEST, refuse);
  const ms = performance.now() - began;
  equal(response.id, 7);
  equal(response.answers.length, 1);
  deepEqual(calls.map((call) => call.id), [0x1111, 0x2222]);
  // Before any reply was timed, the timeout is unbound's 376 ms.
  ok(ms >= 350 && ms < 1000, `answered after ${ms.toFixed(0)} ms`);
  ok(calls[0]!.signal.aborted, "the first try is stopped when the query ends");
  deepEqual([counters.retries, counters.timeouts, counters.answered], [1, 1, 1]);
});

test("forward() takes a late reply to an earlier try", async () => {
  const { calls, upstreams } = scripted([500, undefined]); // the first reply comes after the retry
  const counters = createForwardCounters();
  const stage = forward(upstreams, { timeoutMs: 2000, counters });
  const response = await stage(REQUEST, refuse);
  equal(response.answers.length, 1);
  equal(calls.length, 2);
  ok(calls[1]!.signal.aborted, "the retry is stopped once the first try is answered");
  deepEqual([counters.retries, counters.timeouts, counters.answered], [1, 0, 1]);
});

test("forward() makes a few tries at a silent upstream, each waiting twice as long, within the deadline", async () => {
  const { calls, upstreams } = scripted([]);
  const counters = createForwardCounters();
  const stage = forward(upstreams, { timeoutMs: 1200, counters });
  await rejects(stage(REQUEST, refuse), UpstreamTimeout);
  // Waits of 376 and 752 ms; the third try's 1,504 ms would pass the deadline, so it is the last.
  equal(calls.length, 3);
  const gaps = [calls[1]!.at - calls[0]!.at, calls[2]!.at - calls[1]!.at];
  ok(gaps[0]! >= 360 && gaps[0]! < 600 && gaps[1]! >= 730 && gaps[1]! < 1000, `gaps ${gaps.join(", ")} ms`);
  ok(calls.every((call) => call.signal.aborted));
  deepEqual([counters.retries, counters.timeouts], [2, 3]);
});
