/**
 * ResponseMemo with an injected clock and generation: what is kept, for which exact query, for how
 * long, and that hash collisions never cross answers.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, notDeepEqual, notEqual } from "node:assert/strict";
import { ByteArena } from "../../lib/proto/arena.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { fnv1a } from "../../lib/proto/hash.ts";
import { reply } from "../../lib/proto/message.ts";
import { ResponseMemo } from "../../lib/resolve/response_memo.ts";
import { type Message, RRClass } from "../../lib/proto/types.ts";
import { hex } from "../_hex.ts";

// dig @127.0.0.1 example.com A +edns: the query every case below varies by one field
const QUERY = hex`
  abcd 0120 0001 0000 0000 0001   # id=0xabcd RD AD qd=1 ar=1
  07 6578616d706c65 03 636f6d 00   # example.com
  0001 0001                        # A IN
  00 0029 04d0 00 00 0000 0000     # OPT: size 1232, version 0, DO=0, no options
`;

/** `bytes` with the octets at `offset` replaced. */
function patched(bytes: Uint8Array, offset: number, ...octets: number[]): Uint8Array {
  const out = bytes.slice();
  out.set(octets, offset);
  return out;
}

function withId(bytes: Uint8Array, id: number): Uint8Array {
  return patched(bytes, 0, id >>> 8, id & 0xff);
}

/** A response to `query` and its bytes, as respond() would hand them to the memo. */
function responseTo(query: Uint8Array, address = "192.0.2.1"): { message: Message; bytes: Uint8Array } {
  const request = decodeMessage(query);
  const name = request.questions[0]!.name;
  const message = reply(request, {
    authoritative: true,
    answers: [{ name, class: RRClass.IN, ttl: 300, data: { type: "A", address } }],
  });
  return { message, bytes: encodeMessage(message) };
}

/** A memo on a clock the test moves, with a generation the test swaps. */
function memoAt(options: { maxEntries?: number } = {}) {
  const state = { clock: 1_000, generation: {} as object };
  const memo = new ResponseMemo({ ...options, now: () => state.clock, generation: () => state.generation });
  /** Marks a response to `query` as good until `until` and remembers it. */
  const keep = (query: Uint8Array, until: number, address?: string) => {
    const { message, bytes } = responseTo(query, address);
    memo.remember(query, memo.mark(message, until), bytes);
    return bytes;
  };
  return { memo, state, keep, arena: new ByteArena() };
}

test("ResponseMemo keeps nothing a stage did not mark", () => {
  const { memo, arena } = memoAt();
  const { message, bytes } = responseTo(QUERY);
  memo.remember(QUERY, message, bytes);
  equal(memo.size, 0);
  equal(memo.answer(QUERY, arena), null);
});

test("ResponseMemo answers a marked response's query with the kept bytes and the new ID", () => {
  const { memo, keep, arena } = memoAt();
  const bytes = keep(QUERY, Infinity);
  equal(memo.size, 1);
  deepEqual(memo.answer(QUERY, arena), bytes);
  const again = memo.answer(withId(QUERY, 0x0102), arena)!;
  deepEqual(again, withId(bytes, 0x0102));
  equal(decodeMessage(again).id, 0x0102);
});

test("ResponseMemo misses a query that differs in anything but its ID", async (t) => {
  const variants = [
    { name: "RD clear", query: patched(QUERY, 2, 0x00) },
    { name: "CD set", query: patched(QUERY, 3, 0x30) },
    { name: "AD clear", query: patched(QUERY, 3, 0x00) },
    { name: "another case", query: patched(QUERY, 13, 0x45) }, // Example.com
    { name: "another type", query: patched(QUERY, 25, 0x00, 0x1c) }, // AAAA
    { name: "another class", query: patched(QUERY, 27, 0x00, 0x03) }, // CH
    { name: "another EDNS size", query: patched(QUERY, 32, 0x10, 0x00) }, // 4096
    { name: "the DO bit", query: patched(QUERY, 36, 0x80) },
    { name: "no EDNS", query: patched(QUERY, 10, 0x00, 0x00).subarray(0, 29) },
    { name: "a trailing octet", query: Uint8Array.from([...QUERY, 0]) },
  ];
  const { memo, keep, arena } = memoAt();
  const bytes = keep(QUERY, Infinity);
  for (const variant of variants) {
    await t.step(variant.name, () => {
      notDeepEqual(variant.query, QUERY);
      equal(memo.answer(variant.query, arena), null);
      equal(memo.answer(withId(variant.query, 0x0102), arena), null);
      deepEqual(memo.answer(QUERY, arena), bytes); // a miss drops nothing
    });
  }
});

test("ResponseMemo keeps a response only until `until` on its clock", async (t) => {
  await t.step("an `until` already past is not kept", () => {
    const { memo, state, keep, arena } = memoAt();
    keep(QUERY, state.clock - 1);
    equal(memo.size, 0);
    equal(memo.answer(QUERY, arena), null);
  });
  await t.step("an `until` of now is not kept", () => {
    const { memo, state, keep } = memoAt();
    keep(QUERY, state.clock);
    equal(memo.size, 0);
  });
  await t.step("it answers until just before `until`, then misses and drops the entry", () => {
    const { memo, state, keep, arena } = memoAt();
    const bytes = keep(QUERY, state.clock + 1_000);
    state.clock += 999;
    deepEqual(memo.answer(QUERY, arena), bytes);
    state.clock += 1;
    equal(memo.answer(QUERY, arena), null);
    equal(memo.size, 0);
  });
  await t.step("`until: Infinity` outlasts any clock", () => {
    const { memo, state, keep, arena } = memoAt();
    const bytes = keep(QUERY, Infinity);
    state.clock += 1e12;
    deepEqual(memo.answer(QUERY, arena), bytes);
  });
});

test("ResponseMemo misses, and drops the entry, once the local data generation changes", () => {
  const { memo, state, keep, arena } = memoAt();
  const bytes = keep(QUERY, Infinity);
  const before = state.generation;
  state.generation = {};
  equal(memo.answer(QUERY, arena), null);
  equal(memo.size, 0);
  state.generation = before; // the entry is gone, not just hidden
  equal(memo.answer(QUERY, arena), null);
  state.generation = {};
  const fresh = keep(QUERY, Infinity, "192.0.2.2");
  notEqual(fresh, bytes);
  deepEqual(memo.answer(QUERY, arena), fresh);
});

test("ResponseMemo starts over when maxEntries is reached", () => {
  const { memo, keep, arena } = memoAt({ maxEntries: 2 });
  const queries = [0x01, 0x1c, 0x0f].map((type) => patched(QUERY, 26, type)); // A, AAAA, MX
  const kept = queries.map((query) => keep(query, Infinity));
  equal(memo.size, 1);
  equal(memo.answer(queries[0]!, arena), null);
  equal(memo.answer(queries[1]!, arena), null);
  deepEqual(memo.answer(queries[2]!, arena), kept[2]);
});

test("ResponseMemo starts over after copying in 8 MiB, so dropped entries pin no memory for long", () => {
  const { memo, arena } = memoAt({ maxEntries: 100_000 });
  // 60 KiB responses to 300 different questions: about 18 MiB copied in all.
  const big = new Uint8Array(60 * 1024);
  const queries = Array.from({ length: 300 }, (_, i) => patched(QUERY, 32, i >> 8, i & 0xff)); // the OPT size
  for (const query of queries) {
    const { message } = responseTo(query);
    memo.remember(query, memo.mark(message, Infinity), big);
  }
  // It starts over on the first entry after more than 8 MiB (query and response counted): twice here.
  const perRestart = Math.floor((8 * 1024 * 1024) / (QUERY.length + big.length)) + 1;
  equal(memo.size, 300 - 2 * perRestart);
  equal(memo.answer(queries[0]!, arena), null);
  deepEqual(memo.answer(queries[299]!, arena)?.subarray(2), big.subarray(2)); // all but the ID
});

test("ResponseMemo answers are copies: changing one, or the inputs, changes no later answer", () => {
  const { memo, arena } = memoAt();
  const query = QUERY.slice();
  const { message, bytes } = responseTo(query);
  const original = bytes.slice();
  memo.remember(query, memo.mark(message, Infinity), bytes);
  bytes.fill(0xee);
  query[30] = 0x77; // the query's own buffer is reused by the server for the next datagram
  const first = memo.answer(QUERY, arena)!;
  deepEqual(first, original);
  first.fill(0xff);
  deepEqual(memo.answer(QUERY, arena), original);
});

test("ResponseMemo misses a query shorter than a header, even one it was asked to keep", () => {
  const { memo, keep, arena } = memoAt();
  keep(QUERY, Infinity);
  const short = QUERY.subarray(0, 11);
  memo.remember(short, memo.mark(responseTo(QUERY).message, Infinity), Uint8Array.of(1, 2, 3));
  equal(memo.answer(short, arena), null);
  equal(memo.answer(new Uint8Array(0), arena), null);
  equal(memo.answer(QUERY.subarray(0, 2), arena), null);
});

const HEADER = hex`1234 0100 0001 0000 0000 0000`; // id, RD, qd=1
const TAIL = hex`04 74657374 00 0001 0001`; // test. A IN

/** A query for `<label>.test` A IN, RD=1. */
function queryFor(label: Uint8Array): Uint8Array {
  return Uint8Array.from([...HEADER, label.length, ...label, ...TAIL]);
}

/**
 * Two queries with one FNV-1a hash, found by a seeded search over random 7-letter labels (the
 * birthday bound for 32 bits is about 77,000 tries; the bound here is 2^21).
 */
function collidingQueries(): [Uint8Array, Uint8Array] {
  let seed = 0x2545f491;
  const random = () => { // xorshift32: the same pair on every run
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const seen = new Map<number, Uint8Array>();
  for (let tries = 0; tries < 1 << 21; tries++) {
    const label = Uint8Array.from({ length: 7 }, () => 0x61 + random() % 26);
    const query = queryFor(label);
    const hash = fnv1a(query, 2); // as the memo keys its entries: the query after its ID
    const other = seen.get(hash);
    if (other && other.some((octet, i) => octet !== query[i])) return [other, query];
    seen.set(hash, query);
  }
  throw new Error("no FNV-1a collision within 2^21 tries");
}

test("ResponseMemo never gives one query the answer of another with the same hash", () => {
  const [one, two] = collidingQueries();
  equal(fnv1a(one, 2), fnv1a(two, 2));
  notEqual(decodeMessage(one).questions[0]!.name, decodeMessage(two).questions[0]!.name);
  const { memo, keep, arena } = memoAt();

  const forOne = keep(one, Infinity, "192.0.2.1");
  equal(memo.answer(two, arena), null);
  deepEqual(memo.answer(one, arena), forOne);

  // Both land in one slot: keeping the second replaces the first, and still nothing crosses.
  const forTwo = keep(two, Infinity, "192.0.2.2");
  equal(memo.size, 1);
  equal(memo.answer(one, arena), null);
  deepEqual(memo.answer(two, arena), forTwo);
  deepEqual(decodeMessage(memo.answer(withId(two, 9), arena)!).answers[0]!.data, {
    type: "A",
    address: "192.0.2.2",
  });
});
