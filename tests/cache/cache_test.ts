/**
 * The cache store on its own: keys, the TTL an answer may be cached for (RFC 2308 section 5 for
 * negative answers), the countdown, the clamps, LRU eviction, failure entries (RFC 9520) and the
 * stale window (RFC 8767). Every time is passed in: nothing sleeps.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import {
  agedResponse,
  AnswerCache,
  answerTtl,
  type CacheEntry,
  cacheKey,
  type CacheLimits,
  slotOf,
} from "../../lib/cache/cache.ts";
import { UpstreamTimeout } from "../../lib/proto/errors.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { type Message, Rcode, type ResourceRecord, RRClass, RRType } from "../../lib/proto/types.ts";
import { a, soa } from "../_records.ts";

const LIMITS: CacheLimits = { maxEntries: 100, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 };

function cname(name: string, ttl: number, target: string): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data: { type: "CNAME", target } };
}

function ns(name: string, ttl: number): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data: { type: "NS", host: `ns.${name}` } };
}

/** An upstream response to a query for `name`. */
function response(fields: Partial<Message>, name = "www.example.test"): Message {
  return reply(query({ name }, { id: 0x1234 }), fields);
}

const ttlsOf = (records: readonly ResourceRecord[]) => records.map((record) => record.ttl);

test("cacheKey()", async (t) => {
  const q = (name: string, type: number = RRType.A, klass: number = RRClass.IN) => ({
    name,
    type,
    class: klass,
  });
  const same = [
    { name: "folds the case of the name", a: cacheKey(q("WWW.Example.TEST"), false, false) },
    { name: "ignores a trailing root dot", a: cacheKey(q("www.example.test."), false, false) },
  ];
  const base = cacheKey(q("www.example.test"), false, false);
  for (const { name, a } of same) {
    await t.step(name, () => equal(a, base));
  }
  const different = [
    { name: "keeps the DO bit apart", key: cacheKey(q("www.example.test"), true, false) },
    { name: "keeps the CD bit apart", key: cacheKey(q("www.example.test"), false, true) },
    { name: "keeps DO+CD apart", key: cacheKey(q("www.example.test"), true, true) },
    { name: "keeps the type apart", key: cacheKey(q("www.example.test", RRType.AAAA), false, false) },
    {
      name: "keeps the class apart",
      key: cacheKey(q("www.example.test", RRType.A, RRClass.CH), false, false),
    },
    { name: "keeps the name apart", key: cacheKey(q("ww.example.test"), false, false) },
  ];
  for (const { name, key } of different) {
    await t.step(name, () => notEqual(key, base));
  }
  await t.step("gives DO and CD four distinct keys", () => {
    const keys = new Set([false, true].flatMap((d) => [false, true].map((c) => cacheKey(q("x.test"), d, c))));
    equal(keys.size, 4);
  });
});

test("answerTtl()", async (t) => {
  const name = "www.example.test";
  const cases: readonly { name: string; response: Message; want: number | null }[] = [
    {
      name: "a positive answer: its record's TTL",
      response: response({ answers: [a(name, 300)] }),
      want: 300,
    },
    {
      name: "a positive answer: the least TTL over the answer records",
      response: response({ answers: [cname(name, 3600, "web.example.test"), a("web.example.test", 60)] }),
      want: 60,
    },
    {
      name: "a positive answer: the least TTL over answer and authority",
      response: response({ answers: [a(name, 300)], authorities: [ns("example.test", 100)] }),
      want: 100,
    },
    {
      name: "a positive answer: the additional section does not count",
      response: response({ answers: [a(name, 300)], additionals: [a("ns.example.test", 10)] }),
      want: 300,
    },
    {
      name: "NXDOMAIN: the SOA MINIMUM when below the SOA TTL",
      response: response({ rcode: Rcode.NXDOMAIN, authorities: [soa("example.test", 3600, 900)] }),
      want: 900,
    },
    {
      name: "NXDOMAIN: the SOA TTL when below the SOA MINIMUM",
      response: response({ rcode: Rcode.NXDOMAIN, authorities: [soa("example.test", 600, 900)] }),
      want: 600,
    },
    {
      name: "NXDOMAIN after a CNAME: no longer than the CNAME",
      response: response({
        rcode: Rcode.NXDOMAIN,
        answers: [cname(name, 30, "gone.example.test")],
        authorities: [soa("example.test", 600, 900)],
      }),
      want: 30,
    },
    {
      name: "NODATA: min(SOA TTL, SOA MINIMUM)",
      response: response({ authorities: [soa("example.test", 3600, 120)] }),
      want: 120,
    },
    {
      name: "NXDOMAIN without an SOA: not cached",
      response: response({ rcode: Rcode.NXDOMAIN }),
      want: null,
    },
    {
      name: "NODATA without an SOA (a referral): not cached",
      response: response({ authorities: [ns("example.test", 3600)] }),
      want: null,
    },
    {
      name: "a truncated answer: not cached",
      response: response({ truncated: true, answers: [a(name, 300)] }),
      want: null,
    },
    { name: "a truncated empty answer: not cached", response: response({ truncated: true }), want: null },
    { name: "SERVFAIL: not an answer", response: response({ rcode: Rcode.SERVFAIL }), want: null },
    { name: "REFUSED: not cached", response: response({ rcode: Rcode.REFUSED }), want: null },
    { name: "FORMERR: not cached", response: response({ rcode: Rcode.FORMERR }), want: null },
    {
      name: "NOTIMP with records: not cached",
      response: response({ rcode: Rcode.NOTIMP, answers: [a(name, 300)] }),
      want: null,
    },
  ];
  for (const { name, response, want } of cases) {
    await t.step(name, () => equal(answerTtl(response), want));
  }
});

/** An entry stored at t=1000 ms with a TTL of `ttl` seconds. */
function entry(response: Message, ttl: number): CacheEntry {
  return {
    kind: "answer",
    response,
    kept: null,
    restoreCase: false,
    storedAt: 1000,
    ttl,
    hits: 0,
    refreshing: false,
    retryAfter: undefined,
  };
}

test("agedResponse()", async (t) => {
  const name = "www.example.test";
  const positive = entry(response({ answers: [a(name, 60), a(name, 60, "192.0.2.2")] }), 60);
  const countdown = [
    { elapsedMs: 0, want: 60 },
    { elapsedMs: 999, want: 60 },
    { elapsedMs: 1000, want: 59 },
    { elapsedMs: 1999, want: 59 },
    { elapsedMs: 30_500, want: 30 },
    { elapsedMs: 59_999, want: 1 },
    { elapsedMs: 60_000, want: 0 },
    { elapsedMs: 3_600_000, want: 0 },
  ];
  for (const { elapsedMs, want } of countdown) {
    await t.step(`counts down whole seconds: ${elapsedMs} ms after storing -> TTL ${want}`, () => {
      const aged = agedResponse(positive, 1000 + elapsedMs);
      deepEqual(ttlsOf(aged.answers), [want, want]);
    });
  }

  await t.step("leaves everything but the TTLs as stored, and the entry untouched", () => {
    const aged = agedResponse(positive, 11_000);
    deepEqual(aged, {
      ...positive.response,
      answers: positive.response.answers.map((record) => ({ ...record, ttl: 50 })),
    });
    deepEqual(ttlsOf(positive.response.answers), [60, 60]);
  });

  await t.step("caps records above the entry's (clamped) TTL, in every section", () => {
    const stored = entry(
      response({
        answers: [a(name, 3600)],
        authorities: [ns("example.test", 7200)],
        additionals: [a("ns.example.test", 86400)],
      }),
      100, // as --max-ttl 100 leaves it
    );
    const aged = agedResponse(stored, 1000 + 10_000);
    deepEqual([ttlsOf(aged.answers), ttlsOf(aged.authorities), ttlsOf(aged.additionals)], [[90], [90], [90]]);
  });

  await t.step("raises answer records to the entry's TTL when --min-ttl raised it", () => {
    const stored = entry(response({ answers: [a(name, 10)] }), 60); // as --min-ttl 60 leaves it
    deepEqual(ttlsOf(agedResponse(stored, 1000).answers), [60]);
    deepEqual(ttlsOf(agedResponse(stored, 1000 + 30_000).answers), [30]);
    deepEqual(ttlsOf(agedResponse(stored, 1000 + 59_000).answers), [1]);
  });

  await t.step("counts additional records below the entry's TTL down on their own, never below 0", () => {
    const stored = entry(response({ answers: [a(name, 300)], additionals: [a("ns.example.test", 10)] }), 300);
    deepEqual(ttlsOf(agedResponse(stored, 1000 + 5000).additionals), [5]);
    deepEqual(ttlsOf(agedResponse(stored, 1000 + 20_000).additionals), [0]);
    deepEqual(ttlsOf(agedResponse(stored, 1000 + 20_000).answers), [280]);
  });

  await t.step("serves a negative answer's SOA with the negative TTL, counting down", () => {
    const stored = entry(
      response({ rcode: Rcode.NXDOMAIN, authorities: [soa("example.test", 3600, 300)] }),
      300,
    );
    const aged = agedResponse(stored, 1000 + 100_000);
    equal(aged.rcode, Rcode.NXDOMAIN);
    deepEqual(ttlsOf(aged.authorities), [200]);
  });

  await t.step("sets every record to the stale TTL when one is given", () => {
    const stored = entry(
      response({
        answers: [a(name, 60)],
        authorities: [ns("example.test", 60)],
        additionals: [a("x.test", 5)],
      }),
      60,
    );
    const aged = agedResponse(stored, 1000 + 3_600_000, 30);
    deepEqual([ttlsOf(aged.answers), ttlsOf(aged.authorities), ttlsOf(aged.additionals)], [[30], [30], [30]]);
  });
});

test("AnswerCache.putAnswer() clamps the TTL to --min-ttl and --max-ttl", async (t) => {
  const cases = [
    { name: "within the clamps: as given", minTtl: 0, maxTtl: 86400, ttl: 300, want: 300 },
    { name: "below --min-ttl: raised", minTtl: 60, maxTtl: 86400, ttl: 10, want: 60 },
    { name: "above --max-ttl: lowered", minTtl: 0, maxTtl: 100, ttl: 3600, want: 100 },
    { name: "min = max: exactly that", minTtl: 30, maxTtl: 30, ttl: 3600, want: 30 },
    { name: "TTL 0 raised by --min-ttl: cached", minTtl: 5, maxTtl: 86400, ttl: 0, want: 5 },
    { name: "TTL 0 with no --min-ttl: not cached", minTtl: 0, maxTtl: 86400, ttl: 0, want: null },
    { name: "--max-ttl 0: nothing cached", minTtl: 0, maxTtl: 0, ttl: 300, want: null },
  ];
  for (const { name, minTtl, maxTtl, ttl, want } of cases) {
    await t.step(name, () => {
      const cache = new AnswerCache({ ...LIMITS, minTtl, maxTtl });
      const stored = cache.putAnswer("k", response({ answers: [a("www.example.test", ttl)] }), 0);
      equal(stored !== null, want !== null);
      const found = cache.get("k", 0);
      equal(found?.entry.ttl, want ?? undefined);
      if (want === null) return;
      equal(cache.get("k", want * 1000 - 1)?.stale, false, "fresh until the clamped TTL");
      equal(cache.get("k", want * 1000), undefined, "gone at the clamped TTL");
    });
  }

  await t.step("clamps a negative answer's SOA-derived TTL as well", () => {
    const cache = new AnswerCache({ ...LIMITS, maxTtl: 60 });
    cache.putAnswer(
      "k",
      response({ rcode: Rcode.NXDOMAIN, authorities: [soa("example.test", 3600, 900)] }),
      0,
    );
    equal(cache.get("k", 0)?.entry.ttl, 60);
  });
});

test("AnswerCache.get() expires an entry at its TTL and reports what is left", () => {
  const cache = new AnswerCache(LIMITS);
  ok(cache.putAnswer("k", response({ answers: [a("www.example.test", 60)] }), 5000));
  deepEqual({ ...cache.get("k", 5000), entry: undefined }, { entry: undefined, stale: false, remaining: 60 });
  equal(cache.get("k", 5000 + 59_500)?.remaining, 0.5);
  equal(cache.get("k", 5000 + 60_000), undefined);
  equal(cache.size, 0, "an expired entry is dropped when looked up");
});

test("AnswerCache keeps apart keys that hash alike: the later one takes the place", () => {
  // Two keys with one 30-bit hash: found by trying names (a few tens of thousands, by the birthday bound).
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const key = `n${i}.example.test|1|1|00`;
    const other = seen.get(slotOf(key));
    if (other !== undefined) pair = [other, key];
    seen.set(slotOf(key), key);
  }
  const [first, second] = pair;
  const cache = new AnswerCache(LIMITS);
  ok(cache.putAnswer(first, response({ answers: [a("first.test", 60)] }), 0));
  equal(cache.get(second, 0), undefined, "a key is never answered with another's entry");
  ok(cache.putAnswer(second, response({ answers: [a("second.test", 60)] }), 0));
  equal(cache.get(first, 0), undefined);
  equal(cache.get(second, 0)?.entry.response.answers[0]?.name, "second.test");
  equal(cache.size, 1);
});

test("AnswerCache evicts the least recently used entry first", async (t) => {
  const put = (cache: AnswerCache, key: string, now = 0) =>
    cache.putAnswer(key, response({ answers: [a(`${key}.test`, 300)] }), now);
  const has = (cache: AnswerCache, keys: string[]) => keys.filter((key) => cache.get(key, 0) !== undefined);

  await t.step("in insertion order when nothing is read", () => {
    const cache = new AnswerCache({ ...LIMITS, maxEntries: 3 });
    for (const key of ["a", "b", "c", "d", "e"]) put(cache, key);
    equal(cache.size, 3);
    equal(cache.evictions, 2);
    deepEqual(has(cache, ["a", "b", "c", "d", "e"]), ["c", "d", "e"]);
  });

  await t.step("a get refreshes recency", () => {
    const cache = new AnswerCache({ ...LIMITS, maxEntries: 3 });
    for (const key of ["a", "b", "c"]) put(cache, key);
    cache.get("a", 0);
    put(cache, "d");
    equal(cache.evictions, 1);
    deepEqual(has(cache, ["a", "b", "c", "d"]), ["a", "c", "d"]);
  });

  await t.step("storing a key again refreshes it without evicting", () => {
    const cache = new AnswerCache({ ...LIMITS, maxEntries: 3 });
    for (const key of ["a", "b", "c", "a"]) put(cache, key);
    equal(cache.evictions, 0);
    put(cache, "d");
    deepEqual(has(cache, ["a", "b", "c", "d"]), ["a", "c", "d"]);
  });

  await t.step("failures count against the same bound", () => {
    const cache = new AnswerCache({ ...LIMITS, maxEntries: 2 });
    put(cache, "a");
    cache.putFailure("f", { response: response({ rcode: Rcode.SERVFAIL }) }, 0);
    put(cache, "b");
    deepEqual(has(cache, ["a", "f", "b"]), ["f", "b"]);
  });
});

test("AnswerCache with maxEntries 0 stores nothing", () => {
  const cache = new AnswerCache({ ...LIMITS, maxEntries: 0 });
  cache.putAnswer("k", response({ answers: [a("www.example.test", 300)] }), 0);
  cache.putFailure("f", { response: response({ rcode: Rcode.SERVFAIL }) }, 0);
  equal(cache.size, 0);
  equal(cache.get("k", 0), undefined);
  equal(cache.get("f", 0), undefined);
  equal(cache.evictions, 0);
});

test("AnswerCache.putFailure()", async (t) => {
  const servfail = response({ rcode: Rcode.SERVFAIL });

  await t.step("remembers a failure for servfailTtl seconds, never stale", () => {
    const cache = new AnswerCache({ ...LIMITS, servfailTtl: 5, staleMax: 86400 });
    const error = new UpstreamTimeout("No reply");
    cache.putFailure("k", { response: servfail, error }, 1000);
    const found = cache.get("k", 1000 + 4999);
    equal(found?.entry.kind, "failure");
    equal(found?.entry.error, error);
    equal(found?.entry.ttl, 5);
    equal(found?.stale, false);
    equal(cache.get("k", 1000 + 5000), undefined, "a failure is not kept for serving stale");
  });

  await t.step("follows --servfail-ttl up to 300 seconds", () => {
    const cache = new AnswerCache({ ...LIMITS, servfailTtl: 300 });
    cache.putFailure("k", { response: servfail }, 0);
    equal(cache.get("k", 299_999)?.entry.kind, "failure");
    equal(cache.get("k", 300_000), undefined);
  });

  await t.step("never replaces an answer, fresh or kept for serving stale", () => {
    const cache = new AnswerCache({ ...LIMITS, staleMax: 3600 });
    cache.putAnswer("k", response({ answers: [a("www.example.test", 60)] }), 0);
    cache.putFailure("k", { response: servfail }, 1000);
    equal(cache.get("k", 1000)?.entry.kind, "answer");
    cache.putFailure("k", { response: servfail }, 120_000);
    const found = cache.get("k", 120_000);
    deepEqual([found?.entry.kind, found?.stale], ["answer", true]);
  });

  await t.step("is replaced by an answer", () => {
    const cache = new AnswerCache(LIMITS);
    cache.putFailure("k", { response: servfail }, 0);
    cache.putAnswer("k", response({ answers: [a("www.example.test", 60)] }), 1000);
    equal(cache.get("k", 1000)?.entry.kind, "answer");
  });
});

test("AnswerCache keeps an expired answer for staleMax seconds, marked stale", async (t) => {
  const put = (cache: AnswerCache) =>
    cache.putAnswer("k", response({ answers: [a("www.example.test", 60)] }), 0);
  const cases = [
    { atMs: 59_999, staleMax: 100, want: { stale: false } },
    { atMs: 60_000, staleMax: 100, want: { stale: true } },
    { atMs: 159_999, staleMax: 100, want: { stale: true } },
    { atMs: 160_000, staleMax: 100, want: undefined },
    { atMs: 60_000, staleMax: 0, want: undefined },
  ];
  for (const { atMs, staleMax, want } of cases) {
    await t.step(
      `staleMax ${staleMax}, ${atMs} ms after storing: ${want ? `stale ${want.stale}` : "gone"}`,
      () => {
        const cache = new AnswerCache({ ...LIMITS, staleMax });
        put(cache);
        const found = cache.get("k", atMs);
        deepEqual(found && { stale: found.stale }, want);
        equal(cache.size, want ? 1 : 0);
      },
    );
  }
  await t.step("reports a negative remaining TTL while stale", () => {
    const cache = new AnswerCache({ ...LIMITS, staleMax: 100 });
    put(cache);
    equal(cache.get("k", 90_000)?.remaining, -30);
  });
});
