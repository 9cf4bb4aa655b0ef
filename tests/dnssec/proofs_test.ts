import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { compareHashes, nsec3Hash } from "../../lib/dnssec/mod.ts";
import {
  type Nsec,
  nsecCutProof,
  nsecProvesNodata,
  nsecProvesNxdomain,
} from "../../lib/dnssec/nsec_proof.ts";
import {
  nsec3CutProof,
  nsec3ProvesNodata,
  nsec3ProvesNxdomain,
  nsec3ProvesWildcard,
  type Nsec3Set,
  nsec3Unusable,
} from "../../lib/dnssec/nsec3_proof.ts";
import { RRType } from "../../lib/proto/mod.ts";

const { A, NS, SOA, MX, DS, AAAA, DNSKEY, RRSIG, NSEC, NSEC3PARAM, CNAME } = RRType;
const HINFO = 13; // no row in RRType: the code is all these tests need

// RFC 4035 appendix A: the names of the example zone, in canonical order, with their types.
const zone4035: readonly [string, number[]][] = [
  ["example", [NS, SOA, MX, RRSIG, NSEC, DNSKEY]],
  ["a.example", [NS, DS, RRSIG, NSEC]],
  ["ai.example", [A, HINFO, AAAA, RRSIG, NSEC]],
  ["b.example", [NS, RRSIG, NSEC]],
  ["ns1.example", [A, RRSIG, NSEC]],
  ["ns2.example", [A, RRSIG, NSEC]],
  ["*.w.example", [MX, RRSIG, NSEC]],
  ["x.w.example", [MX, RRSIG, NSEC]],
  ["x.y.w.example", [MX, RRSIG, NSEC]],
  ["xx.example", [A, HINFO, AAAA, RRSIG, NSEC]],
];
const nsecs: Nsec[] = zone4035.map(([owner, types], i) => ({
  owner,
  next: zone4035[(i + 1) % zone4035.length]![0],
  types,
}));

// RFC 4035 appendix B's responses, and what each proves.
const nsecCases = [
  { what: "B.2 name error: ml.example", proof: () => nsecProvesNxdomain(nsecs, "ml.example"), ok: true },
  {
    what: "name error for an existing name",
    proof: () => nsecProvesNxdomain(nsecs, "ai.example"),
    ok: false,
  },
  { what: "B.3 no data: ns1.example/MX", proof: () => nsecProvesNodata(nsecs, "ns1.example", MX), ok: true },
  { what: "no data for a type present", proof: () => nsecProvesNodata(nsecs, "ns1.example", A), ok: false },
  {
    what: "B.7 wildcard no data: a.z.w.example/AAAA",
    proof: () => nsecProvesNodata(nsecs, "a.z.w.example", AAAA),
    ok: true,
  },
  {
    what: "wildcard no data for the wildcard's type",
    proof: () => nsecProvesNodata(nsecs, "a.z.w.example", MX),
    ok: false,
  },
  {
    what: "no data at the empty non-terminal y.w.example",
    proof: () => nsecProvesNodata(nsecs, "y.w.example", A),
    ok: true,
  },
  {
    what: "no A at the delegation b.example",
    proof: () => nsecProvesNodata(nsecs, "b.example", A),
    ok: false,
  },
  {
    what: "no DS at the delegation b.example",
    proof: () => nsecProvesNodata(nsecs, "b.example", DS),
    ok: true,
  },
  // RFC 4035 B.8: a DS denial from the child's own apex NSEC (SOA set) proves nothing about the parent.
  {
    what: "no DS at example by its apex NSEC",
    proof: () => nsecProvesNodata(nsecs, "example", DS),
    ok: false,
  },
] as const;

for (const { what, proof, ok } of nsecCases) {
  test(`NSEC over RFC 4035's example zone: ${what} is ${ok ? "proven" : "not proven"}`, () => {
    equal(proof() === null, ok, String(proof()));
  });
}

test("nsecCutProof() tells an unsigned delegation, a signed one and no cut apart", () => {
  equal(nsecCutProof(nsecs, "b.example"), "insecure-delegation");
  deepEqual(nsecCutProof(nsecs, "a.example"), { failed: "the NSEC at a.example lists DS" });
  equal(nsecCutProof(nsecs, "ai.example"), "no-cut");
  equal(nsecCutProof(nsecs, "w.example"), "no-cut"); // an empty non-terminal: covered
  equal(nsecCutProof(nsecs, "c.example"), "no-cut"); // no such name
  deepEqual(nsecCutProof([], "c.example"), { failed: "no NSEC matches or covers c.example" });
});

// RFC 5155 appendix A: the names of the example zone (empty non-terminals have NSEC3 records too),
// hashed with its salt aabbccdd and 12 iterations; opt-out set where a case asks.
const zone5155: readonly [string, number[]][] = [
  ["example", [NS, SOA, MX, RRSIG, DNSKEY, NSEC3PARAM]],
  ["a.example", [NS, DS, RRSIG]],
  ["ai.example", [A, HINFO, AAAA, RRSIG]],
  ["ns1.example", [A, RRSIG]],
  ["ns2.example", [A, RRSIG]],
  ["w.example", []],
  ["*.w.example", [MX, RRSIG]],
  ["x.w.example", [MX, RRSIG]],
  ["y.w.example", []],
  ["x.y.w.example", [MX, RRSIG]],
  ["xx.example", [A, HINFO, AAAA, RRSIG]],
];
const salt = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd);

function nsec3Zone(optOut: boolean, iterations = 12): Nsec3Set {
  const hashed = zone5155.map(([name, types]) => ({ hash: nsec3Hash(name, salt, 12), types }))
    .sort((a, b) => compareHashes(a.hash, b.hash));
  return {
    salt,
    iterations,
    records: hashed.map(({ hash, types }, i) => ({
      hash,
      data: {
        type: "NSEC3",
        hashAlgorithm: 1,
        flags: optOut ? 1 : 0,
        iterations,
        salt,
        nextHashedOwnerName: hashed[(i + 1) % hashed.length]!.hash,
        types,
      },
    })),
  };
}

const plain = nsec3Zone(false);
const optOut = nsec3Zone(true);

const nsec3Cases = [
  {
    what: "B.1 name error: a.c.x.w.example",
    got: () => nsec3ProvesNxdomain(plain, "a.c.x.w.example", "example"),
    want: "proven",
  },
  {
    what: "name error under opt-out",
    got: () => nsec3ProvesNxdomain(optOut, "a.c.x.w.example", "example"),
    want: "opt-out",
  },
  {
    what: "name error for an existing name",
    got: () => nsec3ProvesNxdomain(plain, "ns1.example", "example"),
    fails: true,
  },
  {
    what: "B.2 no data: ns1.example/MX",
    got: () => nsec3ProvesNodata(plain, "ns1.example", MX, "example"),
    want: "proven",
  },
  {
    what: "no data for a type present",
    got: () => nsec3ProvesNodata(plain, "ns1.example", A, "example"),
    fails: true,
  },
  {
    what: "B.2.1 no data at the empty non-terminal y.w.example",
    got: () => nsec3ProvesNodata(plain, "y.w.example", A, "example"),
    want: "proven",
  },
  {
    what: "B.5 wildcard no data: a.z.w.example/AAAA",
    got: () => nsec3ProvesNodata(plain, "a.z.w.example", AAAA, "example"),
    want: "proven",
  },
  {
    what: "wildcard no data for a CNAME",
    got: () => nsec3ProvesNodata(plain, "a.z.w.example", CNAME, "example"),
    want: "proven",
  },
  {
    what: "wildcard no data for the wildcard's type",
    got: () => nsec3ProvesNodata(plain, "a.z.w.example", MX, "example"),
    fails: true,
  },
  {
    what: "B.4 wildcard expansion of a.z.w.example",
    got: () => nsec3ProvesWildcard(plain, "a.z.w.example", 2),
    want: "proven",
  },
  {
    what: "a wildcard expansion of an existing name",
    got: () => nsec3ProvesWildcard(plain, "x.w.example", 2),
    fails: true,
  },
  {
    what: "B.3 no DS at c.example under opt-out",
    got: () => nsec3ProvesNodata(optOut, "c.example", DS, "example"),
    want: "opt-out",
  },
  {
    what: "no DS at c.example without opt-out",
    got: () => nsec3ProvesNodata(plain, "c.example", DS, "example"),
    fails: true,
  },
  {
    what: "no A at the delegation a.example",
    got: () => nsec3ProvesNodata(plain, "a.example", A, "example"),
    fails: true,
  },
] as const;

for (const c of nsec3Cases) {
  const expected = "want" in c ? c.want : "a failure";
  test(`NSEC3 over RFC 5155's example zone: ${c.what} gives ${expected}`, () => {
    const got = c.got();
    if ("want" in c) equal(got, c.want, JSON.stringify(got));
    else equal(typeof got, "object", JSON.stringify(got));
  });
}

test("nsec3CutProof() and nsec3Unusable() read a delegation and the iteration limit", () => {
  deepEqual(nsec3CutProof(plain, "a.example", "example"), { failed: "the NSEC3 of a.example lists DS" });
  equal(nsec3CutProof(plain, "ai.example", "example"), "no-cut");
  equal(nsec3CutProof(plain, "c.example", "example"), "no-cut");
  equal(nsec3CutProof(optOut, "c.example", "example"), "insecure-delegation");
  equal(nsec3Unusable(plain), null);
  equal(nsec3Unusable(nsec3Zone(false, 150)), null);
  equal(nsec3Unusable(nsec3Zone(false, 151)), "NSEC3 with 151 iterations (over 150, RFC 9276)");
});
