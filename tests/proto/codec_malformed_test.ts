/**
 * The codec against packets that must be rejected: a table of malformed packets with the exact
 * reason and offset of each DecodeError, and the longest name that must still be accepted.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import type { DecodeReason } from "../../lib/proto/errors.ts";
import { hex, toHex } from "../_hex.ts";
import { decodeError } from "../_codec_fixtures.ts";

/** Malformed packets, in the manner of miekg/dns TestUnpackDomainName: the exact reason and offset. */
const malformed: readonly { name: string; wire: Uint8Array; reason: DecodeReason; offset: number }[] = [
  {
    name: "a pointer to itself",
    wire: hex`abcd 0100 0001 0000 0000 0000  c00c 0001 0001  # @12 pointer to @12`,
    reason: "bad-pointer",
    offset: 12,
  },
  {
    name: "a forward pointer",
    wire: hex`
      abcd 0100 0001 0000 0000 0000
      c012 0001 0001                   # @12 pointer to @18, after itself
      03 636f6d 00                     # @18 com
    `,
    reason: "bad-pointer",
    offset: 12,
  },
  {
    name: "a pointer loop (two pointers pointing at each other)",
    wire: hex`
      abcd 8000 0001 0002 0000 0000    # QR qd=1 an=2
      00 0001 0001                     # @12 . A IN
      00 fffe 0001 00000000 0002       # @17 . TYPE65534 IN ttl=0 rdlength=2
      c01e                             # @28 opaque rdata: a pointer to @30
      c01c                             # @30 owner: a pointer to @28, which points back to @30
      fffe 0001 00000000 0000          # TYPE65534 IN ttl=0 rdlength=0
    `,
    reason: "bad-pointer",
    offset: 28,
  },
  {
    name: "a pointer chain that turns forward, though still before the name",
    wire: hex`
      abcd 8000 0001 0002 0000 0000    # QR qd=1 an=2
      00 0001 0001                     # @12 . A IN
      00 fffe 0001 00000000 0004       # @17 . TYPE65534 IN ttl=0 rdlength=4
      c01e 0000                        # @28 opaque rdata: a pointer to @30, then a root label
      c01c                             # @32 owner: a pointer to @28, whose pointer goes forward to @30
      fffe 0001 00000000 0000          # TYPE65534 IN ttl=0 rdlength=0
    `,
    reason: "bad-pointer",
    offset: 28,
  },
  {
    name: "a length octet of 64 (the reserved 0x40 label type)",
    wire: hex`abcd 0100 0001 0000 0000 0000  40 ${"61".repeat(64)} 00  0001 0001`,
    reason: "bad-label",
    offset: 12,
  },
  {
    name: "the reserved 0x80 label type",
    wire: hex`abcd 0100 0001 0000 0000 0000  01 61 80 00  0001 0001  # @14 0x80`,
    reason: "bad-label",
    offset: 14,
  },
  {
    name: "a name over 255 octets",
    wire: hex`
      abcd 0100 0001 0000 0000 0000
      ${`3f ${"61".repeat(63)}`.repeat(4)} 00  # @12 four 63-octet labels: 257 octets
      0001 0001
    `,
    reason: "name-too-long",
    offset: 204,
  },
  {
    name: "a name over 255 octets built through a pointer",
    wire: hex`
      abcd 0100 0002 0000 0000 0000
      ${`3f ${"61".repeat(63)}`.repeat(3)}   # @12 three 63-octet labels
      3d ${"61".repeat(61)} 00               # and one of 61: exactly 255 octets
      0001 0001
      01 62 c00c 0001 0001                   # @271 b + pointer to @12: 257 octets
    `,
    reason: "name-too-long",
    offset: 204,
  },
  {
    name: "a truncated header",
    wire: hex`abcd 0100 0001  # id flags qdcount, then nothing`,
    reason: "truncated",
    offset: 6,
  },
  {
    name: "a truncated question",
    wire: hex`abcd 0100 0001 0000 0000 0000  07 6578616d706c65 03 636f6d 00  0001  # no class`,
    reason: "truncated",
    offset: 27,
  },
  {
    name: "a name without its terminating root label",
    wire: hex`abcd 0100 0001 0000 0000 0000  07 6578616d706c65`,
    reason: "truncated",
    offset: 20,
  },
  {
    name: "a pointer cut in half",
    wire: hex`abcd 0100 0001 0000 0000 0000  c0`,
    reason: "truncated",
    offset: 12,
  },
  {
    name: "an rdlength longer than the data",
    wire: hex`
      abcd 8100 0001 0001 0000 0000
      07 6578616d706c65 03 636f6d 00 0001 0001
      c00c 0001 0001 0000012c 0010     # @29 rdlength=16
      08080808                         # @41 only 4 octets follow
    `,
    reason: "truncated",
    offset: 41,
  },
  {
    name: "an A record with rdlength 3",
    wire: hex`
      abcd 8100 0001 0001 0000 0000
      07 6578616d706c65 03 636f6d 00 0001 0001
      c00c 0001 0001 0000012c 0003     # @29 rdlength=3
      080808                           # @41
    `,
    reason: "rdata-length",
    offset: 41,
  },
  {
    name: "an A record with rdlength 5",
    wire: hex`
      abcd 8100 0001 0001 0000 0000
      07 6578616d706c65 03 636f6d 00 0001 0001
      c00c 0001 0001 0000012c 0005     # @29 rdlength=5
      08080808 01                      # @41 one octet left over at @45
    `,
    reason: "rdata-length",
    offset: 45,
  },
  {
    name: "an MX whose name ends before rdlength",
    wire: hex`
      abcd 8100 0001 0001 0000 0000
      07 6578616d706c65 03 636f6d 00 000f 0001
      c00c 000f 0001 00000e10 000a     # @29 rdlength=10
      000a 04 6d61696c c00c            # @41 9 octets of MX
      00                               # @50 left over
    `,
    reason: "rdata-length",
    offset: 50,
  },
  {
    name: "an MX whose name runs past rdlength",
    wire: hex`
      abcd 8100 0001 0001 0000 0000
      07 6578616d706c65 03 636f6d 00 000f 0001
      c00c 000f 0001 00000e10 0005     # @29 rdlength=5
      000a 04 6d61696c c00c            # @41 the label at @43 ends at @48, past @46
    `,
    reason: "rdata-length",
    offset: 43,
  },
  {
    name: "an EDNS option longer than the OPT rdata",
    wire: hex`
      abcd 0100 0000 0000 0000 0001
      00 0029 04d0 00000000 0008       # @12 OPT rdlength=8
      000a 0008 01020304               # @23 COOKIE length=8, but 4 octets left at @27
    `,
    reason: "rdata-length",
    offset: 27,
  },
  {
    name: "trailing bytes",
    wire: hex`abcd 0100 0000 0000 0000 0000  ff`,
    reason: "trailing-bytes",
    offset: 12,
  },
  {
    name: "two OPT records",
    wire: hex`
      abcd 0100 0000 0000 0000 0002
      00 0029 04d0 00000000 0000       # @12
      00 0029 04d0 00000000 0000       # @23
    `,
    reason: "multiple-opt",
    offset: 23,
  },
  {
    name: "an OPT record in the answer section (RFC 6891 section 6.1.1)",
    wire: hex`abcd 0100 0000 0001 0000 0000  00 0029 04d0 00000000 0000`,
    reason: "misplaced-opt",
    offset: 12,
  },
  {
    name: "an OPT record in the authority section",
    wire: hex`abcd 0100 0000 0000 0001 0000  00 0029 04d0 00000000 0000`,
    reason: "misplaced-opt",
    offset: 12,
  },
  {
    name: "an OPT record with a non-root owner",
    wire: hex`abcd 0100 0000 0000 0000 0001  01 61 00 0029 04d0 00000000 0000`,
    reason: "bad-opt",
    offset: 12,
  },
  {
    name: "an answer count promising more records than present",
    wire: hex`
      abcd 8100 0001 0002 0000 0000    # an=2
      07 6578616d706c65 03 636f6d 00 0001 0001
      c00c 0001 0001 0000012c 0004 08080808  # @29 the only answer; @45 is the end
    `,
    reason: "truncated",
    offset: 45,
  },
  {
    name: "a question count of 65535 with no questions",
    wire: hex`abcd 0100 ffff 0000 0000 0000`,
    reason: "truncated",
    offset: 12,
  },
];

for (const { name, wire, reason, offset } of malformed) {
  test(`decodeMessage() rejects ${name}`, () => {
    const error = decodeError(wire);
    assert.equal(error.reason, reason);
    assert.equal(error.offset, offset);
  });
}

test("decodeMessage() accepts a name of exactly 255 octets", () => {
  const long = `${"a".repeat(63)}.`.repeat(3) + "a".repeat(61);
  const wire = hex`
    abcd 0100 0001 0000 0000 0000
    ${`3f ${"61".repeat(63)}`.repeat(3)} 3d ${"61".repeat(61)} 00  # 3 * 64 + 62 + 1 = 255 octets
    0001 0001
  `;
  assert.equal(decodeMessage(wire).questions[0]?.name, long);
  assert.equal(toHex(encodeMessage(decodeMessage(wire))), toHex(wire));
});
