/**
 * The cap on queries waiting for upstreams (issue 12, defect 10), through the real server: with a
 * silent upstream, a burst of new names beyond `maxOutstanding` is answered SERVFAIL at once (EDE
 * 0, Other, with the reason), the rest wait out the deadline, nothing is left waiting afterwards,
 * and the cache's coalesced questions count once.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { type RunningServer, type ServerOptions, startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { EdeCode, edeOf } from "../../lib/proto/ede.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query } from "../../lib/proto/message.ts";
import { type Message, Rcode } from "../../lib/proto/types.ts";
import { udpAsk } from "../_udp_client.ts";
import { answerA, startScripted } from "./_scripted_upstream.ts";

const EDNS = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };
const CAP = 10;
const BURST = 50;
const TIMEOUT_MS = 1500;

interface Timed {
  readonly reply: Message;
  readonly ms: number;
}

async function ask(server: RunningServer, name: string, id: number): Promise<Timed> {
  const began = performance.now();
  const bytes = await udpAsk(server.address, encodeMessage(query({ name }, { id, edns: EDNS })), 5000);
  return { reply: decodeMessage(bytes), ms: performance.now() - began };
}

/** Runs `fn` against dnsd whose upstream answers names starting "live." and ignores the rest. */
async function withSilentUpstream(
  options: Partial<ServerOptions>,
  fn: (server: RunningServer, received: () => number) => Promise<void>,
): Promise<void> {
  const upstream = startScripted((m) => m.questions[0]!.name.startsWith("live.") ? answerA(m) : null);
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: TIMEOUT_MS,
    localData: fixedData({}),
    maxOutstanding: CAP,
    ...options,
  });
  try {
    await fn(server, () => upstream.received.length);
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
}

test({
  name: "dnsd answers SERVFAIL at once past --max-outstanding, and forwards again once queries end",
  timeoutMs: 20_000,
}, async () => {
  await withSilentUpstream({}, async (server, received) => {
    const burst = await Promise.all(
      Array.from({ length: BURST }, (_, i) => ask(server, `n${i}.silent.test`, i)),
    );
    const busy = burst.filter(({ reply }) => edeOf(reply.edns).some((e) => e.code === EdeCode.OTHER));
    const waited = burst.filter(({ reply }) =>
      edeOf(reply.edns).some((e) => e.code === EdeCode.NO_REACHABLE_AUTHORITY)
    );
    deepEqual([busy.length, waited.length], [BURST - CAP, CAP]);
    ok(burst.every(({ reply }) => reply.rcode === Rcode.SERVFAIL));
    for (const { ms } of busy) ok(ms < TIMEOUT_MS / 3, `a query past the cap took ${ms.toFixed(0)} ms`);
    for (const { ms } of waited) {
      ok(ms >= TIMEOUT_MS * 0.9, `a waiting query ended after ${ms.toFixed(0)} ms`);
    }
    equal(server.counters.busy, BURST - CAP);
    equal(server.counters.forwarded, CAP);
    // Only the queries under the cap went upstream (each a few times, within its deadline).
    ok(received() >= CAP && received() <= CAP * 8, `${received()} upstream queries`);

    // Nothing is left waiting: a new question is forwarded and answered.
    const after = await ask(server, "live.after.test", 99);
    equal(after.reply.rcode, Rcode.NOERROR);
    equal(server.counters.busy, BURST - CAP);
  });
});

test({
  name: "dnsd counts a question coalesced by the cache once against --max-outstanding",
  timeoutMs: 20_000,
}, async () => {
  const cache = { limits: { maxEntries: 100, minTtl: 0, maxTtl: 86400, servfailTtl: 1, staleMax: 0 } };
  await withSilentUpstream({ cache, maxOutstanding: 2 }, async (server) => {
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => ask(server, "same.silent.test", i)));
    ok(burst.every(({ reply }) => reply.rcode === Rcode.SERVFAIL));
    equal(server.counters.busy, 0);
    equal(server.counters.forwarded, 1);
  });
});
