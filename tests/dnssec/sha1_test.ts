/**
 * The SHA-1 behind the NSEC3 hash: the FIPS 180 examples, node:crypto's digests for messages of
 * every length around the padding boundaries, and RFC 5155's own example hash.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { sha1 } from "../../lib/dnssec/sha1.ts";
import { nsec3Hash } from "../../lib/dnssec/nsec3_hash.ts";
import { formatBase32Hex } from "../../lib/proto/mod.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((octet) => octet.toString(16).padStart(2, "0")).join("");
const text = (value: string) => new TextEncoder().encode(value);

test("sha1() gives the FIPS 180 example digests", async (t) => {
  const cases: [string, Uint8Array, string][] = [
    ["empty", new Uint8Array(0), "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", text("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"],
    [
      "448 bits, two blocks",
      text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    ],
    ["a million a", new Uint8Array(1_000_000).fill(0x61), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"],
  ];
  for (const [name, message, digest] of cases) await t.step(name, () => equal(hex(sha1(message)), digest));
});

test("sha1() of parts is node:crypto's digest of them joined, at every length", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 150 }), { maxLength: 3 }), (parts) => {
      const expected = createHash("sha1");
      for (const part of parts) expected.update(part);
      deepEqual(sha1(...parts), new Uint8Array(expected.digest()));
    }),
    { seed: 5155, numRuns: 500 },
  );
});

test("nsec3Hash() gives RFC 5155 appendix A's hash of example", () => {
  // Salt aabbccdd, 12 iterations: example hashes to 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.
  const salt = new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]);
  equal(formatBase32Hex(nsec3Hash("example", salt, 12)).toLowerCase(), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
});
