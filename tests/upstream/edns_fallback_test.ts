/**
 * EDNS fallback through the real server (issue 12, defect 8): an upstream that answers FORMERR,
 * NOTIMP or BADVERS to a query with EDNS is asked the same question again without it, the client
 * still gets an answer (with its own OPT record, as dnsd always writes it), and the upstream is
 * then asked without EDNS for a while. An upstream that fails the plain query too is not marked.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query } from "../../lib/proto/message.ts";
import { type Message, Rcode } from "../../lib/proto/types.ts";
import { udpAsk } from "../_udp_client.ts";
import { answerA, badVersion, rcodeOnly, type Script, startScripted } from "./_scripted_upstream.ts";

const EDNS = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };

async function ask(server: RunningServer, name: string, id: number): Promise<Message> {
  const bytes = encodeMessage(query({ name }, { id, edns: EDNS }));
  return decodeMessage(await udpAsk(server.address, bytes, 3000));
}

async function withUpstream(
  script: Script,
  fn: (server: RunningServer, sent: readonly Message[]) => Promise<void>,
) {
  const upstream = startScripted(script);
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 1000,
    localData: fixedData({}),
  });
  try {
    await fn(server, upstream.received);
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
}

const refusals = [
  { name: "FORMERR", refuse: (m: Message) => rcodeOnly(m, Rcode.FORMERR) },
  { name: "NOTIMP", refuse: (m: Message) => rcodeOnly(m, Rcode.NOTIMP) },
  { name: "BADVERS", refuse: badVersion },
  // A header alone, as NSD answers a query it cannot read.
  {
    name: "FORMERR without the question",
    refuse: (m: Message) => ({ ...rcodeOnly(m, Rcode.FORMERR), questions: [] }),
  },
];

test("dnsd asks again without EDNS when an upstream fails EDNS, and remembers it", async (t) => {
  for (const { name, refuse } of refusals) {
    await t.step(name, async () => {
      const script: Script = (message) => message.edns ? refuse(message) : answerA(message, "192.0.2.8");
      await withUpstream(script, async (server, sent) => {
        const first = await ask(server, "old.edns.test", 1);
        equal(first.rcode, Rcode.NOERROR);
        equal(first.id, 1);
        deepEqual(first.answers.map((r) => r.data), [{ type: "A", address: "192.0.2.8" }]);
        ok(first.edns, "the client's EDNS is answered with dnsd's own OPT record");
        deepEqual(sent.map((m) => m.edns !== null), [true, false]);
        notEqual(sent[0]!.id, sent[1]!.id); // the retry has a fresh ID
        equal(server.counters.ednsFallbacks, 1);

        // Remembered: the next query goes without EDNS at once.
        const second = await ask(server, "again.edns.test", 2);
        equal(second.rcode, Rcode.NOERROR);
        deepEqual(sent.map((m) => m.edns !== null), [true, false, false]);
        equal(server.counters.ednsFallbacks, 1);
      });
    });
  }
});

test("dnsd passes on an upstream's FORMERR to the plain query too, and keeps asking it with EDNS", async () => {
  await withUpstream((message) => rcodeOnly(message, Rcode.FORMERR), async (server, sent) => {
    equal((await ask(server, "broken.edns.test", 3)).rcode, Rcode.FORMERR);
    deepEqual(sent.map((m) => m.edns !== null), [true, false]);
    equal((await ask(server, "broken.edns.test", 4)).rcode, Rcode.FORMERR);
    deepEqual(sent.map((m) => m.edns !== null), [true, false, true, false]); // not marked
  });
});
