/**
 * Shared fixtures for the codec tests: builders for messages, questions and records, a helper
 * that expects a DecodeError, and the hand-written bidirectional vectors.
 * @module
 */
import assert from "node:assert/strict";
import { decodeMessage } from "../lib/proto/codec.ts";
import { DecodeError } from "../lib/proto/errors.ts";
import type { Message, Question, RData, ResourceRecord } from "../lib/proto/types.ts";
import { Rcode, RRClass, RRType } from "../lib/proto/types.ts";
import { hex, toHex } from "./_hex.ts";

/** A message with every header field false or zero and no records, overridden by `fields`. */
export function message(fields: Partial<Message>): Message {
  return {
    id: 0,
    response: false,
    opcode: 0,
    authoritative: false,
    truncated: false,
    recursionDesired: false,
    recursionAvailable: false,
    z: false,
    authenticData: false,
    checkingDisabled: false,
    rcode: 0,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    edns: null,
    ...fields,
  };
}

/** A question of class IN. */
export function question(name: string, type: number): Question {
  return { name, type, class: RRClass.IN };
}

/** A resource record of class IN. */
export function record(name: string, ttl: number, data: RData): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data };
}

/** The octets of `value` in UTF-8, for TXT strings. */
export const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** An A record's data. */
export const a = (address: string): RData => ({ type: "A", address });

/** Decodes `wire`, failing the test with the real error unless it throws a DecodeError. */
export function decodeError(wire: Uint8Array): DecodeError {
  try {
    decodeMessage(wire);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw new assert.AssertionError({ message: `expected DecodeError for ${toHex(wire)}, got ${error}` });
  }
  throw new assert.AssertionError({ message: `expected DecodeError for ${toHex(wire)}, but it decoded` });
}

/** The flags of a recursive server's answer: QR RD RA. */
const answered = { response: true, recursionDesired: true, recursionAvailable: true } as const;

/** Bidirectional vectors: `wire` decodes to `message`, and `message` encodes to exactly `wire`. */
export const vectors: readonly { name: string; wire: Uint8Array; message: Message }[] = [
  {
    name: "a plain query",
    wire: hex`
      1234 0100 0001 0000 0000 0000    # id=0x1234 flags=RD qd=1 an=0 ns=0 ar=0
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      0001 0001                        # A IN
    `,
    message: message({ id: 0x1234, recursionDesired: true, questions: [question("example.com", RRType.A)] }),
  },
  {
    name: "a local answer",
    wire: hex`
      beef 8580 0001 0001 0000 0000    # id=0xbeef flags=QR AA RD RA qd=1 an=1
      03 6e6173 04 686f6d65 00         # @12 nas.home
      0001 0001                        # A IN
      c00c 0001 0001                   # owner=pointer to @12 A IN
      0000012c 0004                    # ttl=300 rdlength=4
      08080808                         # 8.8.8.8
    `,
    message: message({
      id: 0xbeef,
      response: true,
      authoritative: true,
      recursionDesired: true,
      recursionAvailable: true,
      questions: [question("nas.home", RRType.A)],
      answers: [record("nas.home", 300, { type: "A", address: "8.8.8.8" })],
    }),
  },
  {
    name: "an AAAA answer",
    wire: hex`
      0002 8180 0001 0001 0000 0000       # flags=QR RD RA
      07 6578616d706c65 03 636f6d 00      # @12 example.com
      001c 0001                           # AAAA IN
      c00c 001c 0001 00000e10 0010        # owner=@12 AAAA IN ttl=3600 rdlength=16
      20010db8000000000000000000000001    # 2001:db8::1
    `,
    message: message({
      id: 2,
      ...answered,
      questions: [question("example.com", RRType.AAAA)],
      answers: [record("example.com", 3600, { type: "AAAA", address: "2001:db8::1" })],
    }),
  },
  {
    name: "an EDNS query with a cookie option and the DO bit",
    wire: hex`
      4d2e 0120 0001 0000 0000 0001    # flags=RD AD qd=1 ar=1
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      0001 0001                        # A IN
      00 0029                          # OPT owner=root type=41
      1000                             # udp payload size=4096
      00 00 8000                       # extended-rcode=0 version=0 DO=1
      000c                             # rdlength=12
      000a 0008 0102030405060708       # COOKIE (10) length=8 client cookie
    `,
    message: message({
      id: 0x4d2e,
      recursionDesired: true,
      authenticData: true,
      questions: [question("example.com", RRType.A)],
      edns: {
        udpPayloadSize: 4096,
        version: 0,
        dnssecOk: true,
        flags: 0,
        options: [{ code: 10, data: hex`0102030405060708` }],
      },
    }),
  },
  {
    name: "an extended rcode (BADVERS) carried in the OPT record",
    wire: hex`
      4d2f 8100 0001 0000 0000 0001    # flags=QR RD rcode(low 4 bits)=0 qd=1 ar=1
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      0001 0001                        # A IN
      00 0029 04d0                     # OPT root, udp payload size=1232
      01 00 0000                       # extended-rcode=1 (1<<4 | 0 = 16 BADVERS) version=0
      0000                             # rdlength=0
    `,
    message: message({
      id: 0x4d2f,
      response: true,
      recursionDesired: true,
      rcode: Rcode.BADVERS,
      questions: [question("example.com", RRType.A)],
      edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
    }),
  },
  {
    name: "the largest rcode, EDNS version 1 and the non-DO flag bits",
    wire: hex`
      0003 800f 0000 0000 0000 0001    # flags=QR rcode(low)=15 ar=1
      00 0029 0200                     # OPT root, udp payload size=512
      ff 01 4001                       # extended-rcode=255 (rcode 4095) version=1 DO=0 flags=0x4001
      0000                             # rdlength=0
    `,
    message: message({
      id: 3,
      response: true,
      rcode: 4095,
      edns: { udpPayloadSize: 512, version: 1, dnssecOk: false, flags: 0x4001, options: [] },
    }),
  },
  {
    name: "an MX answer whose exchange is compressed",
    wire: hex`
      0004 8180 0001 0001 0000 0000    # flags=QR RD RA
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      000f 0001                        # MX IN
      c00c 000f 0001 00000e10 0009     # owner=@12 MX IN ttl=3600 rdlength=9
      000a                             # preference=10
      04 6d61696c c00c                 # mail + pointer to @12 = mail.example.com
    `,
    message: message({
      id: 4,
      ...answered,
      questions: [question("example.com", RRType.MX)],
      answers: [record("example.com", 3600, { type: "MX", preference: 10, exchange: "mail.example.com" })],
    }),
  },
  {
    name: "a CNAME answer whose target points into the question",
    wire: hex`
      0005 8180 0001 0001 0000 0000          # flags=QR RD RA
      03 777777 07 6578616d706c65 03 636f6d 00 # @12 www.example.com (example.com at @16)
      0001 0001                              # A IN
      c00c 0005 0001 00000e10 0006           # owner=@12 CNAME IN ttl=3600 rdlength=6
      03 776562 c010                         # web + pointer to @16 = web.example.com
    `,
    message: message({
      id: 5,
      ...answered,
      questions: [question("www.example.com", RRType.A)],
      answers: [record("www.example.com", 3600, { type: "CNAME", target: "web.example.com" })],
    }),
  },
  {
    name: "an NS answer set with compressed hosts",
    wire: hex`
      0006 8180 0001 0002 0000 0000    # flags=QR RD RA an=2
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      0002 0001                        # NS IN
      c00c 0002 0001 00000e10 0006     # owner=@12 NS IN ttl=3600 rdlength=6
      03 6e7331 c00c                   # ns1 + pointer to @12
      c00c 0002 0001 00000e10 0006     # owner=@12 NS IN ttl=3600 rdlength=6
      03 6e7332 c00c                   # ns2 + pointer to @12
    `,
    message: message({
      id: 6,
      ...answered,
      questions: [question("example.com", RRType.NS)],
      answers: [
        record("example.com", 3600, { type: "NS", host: "ns1.example.com" }),
        record("example.com", 3600, { type: "NS", host: "ns2.example.com" }),
      ],
    }),
  },
  {
    name: "an SOA answer with both names compressed",
    wire: hex`
      0007 8180 0001 0001 0000 0000    # flags=QR RD RA
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      0006 0001                        # SOA IN
      c00c 0006 0001 00000e10 0027     # owner=@12 SOA IN ttl=3600 rdlength=39
      03 6e7331 c00c                   # mname ns1.example.com
      0a 686f73746d6173746572 c00c     # rname hostmaster.example.com
      78c40659 00001c20 00000e10       # serial=2026112601 refresh=7200 retry=3600
      00127500 0000012c                # expire=1209600 minimum=300
    `,
    message: message({
      id: 7,
      ...answered,
      questions: [question("example.com", RRType.SOA)],
      answers: [record("example.com", 3600, {
        type: "SOA",
        mname: "ns1.example.com",
        rname: "hostmaster.example.com",
        serial: 2026112601,
        refresh: 7200,
        retry: 3600,
        expire: 1209600,
        minimum: 300,
      })],
    }),
  },
  {
    name: "PTR answers whose second target points into the first",
    wire: hex`
      0008 8180 0001 0002 0000 0000                  # flags=QR RD RA an=2
      02 3130 01 32 01 30 03 313932                  # @12 10.2.0.192
      07 696e2d61646472 04 61727061 00               #     .in-addr.arpa
      000c 0001                                      # PTR IN
      c00c 000c 0001 00000e10 000f                   # @41 owner=@12 PTR IN ttl=3600 rdlength=15
      01 61 07 6578616d706c65 03 636f6d 00           # @53 a.example.com (example.com at @55)
      c00c 000c 0001 00000e10 0004                   # @68 owner=@12 PTR IN ttl=3600 rdlength=4
      01 62 c037                                     # b + pointer to @55 = b.example.com
    `,
    message: message({
      id: 8,
      ...answered,
      questions: [question("10.2.0.192.in-addr.arpa", RRType.PTR)],
      answers: [
        record("10.2.0.192.in-addr.arpa", 3600, { type: "PTR", target: "a.example.com" }),
        record("10.2.0.192.in-addr.arpa", 3600, { type: "PTR", target: "b.example.com" }),
      ],
    }),
  },
  {
    name: "an SRV answer whose target is not compressed",
    wire: hex`
      0009 8180 0001 0001 0000 0000                  # flags=QR RD RA
      04 5f736970 04 5f746370 07 6578616d706c65 03 636f6d 00 # @12 _sip._tcp.example.com
      0021 0001                                      # SRV IN
      c00c 0021 0001 00000e10 0017                   # owner=@12 SRV IN ttl=3600 rdlength=23
      000a 0005 13c4                                 # priority=10 weight=5 port=5060
      03 736970 07 6578616d706c65 03 636f6d 00       # sip.example.com in full (RFC 2782)
    `,
    message: message({
      id: 9,
      ...answered,
      questions: [question("_sip._tcp.example.com", RRType.SRV)],
      answers: [record("_sip._tcp.example.com", 3600, {
        type: "SRV",
        priority: 10,
        weight: 5,
        port: 5060,
        target: "sip.example.com",
      })],
    }),
  },
  {
    name: "a TXT answer with several strings, one empty",
    wire: hex`
      000a 8180 0001 0001 0000 0000    # flags=QR RD RA
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      0010 0001                        # TXT IN
      c00c 0010 0001 00000e10 0013     # owner=@12 TXT IN ttl=3600 rdlength=19
      0b 763d73706631202d616c6c        # "v=spf1 -all"
      00                               # ""
      05 68656c6c6f                    # "hello"
    `,
    message: message({
      id: 10,
      ...answered,
      questions: [question("example.com", RRType.TXT)],
      answers: [record("example.com", 3600, {
        type: "TXT",
        strings: [text("v=spf1 -all"), text(""), text("hello")],
      })],
    }),
  },
  {
    name: "an unknown type with opaque rdata (RFC 3597)",
    wire: hex`
      000b 8180 0001 0001 0000 0000    # flags=QR RD RA
      07 6578616d706c65 03 636f6d 00   # @12 example.com
      fffe 0001                        # TYPE65534 IN
      c00c fffe 0001 00000e10 0005     # owner=@12 TYPE65534 IN ttl=3600 rdlength=5
      c00c 00 ff 01                    # opaque: looks like a pointer but is never read as one
    `,
    message: message({
      id: 11,
      ...answered,
      questions: [question("example.com", 65534)],
      answers: [record("example.com", 3600, { type: "unknown", code: 65534, bytes: hex`c00c00ff01` })],
    }),
  },
  {
    name: "the root name as question and owner",
    wire: hex`
      000c 8000 0001 0001 0000 0000                  # flags=QR
      00 0002 0001                                   # @12 . NS IN
      00 0002 0001 0007e900 0014                     # owner=. (a single octet, never a pointer) ttl=518400
      01 61 0c 726f6f742d73657276657273 03 6e6574 00 # a.root-servers.net
    `,
    message: message({
      id: 12,
      response: true,
      questions: [question("", RRType.NS)],
      answers: [record("", 518400, { type: "NS", host: "a.root-servers.net" })],
    }),
  },
];

/** Asserts that every strict prefix of every vector throws DecodeError, and returns how many it tried. */
export function rejectEveryPrefix(vectors: readonly { name: string; wire: Uint8Array }[]): number {
  let prefixes = 0;
  for (const { name, wire } of vectors) {
    for (let n = 0; n < wire.length; n++) {
      assert.ok(decodeError(wire.subarray(0, n)) instanceof DecodeError, `${name}: prefix ${n}`);
      prefixes++;
    }
  }
  return prefixes;
}
