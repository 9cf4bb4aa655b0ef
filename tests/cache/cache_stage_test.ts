/**
 * The caching stage through `respond(encode(q), chain([cache.stage, requireRecursion()], upstream))`,
 * with a stub upstream built from reply() and an injected clock: countdown and expiry, negative
 * caching (RFC 2308), clamps, coalescing, prefetch, serve-stale (RFC 8767), failure caching
 * (RFC 9520), the RD=0 rule, and the debug log lines. Nothing sleeps.
 * @module
 */
import { contextOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { cacheKey, type CacheLimits, slotOf } from "../../lib/cache/cache.ts";
import { answerCache, type Cache, type CacheOptions, STALE_TTL } from "../../lib/cache/cache_stage.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { EdeCode, edeOf } from "../../lib/proto/ede.ts";
import { UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { formatLogRecord } from "../../lib/observe/log_format.ts";
import { query as baseQuery, reply } from "../../lib/proto/message.ts";
import { chain, requireRecursion } from "../../lib/resolve/resolver.ts";
import type { Resolve } from "../../lib/resolve/request.ts";
import { respond } from "../../lib/server/respond.ts";
import { type Edns, type Message, Rcode, RRClass, RRType } from "../../lib/proto/types.ts";
import { a, soa } from "../_records.ts";

const NAME = "www.example.test";
const LIMITS: CacheLimits = { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 };

const EDNS: Edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };

/** A client query; fields override the defaults. */
function query(fields: Partial<Message> & { name?: string; type?: number } = {}): Message {
  const { name = NAME, type = RRType.A, ...rest } = fields;
  return baseQuery({ name, type }, { id: 0x1234, ...rest });
}

/** How the stub upstream answers one request: a response, or a thrown error. */
type Behaviour = (request: Message) => Message;

/** Answers with one A record of `ttl` for the asked name. */
const answering = (ttl: number, address = "192.0.2.1"): Behaviour => (request) =>
  reply(request, { answers: [a(request.questions[0]!.name, ttl, address)] });

const failing = (error: Error): Behaviour => () => {
  throw error;
};

/** A stub for the forwarder: records every request, answers as `behaviour` says (settable). */
interface Upstream {
  readonly calls: Message[];
  behaviour: Behaviour;
  /** When set, each call waits for this before answering. */
  gate?: Promise<void>;
  readonly resolve: Resolve;
}

function stubUpstream(behaviour: Behaviour): Upstream {
  const upstream: Upstream = {
    calls: [],
    behaviour,
    async resolve({ message }) {
      upstream.calls.push(message);
      const gate = upstream.gate;
      if (gate) await gate;
      return upstream.behaviour(message);
    },
  };
  return upstream;
}

/** A cache in front of a stub upstream, a clock the test moves, and a way to ask. */
interface Rig {
  readonly cache: Cache;
  readonly upstream: Upstream;
  /** The clock, in ms: set it to move time. */
  time: number;
  /** Sends `q` through respond() and decodes the reply. */
  ask(q?: Message): Promise<Message>;
  /** Errors respond() reported (bugs): none expected. */
  readonly reported: unknown[];
}

function rig(behaviour: Behaviour, options: Partial<Omit<CacheOptions, "now">> = {}): Rig {
  const upstream = stubUpstream(behaviour);
  const reported: unknown[] = [];
  const r: Rig = {
    cache: answerCache({ limits: LIMITS, ...options, now: () => r.time }),
    upstream,
    time: 0,
    reported,
    async ask(q = query()) {
      const resolve = chain([r.cache.stage, requireRecursion()], upstream.resolve);
      const bytes = await respond(encodeMessage(q), contextOf(), {
        resolve,
        report: (error) => reported.push(error),
      });
      ok(bytes, "respond() stayed silent");
      return decodeMessage(bytes);
    },
  };
  return r;
}

const ttls = (m: Message) => m.answers.map((record) => record.ttl);

/** Lets background work (a prefetch) run to completion: every stub answer settles in microtasks. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

test("the cache counts TTLs down as the clock advances, and goes upstream again at expiry", async () => {
  const r = rig(answering(60), { prefetch: { minHits: 3, fraction: 0 } }); // no prefetch: tested below
  const steps = [
    { atMs: 0, calls: 1, ttl: 60 },
    { atMs: 999, calls: 1, ttl: 60 },
    { atMs: 1500, calls: 1, ttl: 59 },
    { atMs: 30_000, calls: 1, ttl: 30 },
    { atMs: 59_999, calls: 1, ttl: 1 },
    { atMs: 60_000, calls: 2, ttl: 60 }, // expired: asked again, stored afresh
    { atMs: 70_000, calls: 2, ttl: 50 },
  ];
  for (const [i, { atMs, calls, ttl }] of steps.entries()) {
    r.time = atMs;
    const response = await r.ask(query({ id: 100 + i }));
    equal(response.id, 100 + i);
    equal(response.rcode, Rcode.NOERROR);
    deepEqual(ttls(response), [ttl], `at ${atMs} ms`);
    equal(r.upstream.calls.length, calls, `upstream calls at ${atMs} ms`);
  }
  deepEqual({ ...r.cache.counters }, { hits: 5, misses: 2, stale: 0, prefetches: 0, coalesced: 0 });
  deepEqual(r.reported, []);
});

test("the cache answers with each client's ID, question case and EDNS", async () => {
  const r = rig(answering(60));
  await r.ask(query({ name: "WWW.example.TEST" }));
  const response = await r.ask(query({ id: 0x4321, name: "www.EXAMPLE.test", edns: EDNS }));
  equal(r.upstream.calls.length, 1);
  equal(response.id, 0x4321);
  deepEqual(response.questions, [{ name: "www.EXAMPLE.test", type: RRType.A, class: RRClass.IN }]);
  equal(response.edns?.udpPayloadSize, 1232);
  equal(response.recursionAvailable, true);
  deepEqual(response.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.1" }]);
});

test("the cache keeps negative answers for the SOA-derived TTL (RFC 2308)", async (t) => {
  const cases = [
    {
      name: "NXDOMAIN, SOA MINIMUM below its TTL",
      rcode: Rcode.NXDOMAIN,
      soaTtl: 3600,
      minimum: 300,
      want: 300,
    },
    {
      name: "NXDOMAIN, SOA TTL below its MINIMUM",
      rcode: Rcode.NXDOMAIN,
      soaTtl: 120,
      minimum: 900,
      want: 120,
    },
    { name: "NODATA", rcode: Rcode.NOERROR, soaTtl: 3600, minimum: 60, want: 60 },
  ];
  for (const { name, rcode, soaTtl, minimum, want } of cases) {
    await t.step(name, async () => {
      const r = rig((request) =>
        reply(request, { rcode, authorities: [soa("example.test", soaTtl, minimum)] })
      );
      const first = await r.ask();
      equal(first.rcode, rcode);
      deepEqual(first.answers, []);
      r.time = (want - 1) * 1000;
      const cached = await r.ask();
      equal(cached.rcode, rcode);
      deepEqual(cached.authorities.map((record) => record.ttl), [1]);
      equal(r.upstream.calls.length, 1);
      r.time = want * 1000;
      await r.ask();
      equal(r.upstream.calls.length, 2, "asked again once the negative TTL ran out");
    });
  }

  await t.step("a negative answer without an SOA is not cached", async () => {
    const r = rig((request) => reply(request, { rcode: Rcode.NXDOMAIN }));
    equal((await r.ask()).rcode, Rcode.NXDOMAIN);
    equal((await r.ask()).rcode, Rcode.NXDOMAIN);
    equal(r.upstream.calls.length, 2);
    equal(r.cache.store.size, 0);
  });
});

test("the cache clamps TTLs to --min-ttl and --max-ttl", async (t) => {
  await t.step(
    "--min-ttl 60 keeps a 5-second answer for 60 seconds, served counting down from 60",
    async () => {
      const r = rig(answering(5), { limits: { ...LIMITS, minTtl: 60 } });
      deepEqual(ttls(await r.ask()), [60]);
      r.time = 30_000;
      deepEqual(ttls(await r.ask()), [30]);
      r.time = 59_000;
      deepEqual(ttls(await r.ask()), [1]);
      equal(r.upstream.calls.length, 1);
      r.time = 60_000;
      await r.ask();
      equal(r.upstream.calls.length, 2);
    },
  );

  await t.step("--max-ttl 100 serves a 3600-second answer as 100, and asks again at 100 s", async () => {
    const r = rig(answering(3600), { limits: { ...LIMITS, maxTtl: 100 } });
    deepEqual(ttls(await r.ask()), [100]);
    r.time = 99_000;
    deepEqual(ttls(await r.ask()), [1]);
    equal(r.upstream.calls.length, 1);
    r.time = 100_000;
    deepEqual(ttls(await r.ask()), [100]);
    equal(r.upstream.calls.length, 2);
  });
});

test("the cache shares one upstream exchange among identical questions in flight", async () => {
  const r = rig(answering(60));
  const open = Promise.withResolvers<void>();
  r.upstream.gate = open.promise;
  const names = Array.from({ length: 10 }, (_, i) => i % 2 ? NAME.toUpperCase() : `wWw.Example.test`);
  const pending = names.map((name, i) => r.ask(query({ id: 0x2000 + i, name })));
  await Promise.resolve();
  equal(r.upstream.calls.length, 1, "one exchange while all ten wait");
  open.resolve();
  const responses = await Promise.all(pending);
  equal(r.upstream.calls.length, 1);
  for (const [i, response] of responses.entries()) {
    equal(response.id, 0x2000 + i);
    equal(response.questions[0]?.name, names[i]);
    deepEqual(response.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.1" }]);
  }
  equal(r.cache.counters.coalesced, 9);
  equal(r.cache.store.size, 1);
  delete r.upstream.gate;
  await r.ask();
  equal(r.upstream.calls.length, 1, "and the answer is cached afterwards");
});

test("answerCache() never shares one exchange between questions whose keys hash alike", async () => {
  // Two names whose cache keys share a slot: found by trying names (the birthday bound).
  const slots = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const name = `n${i}.example.test`;
    const slot = slotOf(cacheKey({ name, type: RRType.A, class: RRClass.IN }, false, false));
    const other = slots.get(slot);
    if (other !== undefined) pair = [other, name];
    slots.set(slot, name);
  }
  const r = rig((request) =>
    reply(request, {
      answers: [
        a(
          request.questions[0]!.name,
          60,
          request.questions[0]!.name === pair![0] ? "192.0.2.1" : "192.0.2.2",
        ),
      ],
    })
  );
  const open = Promise.withResolvers<void>();
  r.upstream.gate = open.promise;
  const pending = pair.map((name) => r.ask(query({ name })));
  await Promise.resolve();
  equal(r.upstream.calls.length, 2, "each goes upstream");
  open.resolve();
  const [first, second] = await Promise.all(pending);
  deepEqual(first!.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.1" }]);
  deepEqual(second!.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.2" }]);
  equal(r.cache.counters.coalesced, 0);
});

test("the cache shares a failure among identical questions in flight", async () => {
  const r = rig(failing(new UpstreamTimeout("No reply")));
  const open = Promise.withResolvers<void>();
  r.upstream.gate = open.promise;
  const pending = Array.from({ length: 5 }, (_, i) => r.ask(query({ id: i })));
  open.resolve();
  const responses = await Promise.all(pending);
  deepEqual(responses.map((response) => [response.id, response.rcode]), [0, 1, 2, 3, 4].map((id) => [id, 2]));
  equal(r.upstream.calls.length, 1);
});

test("the cache keeps answers for different DO and CD bits apart", async () => {
  let serial = 0;
  const r = rig((request) => reply(request, { answers: [a(NAME, 60, `192.0.2.${++serial}`)] }));
  const variants = [
    { name: "no EDNS", q: query() },
    { name: "DO=1", q: query({ edns: { ...EDNS, dnssecOk: true } }) },
    { name: "CD=1", q: query({ checkingDisabled: true }) },
    { name: "DO=1 CD=1", q: query({ edns: { ...EDNS, dnssecOk: true }, checkingDisabled: true }) },
  ];
  const first = [];
  for (const { q } of variants) first.push((await r.ask(q)).answers[0]?.data);
  equal(r.upstream.calls.length, 4, "each combination asked upstream once");
  for (const [i, { name, q }] of variants.entries()) {
    deepEqual((await r.ask(q)).answers[0]?.data, first[i], name);
  }
  equal(r.upstream.calls.length, 4);
  const doZero = await r.ask(query({ edns: EDNS }));
  deepEqual(doZero.answers[0]?.data, first[0], "EDNS with DO=0 shares the no-EDNS entry");
  equal(r.upstream.calls.length, 4);
});

test("the cache does not store truncated, REFUSED or uncachable answers", async (t) => {
  const cases: readonly { name: string; behaviour: Behaviour }[] = [
    { name: "TC=1", behaviour: (request) => reply(request, { truncated: true }) },
    { name: "REFUSED", behaviour: (request) => reply(request, { rcode: Rcode.REFUSED }) },
    { name: "TTL 0", behaviour: answering(0) },
  ];
  for (const { name, behaviour } of cases) {
    await t.step(name, async () => {
      const r = rig(behaviour);
      await r.ask();
      await r.ask();
      equal(r.upstream.calls.length, 2);
      equal(r.cache.store.size, 0);
    });
  }
});

test("the cache with --cache-size 0 always asks upstream", async () => {
  const r = rig(answering(60), { limits: { ...LIMITS, maxEntries: 0 } });
  for (let i = 0; i < 3; i++) await r.ask();
  equal(r.upstream.calls.length, 3);
  deepEqual({ ...r.cache.counters }, { hits: 0, misses: 0, stale: 0, prefetches: 0, coalesced: 0 });
});

test("the cache prefetches a popular entry close to expiry", async (t) => {
  await t.step("hit 3 times, then with < 10% TTL left: one background refresh", async () => {
    let serial = 0;
    const r = rig((request) => reply(request, { answers: [a(NAME, 100, `192.0.2.${++serial}`)] }));
    await r.ask();
    for (const atMs of [1000, 2000, 3000]) {
      r.time = atMs;
      await r.ask();
    }
    r.time = 89_000; // 11 s left: not yet
    deepEqual(ttls(await r.ask()), [11]);
    equal(r.cache.counters.prefetches, 0);
    equal(r.upstream.calls.length, 1);

    const open = Promise.withResolvers<void>();
    r.upstream.gate = open.promise;
    r.time = 91_000; // 9 s left
    const served = await r.ask();
    deepEqual(ttls(served), [9], "served from the cache at once");
    deepEqual(served.answers[0]?.data, { type: "A", address: "192.0.2.1" });
    equal(r.upstream.calls.length, 2, "the refresh went upstream");
    equal(r.cache.counters.prefetches, 1);
    r.time = 91_500;
    await r.ask();
    equal(r.cache.counters.prefetches, 1, "one refresh at a time");
    equal(r.upstream.calls.length, 2);

    open.resolve();
    await settle();
    delete r.upstream.gate;
    r.time = 95_000; // the refresh was stored at 91.5 s on the clock
    const renewed = await r.ask();
    deepEqual(ttls(renewed), [97]);
    deepEqual(renewed.answers[0]?.data, { type: "A", address: "192.0.2.2" });
    r.time = 101_000; // past the old entry's expiry
    deepEqual(ttls(await r.ask()), [91]);
    equal(r.upstream.calls.length, 2, "no miss: the refresh came before expiry");
    equal(r.cache.counters.misses, 1);
    deepEqual(r.reported, []);
  });

  await t.step("an entry hit fewer than 3 times is not prefetched", async () => {
    const r = rig(answering(100));
    await r.ask();
    r.time = 95_000;
    await r.ask();
    await r.ask();
    await settle();
    equal(r.cache.counters.prefetches, 0);
    equal(r.upstream.calls.length, 1);
  });

  await t.step("a failed refresh keeps the entry until it expires", async () => {
    const r = rig(answering(100));
    await r.ask();
    r.upstream.behaviour = failing(new UpstreamTimeout("No reply"));
    for (const atMs of [1000, 2000, 95_000]) {
      r.time = atMs;
      await r.ask();
    }
    await settle();
    equal(r.cache.counters.prefetches, 1);
    equal(r.upstream.calls.length, 2);
    r.time = 96_000;
    const response = await r.ask();
    deepEqual(ttls(response), [4]);
    equal(r.cache.store.get(cacheKey(query().questions[0]!, false, false), r.time)?.entry.kind, "answer");
    deepEqual(r.reported, []);
  });
});

test("the cache serves stale answers when every upstream fails (RFC 8767)", async (t) => {
  const stale = { limits: { ...LIMITS, staleMax: 86400, servfailTtl: 5 }, serveStale: true };

  await t.step(
    "an expired answer is served with TTL 30 and EDE 3, then from the recheck window",
    async () => {
      const r = rig(answering(60), stale);
      await r.ask();
      r.upstream.behaviour = failing(new UpstreamTimeout("No reply from 192.0.2.53:53"));
      r.time = 61_000;
      const response = await r.ask(query({ edns: EDNS }));
      equal(response.rcode, Rcode.NOERROR);
      deepEqual(ttls(response), [STALE_TTL]);
      deepEqual(response.answers[0]?.data, { type: "A", address: "192.0.2.1" });
      deepEqual(edeOf(response.edns).map((ede) => ede.code), [EdeCode.STALE_ANSWER]);
      equal(r.upstream.calls.length, 2);
      equal(r.cache.counters.stale, 1);

      r.time = 65_999; // within the 5 s recheck window
      const again = await r.ask(query({ edns: EDNS }));
      deepEqual(ttls(again), [30]);
      deepEqual(edeOf(again.edns).map((ede) => ede.code), [EdeCode.STALE_ANSWER]);
      equal(r.upstream.calls.length, 2, "not asked again within the recheck window");

      const plain = await r.ask(); // no EDNS: nowhere to put the EDE
      deepEqual([plain.rcode, ttls(plain), plain.edns], [Rcode.NOERROR, [30], null]);
      equal(r.cache.counters.stale, 3);

      r.time = 66_000; // the window is over: try the upstream again
      deepEqual(ttls(await r.ask()), [30]);
      equal(r.upstream.calls.length, 3);

      r.upstream.behaviour = answering(60, "192.0.2.9");
      r.time = 71_000;
      const fresh = await r.ask(query({ edns: EDNS }));
      deepEqual(ttls(fresh), [60]);
      deepEqual(fresh.answers[0]?.data, { type: "A", address: "192.0.2.9" });
      deepEqual(edeOf(fresh.edns), []);
      deepEqual(r.reported, []);
    },
  );

  for (const [name, rcode] of [["SERVFAIL", Rcode.SERVFAIL], ["REFUSED", Rcode.REFUSED]] as const) {
    await t.step(`an upstream ${name} also gets the stale answer`, async () => {
      const r = rig(answering(60), stale);
      await r.ask();
      r.upstream.behaviour = (request) => reply(request, { rcode });
      r.time = 120_000;
      const response = await r.ask(query({ edns: EDNS }));
      deepEqual([response.rcode, ttls(response)], [Rcode.NOERROR, [30]]);
      deepEqual(edeOf(response.edns).map((ede) => ede.code), [EdeCode.STALE_ANSWER]);
      r.time = 121_000;
      await r.ask();
      equal(r.upstream.calls.length, 2, "not asked again within the recheck window");
    });
  }

  await t.step("not past --stale-max", async () => {
    const r = rig(answering(60), { ...stale, limits: { ...stale.limits, staleMax: 100 } });
    await r.ask();
    r.upstream.behaviour = failing(new UpstreamTimeout("No reply"));
    r.time = 160_000;
    equal((await r.ask()).rcode, Rcode.SERVFAIL);
    equal(r.cache.counters.stale, 0);
  });

  await t.step("without --serve-stale the same gives SERVFAIL", async () => {
    const r = rig(answering(60), { limits: { ...LIMITS, staleMax: 86400 } });
    await r.ask();
    r.upstream.behaviour = failing(new UpstreamTimeout("No reply"));
    r.time = 61_000;
    const response = await r.ask(query({ edns: EDNS }));
    equal(response.rcode, Rcode.SERVFAIL);
    deepEqual(response.answers, []);
    deepEqual(edeOf(response.edns).map((ede) => ede.code), [EdeCode.NO_REACHABLE_AUTHORITY]);
    equal(r.cache.counters.stale, 0);
  });

  await t.step("a fresh entry is served normally, without EDE", async () => {
    const r = rig(answering(60), stale);
    await r.ask();
    r.time = 10_000;
    const response = await r.ask(query({ edns: EDNS }));
    deepEqual([ttls(response), edeOf(response.edns)], [[50], []]);
  });
});

test("the cache remembers failures briefly (RFC 9520)", async (t) => {
  const cases: readonly { name: string; behaviour: Behaviour; ede?: number }[] = [
    {
      name: "an upstream timeout",
      behaviour: failing(new UpstreamTimeout("No reply")),
      ede: EdeCode.NO_REACHABLE_AUTHORITY,
    },
    {
      name: "another upstream error",
      behaviour: failing(new UpstreamError("Cannot query")),
      ede: EdeCode.NETWORK_ERROR,
    },
    {
      name: "an upstream SERVFAIL response",
      behaviour: (request) => reply(request, { rcode: Rcode.SERVFAIL }),
    },
  ];
  for (const { name, behaviour, ede } of cases) {
    await t.step(`${name}: SERVFAIL, not asked again within servfailTtl`, async () => {
      const r = rig(behaviour, { limits: { ...LIMITS, servfailTtl: 5 } });
      const first = await r.ask(query({ edns: EDNS }));
      equal(first.rcode, Rcode.SERVFAIL);
      r.time = 4999;
      const second = await r.ask(query({ id: 7, edns: EDNS }));
      deepEqual([second.id, second.rcode], [7, Rcode.SERVFAIL]);
      deepEqual(edeOf(second.edns).map((e) => e.code), edeOf(first.edns).map((e) => e.code));
      if (ede !== undefined) deepEqual(edeOf(second.edns).map((e) => e.code), [ede]);
      equal(r.upstream.calls.length, 1);
      equal(r.cache.counters.hits, 1);
      r.upstream.behaviour = answering(60);
      r.time = 5000;
      equal((await r.ask()).rcode, Rcode.NOERROR);
      equal(r.upstream.calls.length, 2, "asked again after servfailTtl");
      deepEqual(r.reported, []);
    });
  }

  await t.step("a bug (not an upstream error) is not remembered", async () => {
    const r = rig(failing(new TypeError("oops")));
    equal((await r.ask()).rcode, Rcode.SERVFAIL);
    equal((await r.ask()).rcode, Rcode.SERVFAIL);
    equal(r.upstream.calls.length, 2);
    equal(r.reported.length, 2);
  });
});

test("the cache keeps RD=0 queries out unless snooping is allowed", async (t) => {
  const rd0 = (name = NAME) => query({ name, recursionDesired: false });

  await t.step("RD=0 gets REFUSED even for a cached name", async () => {
    const r = rig(answering(60));
    await r.ask();
    const response = await r.ask(rd0());
    equal(response.rcode, Rcode.REFUSED);
    deepEqual(response.answers, []);
    equal(r.upstream.calls.length, 1);
    equal(r.cache.counters.hits, 0);
  });

  await t.step("with snooping allowed, RD=0 reads a fresh entry, counting down", async () => {
    const r = rig(answering(60), { allowSnooping: true });
    await r.ask();
    r.time = 10_000;
    const response = await r.ask(rd0());
    deepEqual([response.rcode, ttls(response), response.recursionDesired], [Rcode.NOERROR, [50], false]);
    equal(r.upstream.calls.length, 1);
    equal(r.cache.counters.hits, 1);
  });

  await t.step("with snooping allowed, an RD=0 miss is REFUSED and fills nothing", async () => {
    const r = rig(answering(60), { allowSnooping: true });
    equal((await r.ask(rd0("other.example.test"))).rcode, Rcode.REFUSED);
    equal(r.upstream.calls.length, 0);
    equal(r.cache.store.size, 0);
    equal((await r.ask(query({ name: "other.example.test" }))).rcode, Rcode.NOERROR);
    equal(r.upstream.calls.length, 1, "the RD=1 query still had to go upstream");
  });

  await t.step("with snooping allowed, RD=0 gets no expired entry and no cached failure", async () => {
    const r = rig(answering(60), {
      allowSnooping: true,
      serveStale: true,
      limits: { ...LIMITS, staleMax: 86400 },
    });
    await r.ask();
    r.time = 61_000;
    equal((await r.ask(rd0())).rcode, Rcode.REFUSED);
    r.upstream.behaviour = (request) => reply(request, { rcode: Rcode.SERVFAIL });
    await r.ask(query({ name: "fail.example.test" }));
    equal((await r.ask(rd0("fail.example.test"))).rcode, Rcode.REFUSED);
    equal(r.upstream.calls.length, 2);
  });
});

test("the cache logs hits, misses, prefetches and stale answers at debug", async () => {
  const lines: string[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd", "cache"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  try {
    const r = rig(answering(100), { serveStale: true, limits: { ...LIMITS, staleMax: 86400 } });
    await r.ask(query({ name: "Www.Example.Test" }));
    for (const atMs of [1000, 2000, 95_000]) {
      r.time = atMs;
      await r.ask(query({ type: RRType.A }));
    }
    await settle();
    r.upstream.behaviour = failing(new UpstreamTimeout("No reply"));
    r.time = 500_000;
    await r.ask();
    await r.ask(query({ name: "mail.example.test", type: RRType.AAAA }));
    const messages = lines.map((line) => line.replace(/^.* - (DEBUG|INFO|WARNING|ERROR) - /, "").trimEnd());
    const expected = [
      "Cache miss for Www.Example.Test A",
      "Cache hit for www.example.test A",
      "Cache prefetch for www.example.test A",
      "Cache stale answer for www.example.test A",
      "Cache miss for mail.example.test AAAA",
    ];
    for (const text of expected) {
      ok(messages.includes(text), `no line ${JSON.stringify(text)} in\n${lines.join("")}`);
    }
    for (const text of expected) {
      const line = lines.find((l) => l.includes(text))!;
      ok(line.includes(" - DEBUG - "), line);
    }
  } finally {
    resetSync();
  }
});
