/**
 * The codec against real captures from dig and NSD (tests/testdata, read lazily so that
 * `deno test --allow-net` alone skips these tests), and the sweeps: every strict prefix of every
 * capture, pseudo-random packets, and every single-byte mutation of the captures.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { DecodeError, type DecodeReason } from "../../lib/proto/errors.ts";
import type { Message, RData } from "../../lib/proto/types.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { hex, readVector, toHex } from "../_hex.ts";
import { needsPermissions } from "../_tools.ts";
import { a, message, question, record, rejectEveryPrefix, text } from "../_codec_fixtures.ts";

const ns = (host: string): RData => ({ type: "NS", host });
const exampleTestNs = [
  record("example.test", 3600, ns("ns1.example.test")),
  record("example.test", 3600, ns("ns2.example.test")),
];
const exampleTestGlue = [
  record("ns1.example.test", 3600, a("192.0.2.1")),
  record("ns2.example.test", 3600, a("192.0.2.2")),
];
const nsdFlags = { response: true, authoritative: true, recursionDesired: true } as const;

/** Real captures (provenance in each file). `identical`: our encoder reproduces the bytes exactly. */
const captures: readonly { file: string; expected: Message; identical: boolean }[] = [
  {
    file: "dig_query_example_com.hex",
    identical: true,
    expected: message({
      id: 0x787c,
      recursionDesired: true,
      authenticData: true,
      questions: [question("example.com", RRType.A)],
      edns: {
        udpPayloadSize: 1232,
        version: 0,
        dnssecOk: false,
        flags: 0,
        options: [{ code: 10, data: hex`74857624dd244b7f` }],
      },
    }),
  },
  {
    file: "dig_query_norecurse_noedns.hex",
    identical: true,
    expected: message({
      id: 0xf6df,
      authenticData: true,
      questions: [question("example.com", RRType.AAAA)],
    }),
  },
  {
    file: "nsd_response_www_cname.hex",
    identical: false,
    expected: message({
      id: 0x1001,
      ...nsdFlags,
      questions: [question("www.example.test", RRType.A)],
      answers: [
        record("www.example.test", 3600, { type: "CNAME", target: "web.example.test" }),
        record("web.example.test", 3600, a("192.0.2.10")),
      ],
      authorities: exampleTestNs,
      additionals: exampleTestGlue,
    }),
  },
  {
    file: "nsd_response_mx.hex",
    identical: false,
    expected: message({
      id: 0x1002,
      ...nsdFlags,
      questions: [question("example.test", RRType.MX)],
      answers: [record("example.test", 3600, { type: "MX", preference: 10, exchange: "mail.example.test" })],
      authorities: exampleTestNs,
      additionals: [record("mail.example.test", 3600, a("192.0.2.25")), ...exampleTestGlue],
    }),
  },
  {
    file: "nsd_response_nxdomain.hex",
    identical: false,
    expected: message({
      id: 0x1003,
      ...nsdFlags,
      rcode: Rcode.NXDOMAIN,
      questions: [question("nope.example.test", RRType.A)],
      authorities: [record("example.test", 300, {
        type: "SOA",
        mname: "ns1.example.test",
        rname: "hostmaster.example.test",
        serial: 2026112601,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
      })],
    }),
  },
  {
    file: "nsd_response_txt_edns.hex",
    identical: false,
    expected: message({
      id: 0x1004,
      ...nsdFlags,
      questions: [question("example.test", RRType.TXT)],
      answers: [record("example.test", 3600, {
        type: "TXT",
        strings: [text("v=spf1 -all"), text("second string")],
      })],
      authorities: exampleTestNs,
      additionals: exampleTestGlue,
      edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
    }),
  },
];

/** Reads every capture from tests/testdata (needs --allow-read), inside a test, never at load. */
async function loadCaptures(): Promise<(typeof captures[number] & { wire: Uint8Array })[]> {
  return await Promise.all(captures.map(async (c) => ({ ...c, wire: await readVector(c.file) })));
}

test(needsPermissions(["read"], "decodeMessage() decodes real captures from dig and NSD"), async (t) => {
  for (const { file, wire, expected, identical } of await loadCaptures()) {
    await t.step(file, () => {
      const decoded = decodeMessage(wire);
      assert.deepStrictEqual(decoded, expected);
      const reencoded = encodeMessage(decoded);
      assert.deepStrictEqual(decodeMessage(reencoded), decoded);
      if (identical) assert.equal(toHex(reencoded), toHex(wire));
      else assert.ok(reencoded.length <= wire.length, "our compression is no worse than NSD's");
    });
  }
});

test(
  needsPermissions(["read"], "decodeMessage() rejects every strict prefix of every capture"),
  async () => {
    const prefixes = rejectEveryPrefix(
      (await loadCaptures()).map(({ file, wire }) => ({ name: file, wire })),
    );
    assert.ok(prefixes > 500, `only ${prefixes} prefixes`);
  },
);

/** mulberry32: a tiny seeded PRNG, so the sweeps are the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Octets that steer random input into names, pointers, OPT and the reserved label types. */
const interesting = [0x00, 0x01, 0x03, 0x0c, 0x29, 0x3f, 0x40, 0x80, 0xc0, 0xff];
const types = [1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 65534];

/** Random octets, half of them from `interesting`. */
function randomBytes(next: () => number, length: number): number[] {
  return Array.from({ length }, () => next() % 2 ? next() & 0xff : interesting[next() % interesting.length]!);
}

/** A packet with the shape of a message (header, names, records) but random content and lengths. */
function randomPacket(next: () => number): Uint8Array {
  const name = () => [
    ...Array.from({ length: next() % 3 }, () => [1, ...randomBytes(next, 1)]).flat(),
    ...(next() % 2 ? [0] : [0xc0, 12]),
  ];
  const counts = [next() % 2, next() % 3, 0, next() % 2];
  const out = [...randomBytes(next, 4), ...counts.flatMap((count) => [0, count])];
  for (let i = 0; i < counts[0]!; i++) out.push(...name(), 0, next() % 2, 0, 1);
  for (let i = 0; i < counts[1]! + counts[3]!; i++) {
    const type = types[next() % types.length]!;
    const rdata = next() % 2 ? name() : randomBytes(next, next() % 8);
    const rdlength = next() % 4 ? rdata.length : next() % 10;
    out.push(...name(), type >> 8, type & 0xff, 0, 1, 0, 0, 0, 60, 0, rdlength, ...rdata);
  }
  if (next() % 3 === 0) out[next() % out.length] = next() & 0xff;
  if (next() % 8 === 0) out.push(next() & 0xff);
  return Uint8Array.from(out);
}

/**
 * Decodes `wire` and checks the only two allowed outcomes: a DecodeError, or a message that
 * survives an encode/decode round trip unchanged.
 * @returns the DecodeError's reason, or null when it decoded
 */
function decodeOrReason(wire: Uint8Array): DecodeReason | null {
  let decoded: Message;
  try {
    decoded = decodeMessage(wire);
  } catch (error) {
    if (error instanceof DecodeError) return error.reason;
    throw new assert.AssertionError({ message: `${toHex(wire)} threw ${error}` });
  }
  assert.deepStrictEqual(decodeMessage(encodeMessage(decoded)), decoded, toHex(wire));
  return null;
}

test("decodeMessage() returns or throws DecodeError for pseudo-random packets", () => {
  const next = random(0x5eed);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const wire = i % 2 ? randomPacket(next) : Uint8Array.from(randomBytes(next, next() % 48));
    const outcome = decodeOrReason(wire) ?? "decoded";
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  // The sweep must reach every stage of the decoder, not stop at the header every time.
  for (
    const outcome of ["decoded", "bad-label", "bad-pointer", "rdata-length", "trailing-bytes", "truncated"]
  ) {
    assert.ok((outcomes.get(outcome) ?? 0) >= 10, `${outcome}: ${JSON.stringify([...outcomes])}`);
  }
});

test(
  needsPermissions(
    ["read"],
    "decodeMessage() returns or throws DecodeError for every single-byte mutation of the captures",
  ),
  async () => {
    const next = random(0xd15ea5e);
    let decoded = 0;
    let rejected = 0;
    for (const { wire } of await loadCaptures()) {
      for (let i = 0; i < wire.length; i++) {
        for (const value of [...interesting, wire[i]! ^ 0x01, wire[i]! ^ 0x20, next() & 0xff]) {
          if (value === wire[i]) continue;
          const mutated = wire.slice();
          mutated[i] = value;
          if (decodeOrReason(mutated) === null) decoded++;
          else rejected++;
        }
      }
    }
    assert.ok(decoded > 100 && rejected > 100, `${decoded} decoded, ${rejected} rejected`);
  },
);
