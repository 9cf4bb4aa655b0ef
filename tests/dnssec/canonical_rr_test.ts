import { test } from "../_limit.ts";
import { deepEqual } from "node:assert/strict";
import { canonicalRData, signedData } from "../../lib/dnssec/mod.ts";
import type { RData, ResourceRecord } from "../../lib/proto/mod.ts";
import { hex } from "../_hex.ts";

// RFC 4034 section 6.2 item 3 (names lower-cased, never compressed) and RFC 6840 section 5.1 (NSEC's kept).
const rdataCases: readonly { name: string; data: RData; wire: Uint8Array }[] = [
  {
    name: "SOA: both names lower-cased, RNAME not compressed against MNAME",
    data: {
      type: "SOA",
      mname: "NS.Ex",
      rname: "H.EX",
      serial: 1,
      refresh: 2,
      retry: 3,
      expire: 4,
      minimum: 5,
    },
    wire: hex`02 6e73 02 6578 00   01 68 02 6578 00   00000001 00000002 00000003 00000004 00000005`,
  },
  {
    name: "MX: the exchange lower-cased",
    data: { type: "MX", preference: 10, exchange: "Mail.EX" },
    wire: hex`000a 04 6d61696c 02 6578 00`,
  },
  {
    name: "CNAME: the target lower-cased",
    data: { type: "CNAME", target: "WWW.ex" },
    wire: hex`03 777777 02 6578 00`,
  },
  {
    name: "NSEC: the next name keeps its case (RFC 6840 section 5.1)",
    data: { type: "NSEC", nextDomainName: "B.ex", types: [1] },
    wire: hex`01 42 02 6578 00   00 01 40`,
  },
  { name: "A: as on the wire", data: { type: "A", address: "192.0.2.1" }, wire: hex`c0000201` },
];

for (const { name, data, wire } of rdataCases) {
  test(`canonicalRData() writes ${name}`, () => {
    deepEqual(canonicalRData(data), wire);
  });
}

const sig = {
  type: "RRSIG",
  typeCovered: 1,
  algorithm: 13,
  labels: 2,
  originalTtl: 3600,
  expiration: 0x5f000000,
  inception: 0x5e000000,
  keyTag: 0x1234,
  signerName: "EX",
  signature: new Uint8Array(),
} as const;

function a(name: string, ttl: number, address: string): ResourceRecord {
  return { name, class: 1, ttl, data: { type: "A", address } };
}

test("signedData() writes RRSIG fields, a wildcard owner, the original TTL, sorted RDATA without duplicates", () => {
  // x.Y.wild.ex was expanded from *.wild.ex (labels 2 of 4): the owner signed is *.wild.ex.
  const rrset = [
    a("x.Y.wild.ex", 60, "192.0.2.2"),
    a("x.Y.wild.ex", 60, "192.0.2.1"),
    a("x.Y.wild.ex", 60, "192.0.2.2"),
  ];
  const owner = hex`01 2a 04 77696c64 02 6578 00`;
  const head = hex`0001 0001 00000e10 0004`; // A IN, TTL 3600 (the original), RDLENGTH 4
  deepEqual(
    signedData(rrset, sig),
    new Uint8Array([
      ...hex`0001 0d 02 00000e10 5f000000 5e000000 1234 02 6578 00`, // the RRSIG RDATA, signer lower-cased
      ...owner,
      ...head,
      ...hex`c0000201`,
      ...owner,
      ...head,
      ...hex`c0000202`,
    ]),
  );
});
