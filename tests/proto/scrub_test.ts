/**
 * Scrubbing forwarded replies (lib/proto/scrub.ts) and the kept-bytes walk's share of it: a table
 * of upstream replies as bytes, what each section keeps, and whether the walk may keep the bytes
 * (only when scrubbing removes nothing). Also RFC 2181 section 8: a TTL with the top bit set is 0.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { scrubReply } from "../../lib/proto/scrub.ts";
import {
  type Question,
  Rcode,
  type RData,
  type ResourceRecord,
  RRClass,
  RRType,
  typeName,
} from "../../lib/proto/types.ts";
import { receivedTtl, scanAnswer } from "../../lib/proto/wire_answer.ts";
import { typeCode } from "../../lib/proto/rdata.ts";
import { parseHex } from "../_hex.ts";

/** The question every vector asks (www.example.com, IN), written at offset 12. */
const QUESTION = `
  03 777777 07 6578616d706c65 03 636f6d 00   # www.example.com (example.com at 0x10, com at 0x18)
`;

/** A reply: the header (ID 0x1234, QR RD RA, `rcode`), the question with `qtype`, then `records`. */
function replyBytes(counts: string, records: string, qtype = "0001", rcode = "0"): Uint8Array {
  return parseHex(`1234 818${rcode} 0001 ${counts} ${QUESTION} ${qtype} 0001 ${records}`);
}

/** Records as `owner TYPE` lines, to compare sections at a glance. */
const shown = (records: readonly ResourceRecord[]) =>
  records.map((record) => `${record.name} ${typeName(typeCode(record.data))}`);

interface Vector {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly answers: readonly string[];
  readonly authorities: readonly string[];
  readonly additionals: readonly string[];
  /** Whether the kept-bytes walk takes it as it is (only when there is nothing to scrub). */
  readonly walked: boolean;
  /** Whether scrubbing removes nothing, when the walk leaves it to the decoder anyway (a type it skips). */
  readonly whole?: boolean;
  /** The DO bit of the query sent upstream; set unless given. */
  readonly dnssecOk?: boolean;
}

/** A signed answer: www A with its RRSIG, an RRSIG over an AAAA not sent, the name's NSEC in authority. */
const SIGNED = replyBytes(
  "0003 0001 0000",
  `c00c 0001 0001 0000012c 0004 c0000201                 # www A 192.0.2.1
   c00c 002e 0001 0000012c 0023 0001 0d 03 0000012c 68000000 67000000 1234
        076578616d706c65 03636f6d 00 aabbccdd             # RRSIG A, signer example.com
   c00c 002e 0001 0000012c 0023 001c 0d 03 0000012c 68000000 67000000 1234
        076578616d706c65 03636f6d 00 aabbccdd             # RRSIG AAAA, signer example.com
   c00c 002f 0001 00000e10 0009 00 0006 40000000 0003     # www NSEC (next: the root) A RRSIG NSEC`,
);

/** The RRSIG of www A, asked for (QTYPE RRSIG). */
const SIGNATURE_ASKED = replyBytes(
  "0001 0000 0000",
  `c00c 002e 0001 0000012c 0023 0001 0d 03 0000012c 68000000 67000000 1234
        076578616d706c65 03636f6d 00 aabbccdd             # RRSIG A, signer example.com`,
  "002e",
);

const vectors: readonly Vector[] = [
  {
    name: "a plain A answer",
    bytes: replyBytes(
      "0001 0000 0000",
      `c00c 0001 0001 0000012c 0004 c0000201   # www A 192.0.2.1`,
    ),
    answers: ["www.example.com A"],
    authorities: [],
    additionals: [],
    walked: true,
  },
  {
    name: "an unrelated A, a foreign NS and an unreferenced address",
    bytes: replyBytes(
      "0002 0001 0002",
      `c00c 0001 0001 0000012c 0004 c0000201                      # www A 192.0.2.1
       046576696c 0474657374 00 0001 0001 0000012c 0004 cb007142  # evil.test A 203.0.113.66
       c031 0002 0001 0000012c 0005 026e73 c031                  # evil.test NS ns.evil.test
       c056 0001 0001 0000012c 0004 cb007163                      # ns.evil.test A 203.0.113.99
       05 6f74686572 c036 0001 0001 0000012c 0004 cb007164        # other.test A 203.0.113.100`,
    ),
    answers: ["www.example.com A"],
    authorities: [],
    additionals: [],
    walked: false,
  },
  {
    name: "a CNAME chain, the target zone's NS and its glue",
    bytes: replyBytes(
      "0002 0001 0001",
      `c00c 0005 0001 0000012c 0011 0363646e 076578616d706c65 036e6574 00  # www CNAME cdn.example.net
       c02d 0001 0001 0000003c 0004 c0000207                                # cdn.example.net A 192.0.2.7
       c031 0002 0001 00000e10 0006 036e7331 c031                           # example.net NS ns1.example.net
       c05a 0001 0001 00000e10 0004 c0000235                                # ns1.example.net A 192.0.2.53`,
    ),
    answers: ["www.example.com CNAME", "cdn.example.net A"],
    authorities: ["example.net NS"],
    additionals: ["ns1.example.net A"],
    walked: true,
  },
  {
    // Kept, and put in the chain's order: some upstreams list the target first (nothing forbids it).
    name: "a CNAME chain out of order (the target's A before the CNAME)",
    bytes: replyBytes(
      "0002 0000 0000",
      `0363646e 076578616d706c65 036e6574 00 0001 0001 0000003c 0004 c0000207  # cdn.example.net A
       c00c 0005 0001 0000012c 0002 c021                                        # www CNAME cdn.example.net`,
    ),
    answers: ["www.example.com CNAME", "cdn.example.net A"],
    authorities: [],
    additionals: [],
    walked: false,
  },
  {
    name: "another type at the question name",
    bytes: replyBytes(
      "0002 0000 0000",
      `c00c 0001 0001 0000012c 0004 c0000201                           # www A 192.0.2.1
       c00c 001c 0001 0000012c 0010 20010db8000000000000000000000001   # www AAAA 2001:db8::1`,
    ),
    answers: ["www.example.com A"],
    authorities: [],
    additionals: [],
    walked: false,
  },
  {
    name: "NXDOMAIN with the zone's SOA and a foreign SOA",
    bytes: replyBytes(
      "0000 0002 0000",
      `c010 0006 0001 00000e10 0027 036e7331 c010 0a686f73746d6173746572 c010
            78a2e4f1 00001c20 00000384 00093a80 0000003c                # example.com SOA
       05 6f74686572 0474657374 00 0006 0001 00000e10 0018 c054 c054
            00000001 00001c20 00000384 00093a80 0000003c                # other.test SOA`,
      "0001",
      "3",
    ),
    answers: [],
    authorities: ["example.com SOA"],
    additionals: [],
    walked: false,
  },
  {
    name: "NXDOMAIN with the zone's SOA only",
    bytes: replyBytes(
      "0000 0001 0000",
      `c010 0006 0001 00000e10 0027 036e7331 c010 0a686f73746d6173746572 c010
            78a2e4f1 00001c20 00000384 00093a80 0000003c                # example.com SOA`,
      "0001",
      "3",
    ),
    answers: [],
    authorities: ["example.com SOA"],
    additionals: [],
    walked: true,
  },
  {
    name: "an NS below the question name (not a zone at or above it)",
    bytes: replyBytes(
      "0001 0001 0000",
      `c00c 0001 0001 0000012c 0004 c0000201           # www A 192.0.2.1
       03737562 c00c 0002 0001 00000e10 0002 c00c      # sub.www.example.com NS www.example.com`,
    ),
    answers: ["www.example.com A"],
    authorities: [],
    additionals: [],
    walked: false,
  },
  {
    name: "MX with the exchange's address kept and another host's dropped",
    bytes: replyBytes(
      "0001 0000 0002",
      `c00c 000f 0001 0000012c 0009 000a 046d61696c c010   # www MX 10 mail.example.com
       c02f 0001 0001 0000012c 0004 c0000219               # mail.example.com A 192.0.2.25
       04686f7374 c010 0001 0001 0000012c 0004 c000021a    # host.example.com A 192.0.2.26`,
      "000f",
    ),
    answers: ["www.example.com MX"],
    authorities: [],
    additionals: ["mail.example.com A"],
    walked: false,
  },
  {
    name: "signed: the RRSIG of the A kept, one of an AAAA not sent dropped, the zone's NSEC kept",
    bytes: SIGNED,
    answers: ["www.example.com A", "www.example.com RRSIG"],
    authorities: ["www.example.com NSEC"],
    additionals: [],
    walked: false,
  },
  {
    name: "signed, for a query sent with DO=0: no RRSIG and no NSEC (RFC 4035 section 3.2.1)",
    bytes: SIGNED,
    dnssecOk: false,
    answers: ["www.example.com A"],
    authorities: [],
    additionals: [],
    walked: false,
  },
  {
    name: "a DNAME, the CNAME synthesized from it, and the target's A",
    bytes: replyBytes(
      "0003 0000 0000",
      `c010 0027 0001 0000012c 000d 076578616d706c65 036e6574 00  # example.com DNAME example.net
       c00c 0005 0001 0000012c 0006 03777777 c02d                # www CNAME www.example.net (at 0x46)
       c046 0001 0001 0000012c 0004 c0000208                     # www.example.net A 192.0.2.8`,
    ),
    answers: ["example.com DNAME", "www.example.com CNAME", "www.example.net A"],
    authorities: [],
    additionals: [],
    walked: false,
    whole: true,
  },
  {
    name: "DNAME asked for at its own name: the DNAME is the answer (it redirects only names below)",
    bytes: replyBytes(
      "0001 0000 0000",
      `c00c 0027 0001 0000012c 000d 076578616d706c65 036e6574 00  # www DNAME example.net`,
      "0027",
    ),
    answers: ["www.example.com DNAME"],
    authorities: [],
    additionals: [],
    walked: false,
    whole: true,
  },
  {
    name: "a DNAME at the name asked, for another type: not part of the answer",
    bytes: replyBytes(
      "0001 0000 0000",
      `c00c 0027 0001 0000012c 000d 076578616d706c65 036e6574 00  # www DNAME example.net`,
    ),
    answers: [],
    authorities: [],
    additionals: [],
    walked: false,
  },
  {
    name: "RRSIG asked for: the signatures are the answer",
    bytes: SIGNATURE_ASKED,
    answers: ["www.example.com RRSIG"],
    authorities: [],
    additionals: [],
    walked: false,
    whole: true,
  },
  {
    name: "RRSIG asked for with DO=0: still the answer, as the type asked",
    bytes: SIGNATURE_ASKED,
    dnssecOk: false,
    answers: ["www.example.com RRSIG"],
    authorities: [],
    additionals: [],
    walked: false,
    whole: true,
  },
];

for (const vector of vectors) {
  test(`scrubReply() keeps only what answers the question: ${vector.name}`, () => {
    const decoded = decodeMessage(vector.bytes);
    const question: Question = decoded.questions[0]!;
    const scrubbed = scrubReply(decoded, question, vector.dnssecOk ?? true);
    deepEqual(shown(scrubbed.answers), vector.answers, "answer");
    deepEqual(shown(scrubbed.authorities), vector.authorities, "authority");
    deepEqual(shown(scrubbed.additionals), vector.additionals, "additional");
    equal(
      scrubbed === decoded,
      vector.whole ?? vector.walked,
      "the same message exactly when nothing was removed",
    );
  });

  test(`scanAnswer() keeps the bytes only when scrubbing removes nothing: ${vector.name}`, () => {
    equal(scanAnswer(vector.bytes) !== null, vector.walked);
  });
}

const TOP_BIT_TTLS = [
  { ttl: 0, read: 0 },
  { ttl: 300, read: 300 },
  { ttl: 0x7fffffff, read: 0x7fffffff },
  { ttl: 0x80000000, read: 0 },
  { ttl: 0x80000001, read: 0 },
  { ttl: 0xffffffff, read: 0 },
];

for (const { ttl, read } of TOP_BIT_TTLS) {
  test(`receivedTtl() reads ${ttl.toString(16)} as ${read} (RFC 2181 section 8)`, () => {
    equal(receivedTtl(ttl), read);
  });
}

test("a TTL with the top bit set goes to the decoder, and scrubbing makes it 0", () => {
  const bytes = replyBytes(
    "0001 0000 0001",
    `c00c 0001 0001 80000001 0004 c0000201   # www A 192.0.2.1, TTL 0x80000001
     00 0029 04d0 00000000 0000              # OPT`,
  );
  equal(scanAnswer(bytes), null);
  const decoded = decodeMessage(bytes);
  equal(decoded.answers[0]!.ttl, 0x80000001);
  const scrubbed = scrubReply(decoded, decoded.questions[0]!);
  deepEqual(scrubbed.answers.map((record) => record.ttl), [0]);
  ok(scrubbed.edns, "EDNS is kept apart, untouched");
});

/** Names the generated replies draw on: the question's, its zone and parents, and strangers. */
const NAMES = [
  "www.example.com",
  "example.com",
  "com",
  "mail.example.com",
  "cdn.example.net",
  "example.net",
  "ns1.example.net",
  "other.test",
];
const someName = fc.constantFrom(...NAMES);
/** Owners: mostly the question's name and its zone, so that many replies have nothing to scrub. */
const owner = fc.oneof(
  { arbitrary: fc.constant("www.example.com"), weight: 6 },
  { arbitrary: fc.constant("example.com"), weight: 2 },
  { arbitrary: someName, weight: 1 },
);
const generatedRData: fc.Arbitrary<RData> = fc.oneof(
  fc.constant<RData>({ type: "A", address: "192.0.2.1" }),
  fc.constant<RData>({ type: "AAAA", address: "2001:db8::1" }),
  someName.map((host): RData => ({ type: "NS", host })),
  someName.map((target): RData => ({ type: "CNAME", target })),
  someName.map((exchange): RData => ({ type: "MX", preference: 10, exchange })),
  someName.map((mname): RData => ({
    type: "SOA",
    mname,
    rname: `hostmaster.${mname}`,
    serial: 1,
    refresh: 7200,
    retry: 900,
    expire: 604800,
    minimum: 60,
  })),
);
const generatedRecord: fc.Arbitrary<ResourceRecord> = fc.record({
  name: owner,
  class: fc.constant(RRClass.IN),
  ttl: fc.constantFrom(300, 300, 300, 300, 300, 300, 300, 0x80000001),
  data: generatedRData,
});
const section = fc.array(generatedRecord, { maxLength: 3 });

/**
 * Whether the answers come in the chain's order as the one-pass walk of scanAnswer() reads it: each
 * record at the name the chain has reached so far, a CNAME moving it on.
 */
function inWalkOrder(answers: readonly ResourceRecord[], name: string): boolean {
  let current = name;
  for (const record of answers) {
    if (record.name !== current) return false;
    if (record.data.type === "CNAME") current = record.data.target;
  }
  return true;
}

test("scanAnswer() keeps a reply's bytes exactly when scrubReply() would leave it whole (seed 20261205)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(RRType.A, RRType.AAAA, RRType.MX, RRType.NS, RRType.CNAME, RRType.SOA, RRType.ANY),
      fc.constantFrom(Rcode.NOERROR, Rcode.NXDOMAIN),
      section,
      section,
      section,
      (type, rcode, answers, authorities, additionals) => {
        const request = query({ name: "www.example.com", type }, { id: 0x1234 });
        const bytes = encodeMessage(reply(request, { rcode, answers, authorities, additionals }));
        const decoded = decodeMessage(bytes);
        const whole = scrubReply(decoded, decoded.questions[0]!) === decoded;
        const scanned = scanAnswer(bytes) !== null;
        // Never kept as bytes when scrubbing would change it; and kept as bytes whenever it would not,
        // except a chain out of the walk's order, which the decoder's path serves (reordered or not).
        if (scanned) equal(whole, true);
        else if (whole) equal(inWalkOrder(answers, "www.example.com"), false);
      },
    ),
    { seed: 20261205, numRuns: 3_000 },
  );
});
