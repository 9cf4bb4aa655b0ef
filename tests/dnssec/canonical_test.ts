import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { compareNames, nsec3Hash, ownerHash } from "../../lib/dnssec/mod.ts";
import { canonicalName, formatBase32Hex } from "../../lib/proto/mod.ts";

test("canonicalName() lower-cases every label octet, escaped ones too", () => {
  deepEqual([...canonicalName("Www.EXample.")], [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 0]);
  deepEqual([...canonicalName("\\065b")], [2, 97, 98, 0]);
  deepEqual([...canonicalName("")], [0]);
});

test("compareNames() sorts RFC 4034 section 6.1's example in its order", () => {
  const sorted = [
    "example",
    "a.example",
    "yljkjljk.a.example",
    "Z.a.example",
    "zABC.a.EXAMPLE",
    "z.example",
    "\\001.z.example",
    "*.z.example",
    "\\200.z.example",
  ];
  const shuffled = [...sorted].reverse();
  shuffled.push(shuffled.shift()!);
  deepEqual(shuffled.sort(compareNames), sorted);
  equal(compareNames("Example.", "example"), 0);
});

test("nsec3Hash() gives RFC 5155 appendix A's hashes (salt aabbccdd, 12 iterations)", () => {
  const salt = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd);
  const cases: [string, string][] = [
    ["example", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"],
    ["a.example", "35mthgpgcu1qg68fab165klnsnk3dpvl"],
    ["ai.example", "gjeqe526plbf1g8mklp59enfd789njgi"],
    ["ns1.example", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"],
    ["x.y.w.example", "2vptu5timamqttgl4luu9kg21e0aor3s"],
  ];
  for (const [name, hash] of cases) equal(formatBase32Hex(nsec3Hash(name, salt, 12)), hash, name);
  equal(
    formatBase32Hex(ownerHash("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM.example")!),
    "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
  );
  equal(ownerHash("www.example"), null);
});
