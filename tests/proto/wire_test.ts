/**
 * The bounded Reader and the compressing Writer, below the message level.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { DecodeError, type DecodeReason, EncodeError } from "../../lib/proto/errors.ts";
import { withoutRootDot } from "../../lib/proto/name.ts";
import { CompressionTable, normalizeEscapes, Reader, Writer } from "../../lib/proto/wire.ts";
import { hex, toHex } from "../_hex.ts";

/** Runs `read`, failing the test unless it throws a DecodeError; returns that error. */
function decodeError(read: () => unknown): DecodeError {
  try {
    read();
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw new assert.AssertionError({ message: `expected DecodeError, got ${error}` });
  }
  throw new assert.AssertionError({ message: "expected DecodeError, but the read succeeded" });
}

function assertDecodeError(read: () => unknown, reason: DecodeReason, offset: number): void {
  const error = decodeError(read);
  assert.equal(error.reason, reason);
  assert.equal(error.offset, offset);
}

function written(write: (writer: Writer) => void): string {
  const writer = new Writer();
  write(writer);
  return toHex(writer.finish());
}

test("Reader reads big-endian unsigned integers", () => {
  const reader = new Reader(hex`ff 1234 89abcdef 01`);
  assert.equal(reader.u8(), 0xff);
  assert.equal(reader.u16(), 0x1234);
  assert.equal(reader.u32(), 0x89abcdef); // above 2^31: must not come back negative
  assert.equal(reader.offset, 7);
  assert.equal(reader.remaining, 1);
  assert.equal(toHex(reader.take(1)), "01");
  assert.equal(reader.remaining, 0);
});

test("Reader reads a view that starts inside a larger buffer", () => {
  const reader = new Reader(hex`eeee eeee 1234 89abcdef`.subarray(4));
  assert.equal(reader.u16(), 0x1234);
  assert.equal(reader.u32(), 0x89abcdef);
  assertDecodeError(() => reader.u8(), "truncated", 6);
});

const bounds: readonly { name: string; bytes: Uint8Array; read: (r: Reader) => unknown; offset: number }[] = [
  { name: "u8() of nothing", bytes: hex``, read: (r) => r.u8(), offset: 0 },
  { name: "u16() of one octet", bytes: hex`12`, read: (r) => r.u16(), offset: 0 },
  { name: "u32() of three octets", bytes: hex`123456`, read: (r) => r.u32(), offset: 0 },
  { name: "u16() after u8() of two octets", bytes: hex`1234`, read: (r) => [r.u8(), r.u16()], offset: 1 },
  {
    name: "u32() after u16() of five octets",
    bytes: hex`1234 567890`,
    read: (r) => [r.u16(), r.u32()],
    offset: 2,
  },
  { name: "take(3) of two octets", bytes: hex`1234`, read: (r) => r.take(3), offset: 0 },
  { name: "name() of nothing", bytes: hex``, read: (r) => r.name(), offset: 0 },
  { name: "name() of a cut label", bytes: hex`03 6162`, read: (r) => r.name(), offset: 0 },
];

test("Reader throws DecodeError 'truncated' at the end of the message", async (t) => {
  for (const { name, bytes, read, offset } of bounds) {
    await t.step(name, () => {
      const reader = new Reader(bytes);
      assertDecodeError(() => read(reader), "truncated", offset);
      assert.equal(reader.offset, offset, "a failed read does not move the cursor");
    });
  }
});

test("Reader.within() limits reads to a window that must be consumed exactly", async (t) => {
  await t.step("exact consumption returns the value and moves past the window", () => {
    const reader = new Reader(hex`0001 0002 ff`);
    assert.deepStrictEqual(reader.within(4, (r) => [r.u16(), r.u16()]), [1, 2]);
    assert.equal(reader.offset, 4);
    assert.equal(reader.remaining, 1);
  });

  await t.step("the window's remaining count excludes what follows it", () => {
    const reader = new Reader(hex`0102 0304 0506`);
    const seen = reader.within(4, (r) => {
      const remaining = r.remaining;
      r.take(remaining);
      return remaining;
    });
    assert.equal(seen, 4);
    assert.equal(reader.remaining, 2);
  });

  await t.step("octets left over are 'rdata-length' where the window was left", () => {
    const reader = new Reader(hex`0001 0002 ff`);
    assertDecodeError(() => reader.within(4, (r) => r.u16()), "rdata-length", 2);
  });

  await t.step("reading past the window is 'rdata-length', though the message goes on", () => {
    const reader = new Reader(hex`0001 0002 ff`);
    assertDecodeError(() => reader.within(2, (r) => r.u32()), "rdata-length", 0);
  });

  await t.step("a name running past the window is 'rdata-length'", () => {
    const reader = new Reader(hex`03 616263 00`);
    assertDecodeError(() => reader.within(3, (r) => r.name()), "rdata-length", 0);
  });

  await t.step("a window longer than the message is 'truncated'", () => {
    const reader = new Reader(hex`0001 0002 ff`);
    assertDecodeError(() => reader.within(6, (r) => r.take(6)), "truncated", 0);
  });

  await t.step("the outer limit comes back after a failure", () => {
    const reader = new Reader(hex`0001 0002 ff`);
    decodeError(() => reader.within(2, (r) => r.u32()));
    assert.equal(reader.remaining, 5);
    assert.equal(toHex(reader.take(5)), "00010002ff");
    assertDecodeError(() => reader.u8(), "truncated", 5);
  });

  await t.step("windows nest, and the inner one restores the outer", () => {
    const reader = new Reader(hex`01 02 03 04`);
    const value = reader.within(3, (outer) => {
      const inner = outer.within(1, (r) => r.u8());
      return [inner, outer.remaining, outer.u16()];
    });
    assert.deepStrictEqual(value, [1, 2, 0x0203]);
    assert.equal(reader.remaining, 1);
  });

  await t.step("past a pointer, labels that run to the pointer itself are a 'bad-pointer'", () => {
    const reader = new Reader(hex`3f  c000`); // a 63-octet label at @0, cut; a window holding a pointer to it
    reader.take(1);
    assertDecodeError(() => reader.within(2, (r) => r.name()), "bad-pointer", 0);
  });

  await t.step("a pointer to labels that run on past it is a 'bad-pointer' (not a prior occurrence)", () => {
    // @0 "a" and the root; @3 a 4-octet "label" whose octets are the pointer at @4 to it and what follows.
    const reader = new Reader(hex`01 61 00  04 c003 0000  00`);
    reader.take(4);
    assertDecodeError(() => reader.name(), "bad-pointer", 3);
  });

  await t.step("a pointer inside the window may target octets before it", () => {
    const reader = new Reader(hex`01 61 00  c000`); // "a", then a window of 2 holding a pointer to it
    reader.take(3);
    assert.equal(reader.within(2, (r) => r.name()), "a");
    assert.equal(reader.offset, 5);
  });
});

test("Reader.name() resumes after the first pointer", () => {
  const reader = new Reader(hex`01 61 00  01 62 c000  01 63 c003  ff`);
  reader.take(3);
  assert.equal(reader.name(), "b.a");
  assert.equal(reader.offset, 7);
  assert.equal(reader.name(), "c.b.a"); // a pointer to a name that itself ends in a pointer
  assert.equal(reader.offset, 11);
});

/** Presentation text with dig's escapes (RFC 1035 section 5.1) <-> wire labels, both ways. */
const escapes: readonly { name: string; wire: Uint8Array; text: string }[] = [
  { name: "a dot inside a label", wire: hex`03 612e62 00`, text: String.raw`a\.b` },
  { name: "a space", wire: hex`01 20 00`, text: String.raw`\032` },
  { name: "a space between letters", wire: hex`03 612062 00`, text: String.raw`a\032b` },
  { name: "a backslash", wire: hex`01 5c 00`, text: String.raw`\\` },
  { name: "a double quote", wire: hex`01 22 00`, text: String.raw`\"` },
  { name: "$ ( ) ;", wire: hex`04 2428293b 00`, text: String.raw`\$\(\)\;` },
  { name: "an at sign", wire: hex`01 40 00`, text: String.raw`\@` },
  { name: "NUL and 0xff", wire: hex`02 00ff 00`, text: String.raw`\000\255` },
  { name: "DEL", wire: hex`01 7f 00`, text: String.raw`\127` },
  { name: "upper case, kept", wire: hex`03 414243 03 636f6d 00`, text: "ABC.com" },
  { name: "plain punctuation", wire: hex`03 2a2d5f 00`, text: "*-_" },
  { name: "the root", wire: hex`00`, text: "" },
];

test("Reader.name() and Writer.name() escape special octets like dig", async (t) => {
  for (const { name, wire, text } of escapes) {
    await t.step(name, () => {
      assert.equal(new Reader(wire).name(), text);
      assert.equal(written((w) => w.name(text, false)), toHex(wire));
    });
  }
});

/** Other ways to write a name: they encode to the same octets. */
const spellings: readonly { text: string; wire: Uint8Array }[] = [
  { text: String.raw`\097`, wire: hex`01 61 00` },
  { text: String.raw`\a`, wire: hex`01 61 00` },
  { text: String.raw`\065BC`, wire: hex`03 414243 00` },
  { text: "a.", wire: hex`01 61 00` },
  { text: ".", wire: hex`00` },
  { text: String.raw`a\.`, wire: hex`02 612e 00` }, // an escaped dot is not the root
  { text: String.raw`a\\.`, wire: hex`02 615c 00` }, // an escaped backslash, then the root
  { text: String.raw`star\*x`, wire: hex`06 73746172 2a 78 00` }, // `*` needs no escape
  { text: String.raw`esc\046dot`, wire: hex`07 657363 2e 646f74 00` }, // a dot inside a label
];

test("Writer.name() reads escapes and an optional root dot", async (t) => {
  for (const { text, wire } of spellings) {
    await t.step(text, () => assert.equal(written((w) => w.name(text, false)), toHex(wire)));
  }
});

test("Writer.name() rejects a bad decimal escape", async (t) => {
  for (const text of [String.raw`\999`, String.raw`\256`, String.raw`\1`, String.raw`a\12b`, "a\\"]) {
    await t.step(text, () => {
      assert.throws(
        () => new Writer().name(text, false),
        (error) => error instanceof EncodeError && error.reason === "bad-name",
      );
    });
  }
});

test("normalizeEscapes() writes a name as Reader.name() reads its octets, whatever the spelling", async (t) => {
  for (const { text, wire } of spellings) {
    await t.step(text, () => assert.equal(withoutRootDot(normalizeEscapes(text)), new Reader(wire).name()));
  }
  for (const { name, text } of escapes) {
    await t.step(name, () => assert.equal(normalizeEscapes(text), text));
  }
  await t.step("text that does not parse comes back as it is", () => {
    assert.equal(normalizeEscapes(String.raw`bad\999`), String.raw`bad\999`);
  });
});

test("withoutRootDot() drops one unescaped trailing dot", async (t) => {
  const cases = [
    ["example.com.", "example.com"],
    ["example.com", "example.com"],
    [".", ""],
    ["", ""],
    [String.raw`a\.`, String.raw`a\.`],
    [String.raw`a\\.`, String.raw`a\\`],
    [String.raw`a\\\.`, String.raw`a\\\.`],
  ] as const;
  for (const [name, expected] of cases) {
    await t.step(name, () => assert.equal(withoutRootDot(name), expected));
  }
});

test("Writer grows past 512 octets and keeps what it wrote", () => {
  const writer = new Writer();
  for (let i = 0; i < 511; i++) writer.u8(i & 0xff);
  writer.u16(0xabcd); // straddles the first 512 octets
  writer.u32(0x89abcdef);
  writer.bytes(new Uint8Array(1000).fill(0x5a));
  writer.patchU16(0, 0xbeef);
  const bytes = writer.finish();
  assert.equal(bytes.length, 511 + 2 + 4 + 1000);
  assert.equal(writer.offset, bytes.length);
  assert.equal(toHex(bytes.subarray(0, 4)), "beef0203");
  assert.equal(toHex(bytes.subarray(508, 517)), "fcfdfeabcd89abcdef");
  assert.ok(bytes.subarray(517).every((octet) => octet === 0x5a));
});

test("Writer writes into a scratch buffer and grows out of it", () => {
  const scratch = new Uint8Array(4);
  const writer = new Writer(scratch);
  writer.u32(0x01020304);
  assert.equal(toHex(scratch), "01020304");
  writer.u8(5);
  assert.equal(toHex(writer.finish()), "0102030405");
});

test("Writer throws EncodeError 'message-too-long' past 65535 octets", async (t) => {
  const tooLong = (write: () => void) =>
    assert.throws(write, (error) => error instanceof EncodeError && error.reason === "message-too-long");

  await t.step("65535 octets fit, one more does not", () => {
    const writer = new Writer();
    writer.bytes(new Uint8Array(0xffff));
    assert.equal(writer.offset, 0xffff);
    tooLong(() => writer.u8(0));
    assert.equal(writer.offset, 0xffff);
  });

  await t.step("in one write", () => tooLong(() => new Writer().bytes(new Uint8Array(0x10000))));

  await t.step("in a name", () => {
    const writer = new Writer();
    writer.bytes(new Uint8Array(0xfffe));
    tooLong(() => writer.name("a", false));
  });
});

test("Writer.name() compresses against earlier names", async (t) => {
  await t.step("without compress, names are written in full but still become targets", () => {
    assert.equal(
      written((w) => {
        w.name("example.com", false);
        w.name("example.com", false);
        w.name("www.Example.COM", true);
      }),
      "076578616d706c6503636f6d00" + "076578616d706c6503636f6d00" + "03777777c000",
    );
  });

  await t.step("a name at offset 0x3fff is still a target", () => {
    const writer = new Writer();
    writer.bytes(new Uint8Array(0x3fff));
    writer.name("a.b", true);
    writer.name("a.b", true);
    assert.equal(toHex(writer.finish().subarray(0x3fff)), "0161016200" + "ffff");
  });

  await t.step("past 32 suffixes (the table's list becomes a Map) every name still points back", () => {
    // 40 names under one parent: 41 suffixes in the table, then each name again, all as pointers.
    const names = Array.from({ length: 40 }, (_, i) => `h${i}.zone.test`);
    const writer = new Writer();
    const offsets = names.map((name) => {
      const at = writer.offset;
      writer.name(name, true);
      return at;
    });
    const end = writer.offset;
    for (const name of names) writer.name(name.toUpperCase(), true);
    const bytes = writer.finish();
    // The first name in full, every later one its own label then a pointer to "zone.test".
    assert.equal(toHex(bytes.subarray(0, offsets[1]!)), "026830047a6f6e65047465737400");
    assert.equal(toHex(bytes.subarray(offsets[39]!, end)), "03683339c003");
    for (const [i, at] of offsets.entries()) {
      assert.equal(toHex(bytes.subarray(end + 2 * i, end + 2 * i + 2)), (0xc000 | at).toString(16));
    }
  });

  await t.step("a reused table starts empty for the next message", () => {
    const table = new CompressionTable();
    const first = new Writer(undefined, table);
    first.name("a.b", true);
    first.name("a.b", true);
    assert.equal(toHex(first.finish()), "0161016200" + "c000");
    const second = new Writer(undefined, table);
    second.bytes(Uint8Array.of(0xff));
    second.name("a.b", true);
    assert.equal(toHex(second.finish()), "ff" + "0161016200");
  });

  await t.step("a name past offset 0x3fff cannot be pointed at", () => {
    const writer = new Writer();
    writer.bytes(new Uint8Array(0x4000));
    writer.name("a.b", true);
    writer.name("a.b", true);
    assert.equal(toHex(writer.finish().subarray(0x4000)), "0161016200" + "0161016200");
  });
});
