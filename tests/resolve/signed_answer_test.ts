/**
 * resolveLocal() with DO=1 on a zone signed by ldns-signzone: which RRSIGs and which NSEC/NSEC3
 * records each kind of answer carries (RFC 4035 section 3.1, RFC 5155 section 7.2). The differential
 * test against NSD (tests/interop/dnssec_serving_test.ts) checks the same on the wire.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual } from "node:assert/strict";
import { resolveLocal } from "../../lib/resolve/authority.ts";
import { buildLocalData, type LocalData } from "../../lib/zone/local_data.ts";
import { buildZone } from "../../lib/zone/zone.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { nsec3Hash } from "../../lib/dnssec/mod.ts";
import { formatBase32Hex, type ResourceRecord, RRType, typeCode, typeName } from "../../lib/proto/mod.ts";
import { needsPermissions } from "../_tools.ts";

const DIR = new URL("../testdata/zones/signed/", import.meta.url).pathname;

async function signedData(file: string): Promise<LocalData> {
  const path = DIR + file;
  const zone = buildZone(
    await parseZoneFile(path, { read: (p) => Deno.readTextFile(p) }),
    path,
    "example.test.",
  );
  return buildLocalData({ zones: [zone], hosts: [], mappings: [] });
}

/** A record as `owner TYPE` (an RRSIG as `owner RRSIG(COVERED)`), owners relative to the zone. */
function brief(record: ResourceRecord): string {
  const owner = record.name.replace(/\.?example\.test\.?$/i, "").toLowerCase() || "@";
  const data = record.data;
  const type = data.type === "RRSIG" ? `RRSIG(${typeName(data.typeCovered)})` : typeName(typeCode(data));
  return `${owner} ${type}`;
}

/** The NSEC3 owner label of `name` in the test zones (salt abcd, 3 iterations). */
function h(name: string): string {
  return formatBase32Hex(nsec3Hash(`${name}.example.test`.replace(/^@\./, ""), Uint8Array.of(0xab, 0xcd), 3));
}

interface Case {
  readonly name: string;
  readonly qname: string;
  readonly qtype: number;
  readonly rcode: number;
  readonly answers: readonly string[];
  readonly authorities: readonly string[];
}

const NXDOMAIN = 3;

/** The NSEC zone: owners in canonical order are @ alias a.b.deep mail ns1 ns.sub sub txt unsigned *.wild www. */
const NSEC_CASES: readonly Case[] = [
  {
    name: "positive",
    qname: "www",
    qtype: RRType.A,
    rcode: 0,
    answers: ["www A", "www RRSIG(A)"],
    authorities: [],
  },
  {
    name: "CNAME to a name in the zone",
    qname: "alias",
    qtype: RRType.A,
    rcode: 0,
    answers: ["alias CNAME", "alias RRSIG(CNAME)", "www A", "www RRSIG(A)"],
    authorities: [],
  },
  {
    name: "NODATA: the name's own NSEC",
    qname: "www",
    qtype: RRType.TXT,
    rcode: 0,
    answers: [],
    authorities: ["@ SOA", "@ RRSIG(SOA)", "www NSEC", "www RRSIG(NSEC)"],
  },
  {
    name: "NXDOMAIN: the NSEC covering the name and the one covering the wildcard",
    qname: "nothere",
    qtype: RRType.A,
    rcode: NXDOMAIN,
    answers: [],
    authorities: ["@ SOA", "@ RRSIG(SOA)", "mail NSEC", "mail RRSIG(NSEC)", "@ NSEC", "@ RRSIG(NSEC)"],
  },
  {
    name: "empty non-terminal: the NSEC before it covers it",
    qname: "b.deep",
    qtype: RRType.A,
    rcode: 0,
    answers: [],
    authorities: ["@ SOA", "@ RRSIG(SOA)", "alias NSEC", "alias RRSIG(NSEC)"],
  },
  {
    name: "wildcard answer: the NSEC proving the name itself absent",
    qname: "x.wild",
    qtype: RRType.A,
    rcode: 0,
    answers: ["x.wild A", "x.wild RRSIG(A)"],
    authorities: ["*.wild NSEC", "*.wild RRSIG(NSEC)"],
  },
  {
    name: "wildcard NODATA: the covering NSEC, which here is the wildcard's own",
    qname: "x.wild",
    qtype: RRType.TXT,
    rcode: 0,
    answers: [],
    authorities: ["@ SOA", "@ RRSIG(SOA)", "*.wild NSEC", "*.wild RRSIG(NSEC)"],
  },
  {
    name: "referral to a signed delegation: the DS and its RRSIG",
    qname: "www.sub",
    qtype: RRType.A,
    rcode: 0,
    answers: [],
    authorities: ["sub NS", "sub DS", "sub RRSIG(DS)"],
  },
  {
    name: "referral to an unsigned delegation: the NSEC at the cut proves no DS",
    qname: "unsigned",
    qtype: RRType.A,
    rcode: 0,
    answers: [],
    authorities: ["unsigned NS", "unsigned NSEC", "unsigned RRSIG(NSEC)"],
  },
  {
    name: "DS at the signed cut: answered from the parent side",
    qname: "sub",
    qtype: RRType.DS,
    rcode: 0,
    answers: ["sub DS", "sub RRSIG(DS)"],
    authorities: [],
  },
  {
    name: "DS at the unsigned cut: NODATA with the cut's NSEC",
    qname: "unsigned",
    qtype: RRType.DS,
    rcode: 0,
    answers: [],
    authorities: ["@ SOA", "@ RRSIG(SOA)", "unsigned NSEC", "unsigned RRSIG(NSEC)"],
  },
];

/** The NSEC3 zone: the same questions, NSEC3 proofs (RFC 5155 sections 7.2.1-7.2.6). */
function nsec3Cases(): Case[] {
  const proof = (owner: string) => [`${owner} NSEC3`, `${owner} RRSIG(NSEC3)`];
  return [
    { ...NSEC_CASES[0]! },
    {
      ...NSEC_CASES[2]!,
      authorities: ["@ SOA", "@ RRSIG(SOA)", ...proof(h("www"))],
    },
    {
      ...NSEC_CASES[4]!,
      authorities: ["@ SOA", "@ RRSIG(SOA)", ...proof(h("b.deep"))],
    },
    {
      ...NSEC_CASES[8]!,
      authorities: ["unsigned NS", ...proof(h("unsigned"))],
    },
  ];
}

for (
  const [file, cases] of [["nsec.example.test.zone", NSEC_CASES], [
    "nsec3.example.test.zone",
    nsec3Cases(),
  ]] as const
) {
  test(
    needsPermissions(["read"], `resolveLocal() with DO=1 on ${file}: each answer's RRSIGs and proofs`),
    async (t) => {
      const data = await signedData(file);
      for (const c of cases) {
        await t.step(c.name, () => {
          const qname = `${c.qname}.example.test`;
          const local = resolveLocal(data, qname, c.qtype, true)!;
          deepEqual(
            {
              rcode: local.rcode,
              answers: local.answers.map(brief),
              authorities: local.authorities.map(brief),
            },
            { rcode: c.rcode, answers: c.answers, authorities: c.authorities },
          );
          // Without DO, nothing DNSSEC is added to what was not asked for by type.
          const plain = resolveLocal(data, qname, c.qtype, false)!;
          const added = [...plain.answers, ...plain.authorities].filter(({ data }) =>
            ["RRSIG", "NSEC", "NSEC3"].includes(data.type) || (data.type === "DS" && c.qtype !== RRType.DS)
          );
          deepEqual(added.map(brief), []);
        });
      }
    },
  );
}
