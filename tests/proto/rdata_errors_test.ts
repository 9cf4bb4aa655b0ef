/**
 * RDATA that must be refused: presentation text (a ParseError at the offending token's column),
 * wire octets (a DecodeError) and typed values (an EncodeError).
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { DecodeError, type DecodeReason, EncodeError, type EncodeReason } from "../../lib/proto/errors.ts";
import { type RData, RRType } from "../../lib/proto/types.ts";
import { hex } from "../_hex.ts";
import { decodeWire, encodeWire, parseError } from "../_rdata.ts";

const NSEC3_NEXT = "2t7b4g4vsa5smi47k61mv5bv1a22bojr";
const SIGNED = "3600 20260101000000 20251201000000 1 example.com. AAAA";

/** Text that must not parse; `column` is where the offending token starts (999: the entry's end). */
const badText: readonly { name: string; code: number; text: string; column: number }[] = [
  { name: "an IPv4 octet over 255", code: RRType.A, text: "192.0.2.256", column: 1 },
  { name: "an IPv4 address with leading zeros", code: RRType.A, text: "192.0.2.01", column: 1 },
  { name: "a bad IPv6 group", code: RRType.AAAA, text: "2001:db8::g", column: 1 },
  { name: "a missing field", code: RRType.MX, text: "10", column: 999 },
  { name: "trailing garbage", code: RRType.MX, text: "10 mail.example.com. extra", column: 22 },
  { name: "a port over 65535", code: RRType.SRV, text: "5 0 65536 sip.example.com.", column: 5 },
  { name: "a CAA tag with a hyphen", code: RRType.CAA, text: '0 is-sue "ca.example"', column: 3 },
  {
    name: "a CAA tag of 16 characters",
    code: RRType.CAA,
    text: '0 issueissueissue1 "ca.example"',
    column: 3,
  },
  { name: "an unknown SvcParamKey", code: RRType.SVCB, text: "1 . foo=bar", column: 5 },
  { name: "the reserved key65535", code: RRType.SVCB, text: "1 . key65535", column: 5 },
  {
    name: "a repeated SvcParamKey (RFC 9460 D.3)",
    code: RRType.SVCB,
    text: "1 foo.example.com. key123=abc key123=def",
    column: 31,
  },
  { name: "a repeated alpn", code: RRType.HTTPS, text: "1 . alpn=h2 alpn=h3", column: 13 },
  { name: "alpn without a value (D.3)", code: RRType.SVCB, text: "1 foo.example.com. alpn", column: 20 },
  { name: "an empty port (D.3)", code: RRType.SVCB, text: '1 foo.example.com. port=""', column: 20 },
  {
    name: "no-default-alpn with a value (D.3)",
    code: RRType.SVCB,
    text: "1 foo.example.com. no-default-alpn=abc",
    column: 20,
  },
  {
    name: "a mandatory key that is absent (D.3)",
    code: RRType.SVCB,
    text: "1 foo.example.com. mandatory=key123",
    column: 20,
  },
  {
    name: "mandatory listing itself (D.3)",
    code: RRType.SVCB,
    text: "1 foo.example.com. mandatory=mandatory",
    column: 20,
  },
  {
    name: "mandatory listing a key twice (D.3)",
    code: RRType.SVCB,
    text: "1 foo.example.com. ( mandatory=key123,key123 key123=abc )",
    column: 22,
  },
  { name: "a port that is not a number", code: RRType.SVCB, text: "1 . port=http", column: 5 },
  {
    name: "an empty item in ipv4hint",
    code: RRType.SVCB,
    text: "1 . ipv4hint=192.0.2.1,,192.0.2.2",
    column: 5,
  },
  { name: "an IPv6 address in ipv4hint", code: RRType.SVCB, text: "1 . ipv4hint=2001:db8::1", column: 5 },
  { name: "a bad escape in an alpn list", code: RRType.SVCB, text: "1 . alpn=f\\\\oo", column: 5 },
  { name: "SvcParams in AliasMode", code: RRType.HTTPS, text: "0 foo.example.com. port=53", column: 1 },
  { name: "bad base64 in ech", code: RRType.HTTPS, text: "1 . ech=!!!!", column: 5 },
  { name: "bad base64 in a public key", code: RRType.DNSKEY, text: "257 3 8 AwEAA!==", column: 9 },
  { name: "base64 cut short across tokens", code: RRType.DNSKEY, text: "257 3 8 AwEA AA=", column: 9 },
  { name: "an unknown algorithm mnemonic", code: RRType.DNSKEY, text: "257 3 RSA AwEAAQ==", column: 7 },
  { name: "hex of odd length in a digest", code: RRType.DS, text: "20326 8 2 E06D4", column: 11 },
  { name: "a digest that is not hex", code: RRType.DS, text: "20326 8 2 E06D 44XY", column: 11 },
  { name: "an unknown covered type", code: RRType.RRSIG, text: `BOGUS 8 2 ${SIGNED}`, column: 1 },
  {
    name: "a signature time in month 13",
    code: RRType.RRSIG,
    text: "A 8 2 3600 20261301000000 20251201000000 1 example.com. AAAA",
    column: 12,
  },
  {
    name: "a signature time after 2106",
    code: RRType.RRSIG,
    text: "A 8 2 3600 21070101000000 20251201000000 1 example.com. AAAA",
    column: 12,
  },
  { name: "seconds over 2^32-1", code: RRType.RRSIG, text: "A 8 2 3600 4294967296 0 1 . AAAA", column: 12 },
  { name: "an unknown type in a bit map", code: RRType.NSEC, text: "host.example.com. A BOGUS", column: 21 },
  { name: "TYPE65536 in a bit map", code: RRType.NSEC, text: "host.example.com. TYPE65536", column: 19 },
  { name: "a salt of odd length", code: RRType.NSEC3, text: `1 1 12 aabbccd ${NSEC3_NEXT} A`, column: 8 },
  { name: "a salt that is empty hex", code: RRType.NSEC3PARAM, text: '1 0 12 ""', column: 8 },
  {
    name: "a letter outside base32hex",
    code: RRType.NSEC3,
    text: "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojw A",
    column: 17,
  },
  { name: "base32hex with padding", code: RRType.NSEC3, text: "1 1 12 - 2t7b4g4=", column: 10 },
  { name: "a \\# length the hex does not match", code: 65534, text: "\\# 3 abcd", column: 1 },
  { name: "a \\# length over 65535", code: 65534, text: "\\# 65536 ab", column: 4 },
  { name: "\\# data too short for its type", code: RRType.A, text: "\\# 3 c62900", column: 1 },
  { name: "bad hex after \\#", code: RRType.A, text: "\\# 4 c629000g", column: 6 },
  { name: "a type without a text form", code: 65534, text: "abcdef", column: 1 },
];

test("parseRData() reports a ParseError at the offending token", async (t) => {
  for (const { name, code, text, column } of badText) {
    await t.step(name, () => {
      const error = parseError(code, text);
      assert.deepStrictEqual(error.location, { file: "test", line: 1, column }, error.message);
    });
  }
});

/** RDATA octets that must not decode, with the reason and the offset (within the RDATA). */
const badWire: readonly {
  name: string;
  code: number;
  wire: Uint8Array;
  reason: DecodeReason;
  offset: number;
}[] = [
  {
    name: "bit map windows out of order",
    code: RRType.NSEC,
    wire: hex`00 # next: the root
      01 01 40 # window 1
      00 01 40 # window 0, after window 1`,
    reason: "rdata-length",
    offset: 4,
  },
  {
    name: "a repeated bit map window",
    code: RRType.NSEC,
    wire: hex`00 00 01 40 00 01 20`,
    reason: "rdata-length",
    offset: 4,
  },
  {
    name: "an empty bit map window",
    code: RRType.NSEC,
    wire: hex`00 00 00`,
    reason: "rdata-length",
    offset: 1,
  },
  {
    name: "a bit map window of 33 octets",
    code: RRType.NSEC,
    wire: hex`00 00 21 ${"00".repeat(32)} 01`,
    reason: "rdata-length",
    offset: 1,
  },
  {
    name: "a bit map window running past the RDATA",
    code: RRType.NSEC3,
    wire: hex`01 00 0000 00 01 aa 00 02 40`,
    reason: "rdata-length",
    offset: 9,
  },
  {
    name: "a salt running past the RDATA",
    code: RRType.NSEC3PARAM,
    wire: hex`01 00 000c 05 aabb`,
    reason: "rdata-length",
    offset: 5,
  },
  {
    name: "a SvcParam running past the RDATA",
    code: RRType.SVCB,
    wire: hex`0001 00 0003 0002 35`,
    reason: "rdata-length",
    offset: 7,
  },
  {
    name: "a CAA tag running past the RDATA",
    code: RRType.CAA,
    wire: hex`00 09 6973737565`,
    reason: "rdata-length",
    offset: 2,
  },
  {
    name: "an RRSIG cut before its signer",
    code: RRType.RRSIG,
    wire: hex`0001 08 02 00000e10`,
    reason: "rdata-length",
    offset: 8,
  },
  { name: "a DS without its key tag", code: RRType.DS, wire: hex`4f`, reason: "rdata-length", offset: 0 },
];

test("decodeRData() refuses malformed RDATA of the registered types", async (t) => {
  for (const { name, code, wire, reason, offset } of badWire) {
    await t.step(name, () => {
      assert.throws(() => decodeWire(code, wire), (error: unknown) => {
        assert.ok(error instanceof DecodeError, String(error));
        assert.deepStrictEqual({ reason: error.reason, offset: error.offset }, { reason, offset });
        return true;
      });
    });
  }
});

const salt256 = new Uint8Array(256);

/** Typed values that cannot be written to the wire. */
const badData: readonly { name: string; data: RData; reason: EncodeReason }[] = [
  {
    name: "a type code over 65535 in a bit map",
    data: { type: "NSEC", nextDomainName: "", types: [65536] },
    reason: "bad-value",
  },
  {
    name: "a fractional type code",
    data: { type: "NSEC", nextDomainName: "", types: [1.5] },
    reason: "bad-value",
  },
  {
    name: "a salt of 256 octets",
    data: { type: "NSEC3PARAM", hashAlgorithm: 1, flags: 0, iterations: 0, salt: salt256 },
    reason: "bad-value",
  },
  {
    name: "a CAA tag beyond Latin-1",
    data: { type: "CAA", flags: 0, tag: "iss\u0101e", value: salt256 },
    reason: "bad-value",
  },
  {
    name: "an NSEC next name with an empty label",
    data: { type: "NSEC", nextDomainName: "a..b", types: [] },
    reason: "bad-name",
  },
  {
    name: "an SVCB target label over 63 octets",
    data: { type: "SVCB", priority: 1, target: "a".repeat(64), params: [] },
    reason: "label-too-long",
  },
];

test("encodeRData() refuses typed values the wire cannot hold", async (t) => {
  for (const { name, data, reason } of badData) {
    await t.step(name, () => {
      assert.throws(() => encodeWire(data), (error: unknown) => {
        assert.ok(error instanceof EncodeError, String(error));
        assert.equal(error.reason, reason);
        return true;
      });
    });
  }
});
