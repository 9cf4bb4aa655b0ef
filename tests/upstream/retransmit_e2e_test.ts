/**
 * Retransmission through the real server (issue 12, defect 12): one upstream that drops every
 * other reply, as NSD's response rate limiting does to a busy client. Each lost reply used to cost
 * the whole deadline and end in SERVFAIL; now the query is asked again, with a fresh ID, after the
 * upstream's retransmission timeout (about 50 ms here, where replies take well under 1 ms).
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query } from "../../lib/proto/message.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { udpAsk } from "../_udp_client.ts";
import { answerA, startScripted } from "./_scripted_upstream.ts";

/** Queries asked, one after another. */
const N = 200;
/** The server's deadline: short, so the old behaviour (each drop waits it out) ends in 40 s. */
const TIMEOUT_MS = 400;

test({
  name: "dnsd answers every query of an upstream that drops every other reply, by asking again",
  timeoutMs: 60_000,
}, async () => {
  // The 2nd, 4th, 6th... queries it receives get no reply.
  const upstream = startScripted((message, index) => index % 2 === 1 ? null : answerA(message));
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: TIMEOUT_MS,
    localData: fixedData({}),
  });
  try {
    let answered = 0;
    let slowest = 0;
    for (let i = 0; i < N; i++) {
      const began = performance.now();
      const bytes = await udpAsk(
        server.address,
        encodeMessage(query({ name: `q${i}.lossy.test` }, { id: i })),
      );
      slowest = Math.max(slowest, performance.now() - began);
      const reply = decodeMessage(bytes);
      if (reply.rcode === Rcode.NOERROR && reply.answers.length === 1) answered++;
    }
    equal(answered, N, `${answered} of ${N} answered`);
    ok(slowest < TIMEOUT_MS, `the slowest answer took ${slowest.toFixed(0)} ms`);
    // Every query after the first lost its first reply (the alternation lines up so).
    equal(server.counters.retries, N - 1);
    equal(upstream.received.length, 2 * N - 1);
    // Each retry carries a fresh random ID. A fresh draw equals the last one by chance once in 65,536
    // (about 0.3% of runs for 199 retries), so two repeats are allowed; a reused ID repeats 199 times.
    let repeated = 0;
    for (let i = 1; i + 1 < upstream.received.length; i += 2) {
      if (upstream.received[i]!.id === upstream.received[i + 1]!.id) repeated++;
    }
    ok(repeated <= 2, `${repeated} of ${N - 1} retries kept the ID of the try before`);
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
});
