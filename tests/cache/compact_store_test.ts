/**
 * The cache's compact store: the slot index against a Map, the blob pages against a model of what
 * is live (contents intact, room bounded), the blob codec against real reply bytes, and the cache
 * built on them against a plain LRU model. fast-check from fixed seeds, so every run checks the
 * same cases.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { agedResponse, AnswerCache, type CacheLimits } from "../../lib/cache/cache.ts";
import { BlobPages, MAX_BLOB, PAGE_SIZE } from "../../lib/cache/blob_pages.ts";
import { SlotIndex } from "../../lib/cache/slot_index.ts";
import { SlotMap } from "../../lib/cache/slot_map.ts";
import { blobHasKey, blobKeyAtOrBelow, blobLength, readBlob, writeBlob } from "../../lib/cache/wire_blob.ts";
import { ByteArena } from "../../lib/proto/arena.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query } from "../../lib/proto/message.ts";
import { type Message, Rcode } from "../../lib/proto/types.ts";
import { scanAnswer, type WireAnswer } from "../../lib/proto/wire_answer.ts";
import { WireResponse } from "../../lib/proto/wire_response.ts";
import { parseHex } from "../_hex.ts";
import { a, soa } from "../_records.ts";

/** An upstream's reply to `name` A, as bytes. */
function replyBytes(name: string, fields: Partial<Message> = {}): Uint8Array {
  return encodeMessage({
    ...query({ name }, {
      id: 0x4242,
      edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
    }),
    response: true,
    recursionAvailable: true,
    answers: [a(name, 300)],
    ...fields,
  });
}

function scanned(bytes: Uint8Array): WireAnswer {
  const answer = scanAnswer(bytes);
  ok(answer, "the walk keeps it as bytes");
  return answer;
}

/** What an upstream answer is as the cache is given it. */
function upstream(name: string, fields: Partial<Message> = {}): WireResponse {
  return new WireResponse(query({ name }, { id: 7 }), scanned(replyBytes(name, fields)), false, null);
}

test("SlotIndex maps slots as a Map does, through collisions, deletions and growth", () => {
  const operation = fc.tuple(fc.constantFrom("set", "delete", "get"), fc.integer({ min: 0, max: 300 }));
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 600, size: "max" }), (operations) => {
      const index = new SlotIndex(4);
      const model = new Map<number, number>();
      operations.forEach(([what, slot], step) => {
        // Slots that share home buckets: multiples of a large power of two spread over few buckets.
        const key = (slot * 0x100000) & 0x3fffffff;
        if (what === "set") {
          index.set(key, step);
          model.set(key, step);
        } else if (what === "delete") {
          equal(index.delete(key), model.delete(key));
        }
        equal(index.get(key), model.get(key) ?? -1);
      });
      equal(index.size, model.size);
      for (const [key, value] of model) equal(index.get(key), value);
      deepEqual(new Map(index.entries()), model);
    }),
    { seed: 19, numRuns: 200 },
  );
});

test("SlotMap maps slots to values as a Map does, its rows reused, through collisions and deletions", () => {
  const operation = fc.tuple(fc.constantFrom("set", "delete", "get"), fc.integer({ min: 0, max: 200 }));
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 600, size: "max" }), (operations) => {
      const map = new SlotMap<{ step: number }>();
      const model = new Map<number, { step: number }>();
      operations.forEach(([what, slot], step) => {
        const key = (slot * 0x100000) & 0x3fffffff; // slots that share home buckets
        if (what === "set") {
          const value = { step };
          map.set(key, value);
          model.set(key, value);
        } else if (what === "delete") {
          equal(map.delete(key), model.delete(key));
        }
        equal(map.get(key), model.get(key));
        equal(map.size, model.size);
      });
      for (const [key, value] of model) equal(map.get(key), value);
    }),
    { seed: 23, numRuns: 200 },
  );
});

test("BlobPages keeps every live blob intact and its room within twice what is live", () => {
  const operation = fc.oneof(
    fc.record({ allocate: fc.integer({ min: 6, max: 4000 }) }),
    fc.record({ free: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(operation, { minLength: 1, maxLength: 3000, size: "max" }), (operations) => {
      const locations = new Map<number, number>(); // owner -> location
      const sizes = new Map<number, number>();
      const pages = new BlobPages({
        isLive: (owner, location) => locations.get(owner) === location,
        moved: (owner, location) => locations.set(owner, location),
      });
      const fill = (owner: number) => (owner * 31 + 7) & 0xff;
      let next = 0;
      for (const step of operations) {
        if ("allocate" in step) {
          const owner = next++;
          const location = pages.allocate(owner, step.allocate);
          pages.page(location).fill(
            fill(owner),
            pages.offset(location) + 6,
            pages.offset(location) + step.allocate,
          );
          locations.set(owner, location);
          sizes.set(owner, step.allocate);
        } else if (locations.size > 0) {
          const owners = [...locations.keys()];
          const owner = owners[step.free % owners.length]!;
          const location = locations.get(owner)!;
          locations.delete(owner);
          sizes.delete(owner);
          pages.free(location);
        }
      }
      let live = 0;
      for (const [owner, location] of locations) {
        const size = sizes.get(owner)!;
        live += size;
        equal(pages.lengthAt(location), size);
        const page = pages.page(location);
        const start = pages.offset(location);
        for (let i = start + 6; i < start + size; i++) equal(page[i], fill(owner), `blob of ${owner} intact`);
      }
      // The head, the page before it, up to 4 spares, and the rest at least half live.
      ok(
        pages.pageCount <= Math.ceil((2 * live) / PAGE_SIZE) + 6,
        `${pages.pageCount} pages for ${live} live`,
      );
    }),
    { seed: 1905, numRuns: 60 },
  );
});

test("a blob gives back the walk and the key it was written with", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["an A answer", replyBytes("www.example.net")],
    [
      "a NXDOMAIN with a SOA",
      replyBytes("nx.example.net", {
        rcode: Rcode.NXDOMAIN,
        answers: [],
        authorities: [soa("example.net", 3600, 60)],
      }),
    ],
    [
      "dig's reply bytes: one A record, compressed owner, OPT record",
      parseHex(
        "4242 8180 0001 0001 0000 0001 03777777 076578616d706c65 036e6574 00 0001 0001" +
          " c00c 0001 0001 0000012c 0004 c0000201 00 0029 04d0 00000000 0000",
      ),
    ],
  ];
  for (const [what, bytes] of cases) {
    await t.step(what, () => {
      const answer = scanned(bytes);
      const pages = new BlobPages({ isLive: () => true, moved: () => {} });
      const key = "www.example.net|1|1|00";
      const length = blobLength(key, answer);
      const location = writeBlob(pages, 42, length, key, answer, true);
      equal(pages.lengthAt(location), length);
      deepEqual(readBlob(pages, location, new ByteArena()), answer);
      ok(blobHasKey(pages, location, key));
      ok(!blobHasKey(pages, location, "www.example.org|1|1|00"));
      ok(blobKeyAtOrBelow(pages, location, "www.example.net", ".www.example.net"));
      ok(blobKeyAtOrBelow(pages, location, "example.net", ".example.net"));
      ok(!blobKeyAtOrBelow(pages, location, "ww.example.net", ".ww.example.net"));
      ok(!blobKeyAtOrBelow(pages, location, "other.net", ".other.net"));
    });
  }
  await t.step("a key with a character over 255, or an answer too big, is not a blob", () => {
    const answer = scanned(replyBytes("www.example.net"));
    equal(blobLength("www.ex\u0100mple.net|1|1|00", answer), -1);
    const big = { ...answer, bytes: new Uint8Array(MAX_BLOB) };
    equal(blobLength("k", big), -1);
  });
});

const LIMITS: CacheLimits = { maxEntries: 8, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 };

test("AnswerCache with answers kept as bytes behaves as a plain LRU map would", () => {
  const operation = fc.tuple(fc.constantFrom("put", "get", "drop"), fc.integer({ min: 0, max: 20 }));
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 400, size: "max" }), (operations) => {
      const cache = new AnswerCache(LIMITS);
      const model = new Map<string, string>(); // key -> name, oldest first
      const nameOf = (n: number) => `host${n}.${"x".repeat((n * 7) % 60 + 1)}.example`;
      for (const [what, n] of operations) {
        const name = nameOf(n);
        const key = `${name}|1|1|00`;
        if (what === "put") {
          cache.putAnswer(key, upstream(name), 0);
          model.delete(key);
          model.set(key, name);
          if (model.size > LIMITS.maxEntries) model.delete(model.keys().next().value!);
        } else if (what === "get") {
          const found = cache.get(key, 1000);
          equal(found !== undefined, model.has(key));
          if (found) {
            model.delete(key);
            model.set(key, name);
            const served = decodeMessage(WireResponse.of(agedResponse(found.entry, 1000))!.encode(4096)!);
            equal(served.answers[0]!.name, name);
            equal(served.answers[0]!.ttl, 299);
          }
        } else {
          equal(cache.dropAtOrBelow(name), model.delete(key) ? 1 : 0);
        }
        equal(cache.size, model.size);
      }
    }),
    { seed: 7, numRuns: 150 },
  );
});

test("an entry handed out stays whole after it is evicted, and takes no more writes", () => {
  const cache = new AnswerCache({ ...LIMITS, maxEntries: 1 });
  cache.putAnswer("first.test|1|1|00", upstream("first.test"), 0);
  const found = cache.get("first.test|1|1|00", 0)!;
  found.entry.hits = 3;
  equal(found.entry.hits, 3);
  // Many more entries: the first's row is reused and its blob's room written over.
  for (let i = 0; i < 2000; i++) cache.putAnswer(`n${i}.test|1|1|00`, upstream(`n${i}.test`), 0);
  found.entry.refreshing = true;
  found.entry.retryAfter = 5;
  equal(found.entry.refreshing, false);
  equal(found.entry.retryAfter, undefined);
  const now = cache.get("n1999.test|1|1|00", 0)!;
  equal(now.entry.hits, 0, "the row's new entry has its own counters");
  const served = decodeMessage(WireResponse.of(agedResponse(found.entry, 0))!.encode(4096)!);
  equal(served.answers[0]!.name, "first.test");
});

test("a churning cache reuses its pages: room follows what is live", () => {
  const cache = new AnswerCache({ ...LIMITS, maxEntries: 1000 });
  for (let i = 0; i < 50_000; i++) {
    const name = `churn${i}.${"y".repeat((i % 60) + 1)}.test`;
    cache.putAnswer(`${name}|1|1|00`, upstream(name), i);
    if (i % 3 === 0) cache.get(`churn${i - 500}|1|1|00`, i);
  }
  equal(cache.size, 1000);
  // A thousand blobs of at most 300 octets: 10 pages live, twice that at most, and the spares.
  ok(cache.pageCount <= 16, `${cache.pageCount} pages`);
  const oldest = "churn49000." + "y".repeat((49000 % 60) + 1) + ".test";
  ok(cache.get(`${oldest}|1|1|00`, 50_000), "the newest thousand are all there");
});

test("dropAtOrBelow() drops a name and the names below it, and no name that merely ends alike", () => {
  const cache = new AnswerCache({ ...LIMITS, maxEntries: 100 });
  const names = ["example.test", "www.example.test", "a.b.example.test", "xexample.test", "example.test.org"];
  for (const name of names) cache.putAnswer(`${name}|1|1|00`, upstream(name), 0);
  equal(cache.dropAtOrBelow("Example.TEST."), 3);
  deepEqual(names.filter((name) => cache.get(`${name}|1|1|00`, 0) !== undefined), [
    "xexample.test",
    "example.test.org",
  ]);
});
