/**
 * Property tests of the codec with fast-check, from a fixed seed so every run checks the same
 * cases (the seed is in each test name; change it locally to explore): hostile bytes only ever
 * end in a DecodeError, whatever decodes encodes again to the same message, and generated
 * messages round-trip exactly and byte-stably.
 * @module
 */
import { test } from "../_limit.ts";
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { DecodeError } from "../../lib/proto/errors.ts";
import type { Message } from "../../lib/proto/types.ts";
import { foldNames, headerThenJunk, message, mutated, name, resourceRecord } from "../_arbitraries.ts";
import { readVector, toHex } from "../_hex.ts";
import { needsPermissions } from "../_tools.ts";

const SEED = 20261126;
const CAPTURES = [
  "dig_query_example_com.hex",
  "dig_query_norecurse_noedns.hex",
  "nsd_response_mx.hex",
  "nsd_response_nxdomain.hex",
  "nsd_response_txt_edns.hex",
  "nsd_response_www_cname.hex",
];

/** Bounded runs: the whole file takes a few seconds. */
const RUNS = { junk: 20_000, mutated: 20_000, generated: 3_000, mixedCase: 1_500, large: 40 };

const params = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: false });

/**
 * Decodes hostile bytes: anything but a DecodeError fails. What does decode must encode again and
 * decode to the same message (names compared through nameKey(): compression keeps the case of
 * the first occurrence), and that second encoding must be byte-stable.
 */
function decodesOrRejects(bytes: Uint8Array): boolean {
  let decoded: Message;
  try {
    decoded = decodeMessage(bytes);
  } catch (error) {
    if (error instanceof DecodeError) return true;
    throw error;
  }
  const encoded = encodeMessage(decoded).slice();
  const again = decodeMessage(encoded);
  deepStrictEqual(foldNames(again), foldNames(decoded));
  equal(toHex(encodeMessage(again)), toHex(encoded));
  return true;
}

function loadCaptures(): Promise<Uint8Array[]> {
  return Promise.all(CAPTURES.map(readVector));
}

test(`decodeMessage() returns or throws DecodeError for arbitrary bytes (fast-check seed ${SEED})`, () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 600, size: "max" }),
    fc.uint8Array({ minLength: 12, maxLength: 40 }),
    headerThenJunk,
  );
  fc.assert(fc.property(bytes, decodesOrRejects), params(RUNS.junk));
});

test(
  needsPermissions(
    ["read"],
    `decodeMessage() returns or throws DecodeError for mutated real captures (fast-check seed ${SEED})`,
  ),
  async () => {
    const captures = await loadCaptures();
    fc.assert(fc.property(mutated(captures), decodesOrRejects), params(RUNS.mutated));
  },
);

test(
  `decodeMessage() returns or throws DecodeError for generated messages, mutated (fast-check seed ${SEED})`,
  () => {
    const bytes = message({ maxSection: 2 }).chain((m) => mutated([encodeMessage(m).slice()]));
    fc.assert(fc.property(bytes, decodesOrRejects), params(RUNS.mutated / 4));
  },
);

test(`encodeMessage() -> decodeMessage() gives back generated messages (fast-check seed ${SEED})`, () => {
  fc.assert(
    fc.property(message(), (original) => {
      const bytes = encodeMessage(original).slice();
      const decoded = decodeMessage(bytes);
      deepStrictEqual(decoded, original);
      equal(toHex(encodeMessage(decoded)), toHex(bytes));
    }),
    params(RUNS.generated),
  );
});

test(
  `encodeMessage() -> decodeMessage() keeps mixed-case names up to nameKey() (fast-check seed ${SEED})`,
  () => {
    fc.assert(
      fc.property(message({ mixedCase: true }), (original) => {
        const bytes = encodeMessage(original).slice();
        const decoded = decodeMessage(bytes);
        deepStrictEqual(foldNames(decoded), foldNames(original));
        equal(toHex(encodeMessage(decoded)), toHex(bytes));
      }),
      params(RUNS.mixedCase),
    );
  },
);

test(
  `encodeMessage() -> decodeMessage() gives back messages past 16 KiB, beyond compression pointers' reach (fast-check seed ${SEED})`,
  () => {
    // Hundreds of records sharing a few owner names: later names can only point below offset 0x3fff.
    const large = fc.tuple(message({ maxSection: 1 }), fc.array(name(), { minLength: 1, maxLength: 6 }))
      .chain((
        [base, owners],
      ) =>
        fc.array(fc.tuple(fc.constantFrom(...owners), resourceRecord()), {
          minLength: 250,
          maxLength: 500,
          size: "max",
        })
          .map((records): Message => ({
            ...base,
            answers: records.map(([owner, r]) => ({ ...r, name: owner })),
          }))
      );
    let past16k = 0;
    fc.assert(
      fc.property(large, (original) => {
        const bytes = encodeMessage(original).slice();
        if (bytes.length > 0x4000) past16k++;
        const decoded = decodeMessage(bytes);
        deepStrictEqual(decoded, original);
        equal(toHex(encodeMessage(decoded)), toHex(bytes));
      }),
      // Shrinking messages of hundreds of records takes minutes: report the first failure as found.
      { ...params(RUNS.large), endOnFailure: true },
    );
    ok(past16k > RUNS.large / 2, `only ${past16k} messages passed 16 KiB`);
  },
);

test(
  needsPermissions(["read"], "decodeMessage() of a decoded-then-encoded capture is stable"),
  async () => {
    for (const [i, capture] of (await loadCaptures()).entries()) {
      const decoded = decodeMessage(capture);
      const encoded = encodeMessage(decoded).slice();
      deepStrictEqual(decodeMessage(encoded), decoded, CAPTURES[i]);
      equal(toHex(encodeMessage(decodeMessage(encoded))), toHex(encoded), CAPTURES[i]);
    }
  },
);
