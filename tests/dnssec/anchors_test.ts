import { test } from "../_limit.ts";
import { deepEqual, equal, throws } from "node:assert/strict";
import { dsDigest, keyTag, parseTrustAnchors, ROOT_ANCHORS } from "../../lib/dnssec/mod.ts";
import { ParseError } from "../../lib/proto/mod.ts";

// The root's KSK-2017 as IANA publishes it (root-anchors.xml): its DS must be ROOT_ANCHORS' first.
const KSK_2017 =
  `. 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRix
HlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3
rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6
+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=`.replaceAll("\n", "");

test("ROOT_ANCHORS are KSK-2017 and KSK-2024, and KSK-2017's DNSKEY hashes to the first", async () => {
  deepEqual(ROOT_ANCHORS.map((r) => r.data.type === "DS" && [r.name, r.data.keyTag, r.data.digestType]), [
    ["", 20326, 2],
    ["", 38696, 2],
  ]);
  const [key] = parseTrustAnchors(KSK_2017, "ksk2017.key");
  if (key?.data.type !== "DNSKEY") throw new Error("not a DNSKEY");
  equal(keyTag(key.data), 20326);
  const first = ROOT_ANCHORS[0]!.data;
  deepEqual(await dsDigest("", key.data, 2), first.type === "DS" ? first.digest : null);
});

test("parseTrustAnchors() reads unbound's trust-anchor-file form", () => {
  const text = `; anchors for a lab
$TTL 3600
$ORIGIN example.
@ IN DS 55648 13 2 b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17 ; example.net's digest
lab 600 DNSKEY 257 3 15 ( l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )
other.test. DS 1 8 2 00ff
`;
  const anchors = parseTrustAnchors(text, "lab.anchors");
  deepEqual(anchors.map((r) => [r.name, r.ttl, r.data.type]), [
    ["example", 3600, "DS"],
    ["lab.example", 600, "DNSKEY"],
    ["other.test", 3600, "DS"],
  ]);
});

const broken = [
  { name: "another type", text: "example. IN A 192.0.2.1\n", line: 1 },
  { name: "a relative owner with no $ORIGIN", text: "; c\nexample IN DS 1 8 2 00ff\n", line: 2 },
  { name: "a bad digest", text: "\nexample. IN DS 1 8 2 zz\n", line: 2 },
  { name: "a DNSKEY without its key", text: "example. DNSKEY 257 3 8\n", line: 1 },
] as const;

for (const { name, text, line } of broken) {
  test(`parseTrustAnchors() rejects ${name} with its file and line`, () => {
    throws(
      () => parseTrustAnchors(text, "bad.anchors"),
      (error) =>
        error instanceof ParseError && error.location.file === "bad.anchors" && error.location.line === line,
    );
  });
}
