/**
 * The codec against hand-written vectors: bidirectional vectors, one vector per header bit, every
 * strict prefix of those vectors, messages the encoder must reject, and name compression.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage, flagWord, headerFlags } from "../../lib/proto/codec.ts";
import { EncodeError, type EncodeReason } from "../../lib/proto/errors.ts";
import type { Message, RData } from "../../lib/proto/types.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { hex, toHex } from "../_hex.ts";
import { a, message, question, record, rejectEveryPrefix, vectors } from "../_codec_fixtures.ts";

/** One header-only vector per header bit (RFC 1035 section 4.1.1), plus all of them at once. */
const flagVectors: readonly { name: string; flags: number; fields: Partial<Message> }[] = [
  { name: "QR (0x8000)", flags: 0x8000, fields: { response: true } },
  { name: "OPCODE bit 0 (0x0800)", flags: 0x0800, fields: { opcode: 1 } },
  { name: "OPCODE bit 1 (0x1000)", flags: 0x1000, fields: { opcode: 2 } },
  { name: "OPCODE bit 2 (0x2000)", flags: 0x2000, fields: { opcode: 4 } },
  { name: "OPCODE bit 3 (0x4000)", flags: 0x4000, fields: { opcode: 8 } },
  { name: "AA (0x0400)", flags: 0x0400, fields: { authoritative: true } },
  { name: "TC (0x0200)", flags: 0x0200, fields: { truncated: true } },
  { name: "RD (0x0100)", flags: 0x0100, fields: { recursionDesired: true } },
  { name: "RA (0x0080)", flags: 0x0080, fields: { recursionAvailable: true } },
  { name: "Z (0x0040)", flags: 0x0040, fields: { z: true } },
  { name: "AD (0x0020)", flags: 0x0020, fields: { authenticData: true } },
  { name: "CD (0x0010)", flags: 0x0010, fields: { checkingDisabled: true } },
  { name: "RCODE bit 0 (0x0001)", flags: 0x0001, fields: { rcode: 1 } },
  { name: "RCODE bit 1 (0x0002)", flags: 0x0002, fields: { rcode: 2 } },
  { name: "RCODE bit 2 (0x0004)", flags: 0x0004, fields: { rcode: 4 } },
  { name: "RCODE bit 3 (0x0008)", flags: 0x0008, fields: { rcode: 8 } },
  {
    name: "every bit (0xffff)",
    flags: 0xffff,
    fields: {
      response: true,
      opcode: 15,
      authoritative: true,
      truncated: true,
      recursionDesired: true,
      recursionAvailable: true,
      z: true,
      authenticData: true,
      checkingDisabled: true,
      rcode: 15,
    },
  },
];

function flagWire(flags: number): Uint8Array {
  return hex`a55a ${flags.toString(16).padStart(4, "0")} 0000 0000 0000 0000 # id=0xa55a flags, no records`;
}

test("decodeMessage() and encodeMessage() agree with hand-written vectors", async (t) => {
  for (const { name, wire, message } of vectors) {
    await t.step(name, () => {
      assert.deepStrictEqual(decodeMessage(wire), message);
      assert.equal(toHex(encodeMessage(message)), toHex(wire));
    });
  }
});

test("decodeMessage() and encodeMessage() map each header bit to its own field", async (t) => {
  for (const { name, flags, fields } of flagVectors) {
    await t.step(name, () => {
      const wire = flagWire(flags);
      const expected = message({ id: 0xa55a, ...fields });
      assert.deepStrictEqual(decodeMessage(wire), expected);
      assert.equal(toHex(encodeMessage(expected)), toHex(wire));
    });
  }
});

test("decodeMessage() rejects every strict prefix of every hand-written vector", () => {
  const prefixes = rejectEveryPrefix([
    ...vectors,
    ...flagVectors.map(({ name, flags }) => ({ name, wire: flagWire(flags) })),
  ]);
  assert.ok(prefixes > 1000, `only ${prefixes} prefixes`);
});

const query = message({ id: 1, recursionDesired: true, questions: [question("example.com", RRType.A)] });

function answering(data: RData): Message {
  return { ...query, response: true, answers: [record("example.com", 60, data)] };
}

const unencodable: readonly { name: string; message: Message; reason: EncodeReason }[] = [
  {
    name: "a label over 63 octets",
    message: { ...query, questions: [question(`${"a".repeat(64)}.com`, RRType.A)] },
    reason: "label-too-long",
  },
  {
    name: "a name over 255 octets",
    message: { ...query, questions: [question(`${"a".repeat(60)}.`.repeat(5) + "com", RRType.A)] },
    reason: "name-too-long",
  },
  {
    name: "an empty label",
    message: { ...query, questions: [question("a..b", RRType.A)] },
    reason: "bad-name",
  },
  {
    name: "a leading empty label",
    message: { ...query, questions: [question(".example.com", RRType.A)] },
    reason: "bad-name",
  },
  {
    name: "a dangling backslash",
    message: { ...query, questions: [question("example\\", RRType.A)] },
    reason: "bad-name",
  },
  {
    name: "a non-ASCII name",
    message: { ...query, questions: [question("bücher.example", RRType.A)] },
    reason: "bad-name",
  },
  {
    name: "a non-ASCII name that case-folds to an earlier ASCII name",
    message: {
      ...query,
      questions: [question("k.example", RRType.A)],
      answers: [record("\u212a.example", 60, a("192.0.2.1"))], // U+212A KELVIN SIGN lower-cases to "k"
    },
    reason: "bad-name",
  },
  { name: "an A address over 255", message: answering(a("256.1.1.1")), reason: "bad-address" },
  { name: "an A address with three parts", message: answering(a("1.2.3")), reason: "bad-address" },
  {
    name: "an AAAA address with two '::'",
    message: answering({ type: "AAAA", address: "1::2::3" }),
    reason: "bad-address",
  },
  {
    name: "an IPv4 address in AAAA",
    message: answering({ type: "AAAA", address: "192.0.2.1" }),
    reason: "bad-address",
  },
  {
    name: "a TXT string over 255 octets",
    message: answering({ type: "TXT", strings: [new Uint8Array(256)] }),
    reason: "bad-value",
  },
  { name: "rcode 16 without EDNS", message: { ...query, rcode: Rcode.BADVERS }, reason: "needs-edns" },
  {
    name: "a message over 65535 octets",
    message: {
      ...query,
      answers: Array.from(
        { length: 300 },
        () => record("example.com", 60, { type: "TXT", strings: [new Uint8Array(255)] }),
      ),
    },
    reason: "message-too-long",
  },
];

for (const { name, message, reason } of unencodable) {
  test(`encodeMessage() rejects ${name}`, () => {
    assert.throws(() => encodeMessage(message), (error) => {
      assert.ok(error instanceof EncodeError, `expected EncodeError, got ${error}`);
      assert.equal(error.reason, reason);
      return true;
    });
  });
}

test("encodeMessage() compresses names", async (t) => {
  await t.step("two records sharing a suffix: the second points into the first", () => {
    const wire = encodeMessage(message({
      response: true,
      answers: [record("a.example.com", 60, a("192.0.2.1")), record("b.example.com", 60, a("192.0.2.2"))],
    }));
    assert.equal(
      toHex(wire),
      toHex(hex`
        0000 8000 0000 0002 0000 0000
        01 61 07 6578616d706c65 03 636f6d 00   # @12 a.example.com (example.com at @14)
        0001 0001 0000003c 0004 c0000201
        01 62 c00e                             # b + pointer to @14
        0001 0001 0000003c 0004 c0000202
      `),
    );
  });

  await t.step("case-insensitively, keeping the first spelling", () => {
    const sent = message({
      response: true,
      questions: [question("Example.COM", RRType.A)],
      answers: [record("example.com", 60, a("192.0.2.1")), record("www.EXAMPLE.com", 60, a("192.0.2.2"))],
    });
    const wire = encodeMessage(sent);
    assert.equal(
      toHex(wire),
      toHex(hex`
        0000 8000 0001 0002 0000 0000
        07 4578616d706c65 03 434f4d 00 0001 0001   # @12 Example.COM
        c00c 0001 0001 0000003c 0004 c0000201      # example.com -> pointer to @12
        03 777777 c00c 0001 0001 0000003c 0004 c0000202  # www + pointer to @12
      `),
    );
    assert.deepStrictEqual(decodeMessage(wire).answers.map((r) => r.name), [
      "Example.COM",
      "www.Example.COM",
    ]);
  });

  await t.step("a name already written as the question becomes c00c", () => {
    const wire = encodeMessage(answering(a("192.0.2.1")));
    const owner = 12 + 13 + 4; // header, example.com, type and class
    assert.equal(toHex(wire.subarray(owner, owner + 2)), "c00c");
  });

  await t.step("a trailing root dot changes nothing", () => {
    const dotted = { ...query, questions: [question("example.com.", RRType.A)] };
    assert.equal(toHex(encodeMessage(dotted)), toHex(encodeMessage(query)));
  });
});

test("flagWord() and headerFlags() are inverses over every 16-bit flag word", () => {
  for (let word = 0; word <= 0xffff; word++) {
    if (flagWord(headerFlags(word)) !== word) assert.fail(`flag word ${word.toString(16)}`);
  }
});
