/**
 * Which upstream replies dnsd passes on, over real sockets on 127.0.0.1: a truncated UDP reply is
 * asked again over TCP and never passed on itself; with 0x20 only a reply that echoes the
 * question's case is taken; a malformed reply never reaches the client. See _failover.ts.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { type Behaviour, fakeTxt } from "../_fake_upstream.ts";
import { addresses, query, withServer } from "../_failover.ts";

const alive: Record<string, Behaviour> = {
  "big.dnsd.test": { kind: "answer", address: "192.0.2.2" },
  "cut.dnsd.test": { kind: "answer", address: "192.0.2.2" },
  "bad.dnsd.test": { kind: "answer", address: "192.0.2.2" },
};

test("dnsd asks again over TCP when the UDP reply is truncated, and passes the whole answer on", async (t) => {
  await t.step("to a UDP client with EDNS (about 900 octets)", async () => {
    const upstream = { "big.dnsd.test": { kind: "truncated", records: 4, over: "udp" } } as const;
    await withServer([upstream], {}, async ({ server, fakes, ask }) => {
      const { message } = await ask(query("big.dnsd.test", { type: RRType.TXT, edns: true }));
      equal(message.rcode, Rcode.NOERROR);
      equal(message.truncated, false);
      deepEqual(message.answers, fakeTxt("big.dnsd.test", 4));
      deepEqual([fakes[0]!.count("udp"), fakes[0]!.count("tcp")], [1, 1]);
      equal(server.counters.tcpFallbacks, 1);
    });
  });
  await t.step("to a TCP client (about 6.5 KB)", async () => {
    const upstream = { "big.dnsd.test": { kind: "truncated", records: 30, over: "udp" } } as const;
    await withServer([upstream], {}, async ({ server, fakes, askTcp }) => {
      const { message } = await askTcp(query("big.dnsd.test", { type: RRType.TXT }));
      equal(message.truncated, false);
      deepEqual(message.answers, fakeTxt("big.dnsd.test", 30));
      deepEqual([fakes[0]!.count("udp"), fakes[0]!.count("tcp")], [1, 1]); // dnsd asks upstream over UDP first
      equal(server.counters.tcpFallbacks, 1);
    });
  });
});

test("dnsd never passes on a reply truncated over both UDP and TCP", async (t) => {
  const cut = { "cut.dnsd.test": { kind: "truncated", records: 4, over: "both" } } as const;
  await t.step("the only upstream: SERVFAIL", async () => {
    await withServer([cut], {}, async ({ server, fakes, ask }) => {
      const { message } = await ask(query("cut.dnsd.test", { type: RRType.TXT, edns: true }));
      equal(message.rcode, Rcode.SERVFAIL);
      equal(message.truncated, false);
      deepEqual([message.answers, message.authorities], [[], []]);
      deepEqual([fakes[0]!.count("udp"), fakes[0]!.count("tcp")], [1, 1]);
      equal(server.counters.tcpFallbacks, 1);
      equal(server.counters.failures, 1);
    });
  });
  await t.step("then a good upstream: its answer", async () => {
    await withServer([cut, alive], {}, async ({ server, ask }) => {
      const { message } = await ask(query("cut.dnsd.test"));
      equal(message.rcode, Rcode.NOERROR);
      deepEqual(addresses(message), ["192.0.2.2"]);
      equal(server.counters.tcpFallbacks, 1);
    });
  });
});

test("dnsd never passes a malformed reply on", async (t) => {
  const bad = { "bad.dnsd.test": { kind: "malformed" } } as const;
  await t.step("the only upstream: SERVFAIL", async () => {
    await withServer([bad], {}, async ({ server, ask }) => {
      const { message } = await ask(query("bad.dnsd.test"));
      equal(message.rcode, Rcode.SERVFAIL);
      deepEqual(message.answers, []);
      equal(server.counters.malformed, 1);
    });
  });
  await t.step("then a good upstream: its answer", async () => {
    await withServer([bad, alive], {}, async ({ server, fakes, ask }) => {
      const { message } = await ask(query("bad.dnsd.test"));
      deepEqual(addresses(message), ["192.0.2.2"]);
      deepEqual(fakes.map((fake) => fake.count("udp")), [1, 1]);
      equal(server.counters.malformed, 1);
    });
  });
});

const MIXED = "MiXeD.CaSe.QuEsTiOn.DnSd.TeSt"; // 25 letters: all lower by chance once in 2^25
const echo: Record<string, Behaviour> = { [MIXED]: { kind: "answer", address: "192.0.2.20" } };
const lower: Record<string, Behaviour> = {
  [MIXED]: { kind: "answer", address: "192.0.2.21", questionCase: "lower" },
};

test("dnsd with --0x20 sends a mixed-case question and gives the client its own case back", async () => {
  await withServer([echo], { caseRandomization: true }, async ({ server, fakes, ask }) => {
    for (let id = 1; id <= 8; id++) {
      const { message } = await ask(query(MIXED, { id }));
      equal(message.rcode, Rcode.NOERROR);
      equal(message.questions[0]!.name, MIXED);
      deepEqual(message.answers.map((record) => record.name), [MIXED]);
      deepEqual(addresses(message), ["192.0.2.20"]);
    }
    const sent = fakes[0]!.received.map((query) => query.message!.questions[0]!.name);
    equal(sent.length, 8);
    ok(sent.every((name) => name.toLowerCase() === MIXED.toLowerCase()));
    ok(sent.some((name) => /[A-Z]/.test(name)), `no upper-case letter in ${sent.join(", ")}`);
    ok(new Set(sent).size > 1, "the case is drawn afresh for every query");
    ok(sent.some((name) => name !== MIXED), "the client's own case is not what goes upstream");
    equal(server.counters.dropped, 0);
  });
});

test("dnsd with --0x20 ignores a reply that lowercases the question", async (t) => {
  await t.step("the only upstream: dropped, then SERVFAIL after the timeout", async () => {
    await withServer([lower], { caseRandomization: true, timeoutMs: 300 }, async ({ server, ask }) => {
      const { message, ms } = await ask(query(MIXED));
      equal(message.rcode, Rcode.SERVFAIL);
      deepEqual(message.answers, []);
      ok(ms >= 250, `SERVFAIL after ${ms.toFixed(0)} ms`);
      equal(server.counters.dropped, 1);
      equal(server.counters.timeouts, 1);
    });
  });
  await t.step("then an upstream that echoes the case: its answer", async () => {
    await withServer([lower, echo], { caseRandomization: true, timeoutMs: 300 }, async ({ server, ask }) => {
      const { message } = await ask(query(MIXED));
      deepEqual(addresses(message), ["192.0.2.20"]);
      equal(message.questions[0]!.name, MIXED);
      equal(server.counters.dropped, 1);
    });
  });
  await t.step("without --0x20 the lowercased reply is taken, in the client's case", async () => {
    await withServer([lower], { timeoutMs: 300 }, async ({ server, ask }) => {
      const { message } = await ask(query(MIXED));
      deepEqual(addresses(message), ["192.0.2.21"]);
      equal(message.questions[0]!.name, MIXED);
      equal(server.counters.dropped, 0);
    });
  });
});
