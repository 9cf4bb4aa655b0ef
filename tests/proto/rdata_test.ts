/**
 * The record type registry against the vector table: every row is decoded from wire, encoded
 * back, parsed from presentation text, formatted back, and parsed from the RFC 3597 `\#` form
 * of the same octets (RFC 3597 section 5).
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { formatRData, typeCode } from "../../lib/proto/rdata.ts";
import { typeFromText } from "../../lib/proto/types.ts";
import type { Known } from "../../lib/proto/rdata_codec.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query } from "../../lib/proto/message.ts";
import {
  type Message,
  type RData,
  type ResourceRecord,
  RRClass,
  RRType,
  typeName,
} from "../../lib/proto/types.ts";
import { hex, toHex } from "../_hex.ts";
import { decodeWire, encodeWire, parseText } from "../_rdata.ts";
import { vectors } from "../_rdata_vectors.ts";
import fc from "fast-check";
import { rdata } from "../_arbitraries.ts";

test("the registry converts each vector both ways, as wire and as text", async (t) => {
  for (const { source, data, wire, text, alsoParses = [] } of vectors) {
    const code = typeCode(data);
    await t.step(`${typeName(code)}: ${source}`, () => {
      assert.deepStrictEqual(decodeWire(code, wire), data, "decode(wire)");
      assert.equal(toHex(encodeWire(data)), toHex(wire), "encode(typed)");
      assert.deepStrictEqual(parseText(code, text), data, "parse(text)");
      assert.equal(formatRData(data), text, "format(typed)");
      const generic = wire.length === 0 ? "\\# 0" : `\\# ${wire.length} ${toHex(wire)}`;
      assert.deepStrictEqual(parseText(code, generic), data, "parse(\\# form)");
      for (const other of alsoParses) assert.deepStrictEqual(parseText(code, other), data, other);
    });
  }
});

/** Every registered type; the mapped type makes a type added to the registry a compile error here. */
const registered: { readonly [T in Known]: true } = {
  A: true,
  NS: true,
  CNAME: true,
  SOA: true,
  PTR: true,
  MX: true,
  TXT: true,
  AAAA: true,
  SRV: true,
  CAA: true,
  SVCB: true,
  HTTPS: true,
  DS: true,
  DNSKEY: true,
  RRSIG: true,
  NSEC: true,
  NSEC3: true,
  NSEC3PARAM: true,
  HINFO: true,
  LOC: true,
  RP: true,
  AFSDB: true,
  NAPTR: true,
  DNAME: true,
  SSHFP: true,
  TLSA: true,
  SMIMEA: true,
  CDS: true,
  CDNSKEY: true,
  OPENPGPKEY: true,
  ZONEMD: true,
  SPF: true,
  URI: true,
};

test("a type IANA names but dnsd keeps opaque has its name, and its data in the RFC 3597 form", () => {
  for (const [name, code] of [["CERT", 37], ["IPSECKEY", 45], ["DHCID", 49], ["TA", 32768]] as const) {
    assert.equal(typeFromText(name.toLowerCase()), code, name);
    assert.equal(typeName(code), name);
  }
  assert.equal(typeName(65534), "TYPE65534");
  const cert = parseText(37, String.raw`\# 4 00121613`);
  assert.deepStrictEqual(cert, {
    type: "unknown",
    code: 37,
    bytes: new Uint8Array([0x00, 0x12, 0x16, 0x13]),
  });
  assert.equal(formatRData(cert), String.raw`\# 4 00121613`);
});

test("the table has a vector for every registered type, whose code is its RRType constant", () => {
  const covered = new Set(vectors.map(({ data }) => data.type));
  for (const name of Object.keys(registered) as Known[]) {
    assert.ok(covered.has(name), `no vector for ${name}`);
    assert.equal(typeFromText(name), RRType[name], name);
    assert.equal(typeName(RRType[name]), name);
  }
});

/** A record of class IN with a TTL of an hour. */
function record(name: string, data: RData): ResourceRecord {
  return { name, class: RRClass.IN, ttl: 3600, data };
}

function message(questionType: number, answers: readonly ResourceRecord[]): Message {
  return query({ name: "example.com", type: questionType }, { recursionDesired: false, answers });
}

test("names in MX rdata are compressed, but SRV targets and RRSIG signers are not", () => {
  const sent = message(RRType.MX, [
    record("example.com", { type: "MX", preference: 10, exchange: "mail.example.com" }),
    record("_sip._udp.example.com", {
      type: "SRV",
      priority: 0,
      weight: 0,
      port: 5060,
      target: "mail.example.com",
    }),
    record("example.com", {
      type: "RRSIG",
      typeCovered: RRType.MX,
      algorithm: 8,
      labels: 2,
      originalTtl: 3600,
      expiration: 1767225600,
      inception: 1764547200,
      keyTag: 1,
      signerName: "example.com",
      signature: hex`abcd`,
    }),
  ]);
  const wire = hex`
    0000 0000 0001 0003 0000 0000              # id 0, no flags, 1 question, 3 answers
    07 6578616d706c65 03 636f6d 00 000f 0001   # @12 example.com MX IN
    c00c 000f 0001 00000e10 0009               # @29 example.com MX IN 3600, 9 octets
    000a 04 6d61696c c00c                      # @41 10 mail.example.com: @43, then a pointer
    04 5f736970 04 5f756470 c00c               # @50 _sip._udp.example.com
    0021 0001 00000e10 0018                    # SRV IN 3600, 24 octets
    0000 0000 13c4                             # priority 0, weight 0, port 5060
    04 6d61696c 07 6578616d706c65 03 636f6d 00 # mail.example.com in full (RFC 2782)
    c00c 002e 0001 00000e10 0021               # @96 example.com RRSIG IN 3600, 33 octets
    000f 08 02 00000e10 6955b900 692cda80 0001 # MX, RSASHA256, 2 labels, TTL, times, key tag
    07 6578616d706c65 03 636f6d 00             # signer example.com in full (RFC 4034 3.1.7)
    abcd                                       # signature
  `;
  assert.equal(toHex(encodeMessage(sent)), toHex(wire));
  assert.deepStrictEqual(decodeMessage(wire), sent);
});

/** Each type with a name in its RDATA, and whether that name may be compressed (RFC 3597 section 4). */
const nameTypes: readonly { data: RData; compressed: boolean }[] = [
  { data: { type: "NS", host: "ns1.example.com" }, compressed: true },
  { data: { type: "CNAME", target: "www.example.com" }, compressed: true },
  {
    data: {
      type: "SOA",
      mname: "ns1.example.com",
      rname: "hostmaster.example.com",
      serial: 1,
      refresh: 2,
      retry: 3,
      expire: 4,
      minimum: 5,
    },
    compressed: true,
  },
  { data: { type: "PTR", target: "host.example.com" }, compressed: true },
  { data: { type: "MX", preference: 10, exchange: "mail.example.com" }, compressed: true },
  { data: { type: "SRV", priority: 0, weight: 0, port: 5060, target: "sip.example.com" }, compressed: false },
  { data: { type: "NSEC", nextDomainName: "host.example.com", types: [1] }, compressed: false },
  { data: { type: "SVCB", priority: 1, target: "svc.example.com", params: [] }, compressed: false },
  { data: { type: "HTTPS", priority: 0, target: "svc.example.com", params: [] }, compressed: false },
];

test("encodeMessage() compresses names in RDATA only where RFC 3597 allows", async (t) => {
  const suffix = toHex(hex`07 6578616d706c65 03 636f6d 00`); // example.com, as in the question
  for (const { data, compressed } of nameTypes) {
    await t.step(`${data.type}: ${compressed ? "compressed" : "written in full"}`, () => {
      const sent = message(typeCode(data), [record("example.com", data)]);
      const wire = encodeMessage(sent);
      const rdata = toHex(wire.subarray(41)); // after the question and the answer's fixed fields
      assert.equal(rdata.includes("c00c"), compressed, rdata);
      assert.equal(rdata.includes(suffix), !compressed, rdata);
      assert.deepStrictEqual(decodeMessage(wire), sent);
    });
  }
});

test("a SvcParam value malformed for its key is written as keyNNNNN and parses back", async (t) => {
  const cases = [
    { wire: hex`0001 00 0003 0001 35`, text: "1 . key3=5" },
    { wire: hex`0001 00 0001 0004 02 6832 00`, text: "1 . key1=\\002h2\\000" },
    { wire: hex`0001 00 0002 0001 78`, text: "1 . key2=x" },
    { wire: hex`0001 00 0000 0001 00`, text: "1 . key0=\\000" },
    { wire: hex`0001 00 0006 0004 c0000201`, text: "1 . key6=\\192\\000\\002\\001" },
    { wire: hex`0001 00 0005 0000`, text: "1 . key5" },
  ];
  for (const { wire, text } of cases) {
    await t.step(text, () => {
      const data = decodeWire(RRType.SVCB, wire);
      assert.equal(formatRData(data), text);
      assert.deepStrictEqual(parseText(RRType.SVCB, text), data);
      assert.equal(toHex(encodeWire(data)), toHex(wire));
    });
  }
});

test("SvcParams out of order on the wire keep their order, in the \\# form; their text parses sorted", () => {
  const wire = hex`0001 00 0004 0000 0003 0002 0035 # key4 (empty), then port=53`;
  const data = decodeWire(RRType.SVCB, wire);
  // "1 . key4 port=53" would read back sorted (RFC 9460 section 2.2), so other octets: the generic form.
  assert.equal(formatRData(data), String.raw`\# 13 00010000040000000300020035`);
  assert.equal(toHex(encodeWire(data)), toHex(wire));
  assert.equal(
    toHex(encodeWire(parseText(RRType.SVCB, "1 . key4 port=53"))),
    toHex(hex`0001 00 0003 0002 0035 0004 0000`),
  );
});

test("RRSIG times are read as dates or seconds and written as dates", async (t) => {
  const cases = [
    { given: "4294967295 0", written: "21060207062815 19700101000000" },
    { given: "20380119031408 1767225600", written: "20380119031408 20260101000000" },
    { given: "20240229235959 20240229000000", written: "20240229235959 20240229000000" },
  ];
  for (const { given, written } of cases) {
    await t.step(given, () => {
      const data = parseText(RRType.RRSIG, `A 8 2 3600 ${given} 1 . AAAA`);
      assert.equal(formatRData(data), `A 8 2 3600 ${written} 1 . AAAA`);
    });
  }
});

test("type bit maps are written canonically and read leniently", async (t) => {
  await t.step("types in any order, repeated, are written once in ascending windows", () => {
    const data: RData = { type: "NSEC", nextDomainName: "", types: [1234, 1, 47, 1, 46, 15] };
    assert.equal(toHex(encodeWire(data)), toHex(hex`00 00 06 400100000003 04 1b ${"00".repeat(26)} 20`));
  });
  await t.step("a window with trailing zero octets still reads", () => {
    assert.deepStrictEqual(decodeWire(RRType.NSEC, hex`00 00 03 40 00 00`), {
      type: "NSEC",
      nextDomainName: "",
      types: [1],
    });
  });
  await t.step("TYPE0 and TYPE65535 sit at the edges of the first and last windows", () => {
    const data: RData = { type: "NSEC", nextDomainName: "", types: [0, 65535] };
    const wire = hex`00 00 01 80 ff 20 ${"00".repeat(31)} 01`;
    assert.equal(toHex(encodeWire(data)), toHex(wire));
    assert.deepStrictEqual(decodeWire(RRType.NSEC, wire), data);
    assert.equal(formatRData(data), ". TYPE0 TYPE65535");
  });
});

test("formatRData() writes every RDATA as text that parses back to the same octets", () => {
  // What a secondary's zone file and the explain output rely on: the text form when it can say
  // the data, the RFC 3597 form when it cannot (no TXT string, an empty digest or key).
  fc.assert(
    fc.property(rdata(), (data) => {
      const text = formatRData(data);
      const parsed = parseText(typeCode(data), text);
      assert.equal(toHex(encodeWire(parsed)), toHex(encodeWire(data)), text);
    }),
    { numRuns: 10_000, seed: 20261206 },
  );
});
