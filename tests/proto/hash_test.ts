/**
 * The one FNV-1a: the published 32-bit test vectors, over octets and over text.
 * @module
 */
import { test } from "../_limit.ts";
import { equal } from "node:assert/strict";
import { fnv1a, fnv1aText } from "../../lib/proto/hash.ts";

// From the FNV reference code's test suite (test_fnv.c, FNV-1a 32-bit).
const vectors = [
  { text: "", hash: 0x811c9dc5 },
  { text: "a", hash: 0xe40c292c },
  { text: "foobar", hash: 0xbf9cf968 },
] as const;

test("fnv1a() and fnv1aText() give the FNV-1a test vectors", async (t) => {
  for (const { text, hash } of vectors) {
    await t.step(JSON.stringify(text), () => {
      equal(fnv1aText(text), hash);
      equal(fnv1a(new TextEncoder().encode(text)), hash);
    });
  }
});

test("fnv1a() hashes only the octets from start to end", () => {
  const framed = new TextEncoder().encode("..foobar..");
  equal(fnv1a(framed, 2, 8), 0xbf9cf968);
  equal(fnv1a(framed.subarray(2), 0, 6), 0xbf9cf968);
});
