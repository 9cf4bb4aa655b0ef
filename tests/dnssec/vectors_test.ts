import { test } from "../_limit.ts";
import { equal } from "node:assert/strict";
import { dsDigest, keyTag, SignatureVerifier, signedData } from "../../lib/dnssec/mod.ts";
import type { RData } from "../../lib/proto/mod.ts";
import { parseHex } from "../_hex.ts";
import { records } from "./_zone_text.ts";

type Dnskey = Extract<RData, { type: "DNSKEY" }>;
type Rrsig = Extract<RData, { type: "RRSIG" }>;

// Key tags and DS digests the RFCs print beside their example keys.
const dsVectors = [
  {
    rfc: "RFC 4034 section 5.4 (SHA-1)",
    record: `dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/
      2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc
      nOf+EPbtG9DMBmADjFDc2w/rljwvFw==`,
    tag: 60485,
    digestType: 1,
    digest: "2BB183AF5F22588179A53B0A98631FAD1A292118",
  },
  {
    rfc: "RFC 4509 section 2.3 (SHA-256)",
    record: `dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/
      2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc
      nOf+EPbtG9DMBmADjFDc2w/rljwvFw==`,
    tag: 60485,
    digestType: 2,
    digest: "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
  },
  {
    rfc: "RFC 6605 section 6.1 (P-256, SHA-256)",
    record: `example.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb
      krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==`,
    tag: 55648,
    digestType: 2,
    digest: "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
  },
  {
    rfc: "RFC 6605 section 6.2 (P-384, SHA-384)",
    record: `example.net. 3600 IN DNSKEY 257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/eg
      sXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40`,
    tag: 10771,
    digestType: 4,
    digest:
      "72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6",
  },
  {
    rfc: "RFC 8080 section 6.1 (Ed25519, SHA-256)",
    record: `example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=`,
    tag: 3613,
    digestType: 2,
    digest: "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b",
  },
] as const;

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "");
}

for (const { rfc, record, tag, digestType, digest } of dsVectors) {
  test(`keyTag() and dsDigest() give ${rfc}'s tag and digest`, async () => {
    const [key] = await records(oneLine(record));
    const data = key!.data as Dnskey;
    equal(keyTag(data), tag);
    const mine = await dsDigest(key!.name, data, digestType);
    equal([...mine!].map((octet) => octet.toString(16).padStart(2, "0")).join(""), digest.toLowerCase());
  });
}

// Signed RRsets from the RFCs: the key, the RRset and its RRSIG, all as published.
const signatures = [
  {
    rfc: "RFC 5702 section 6.1 (RSASHA256)",
    zone: `example.net. 3600 IN DNSKEY 256 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36Bponc
        wtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=
      www.example.net. 3600 IN A 192.0.2.91
      www.example.net. 3600 IN RRSIG A 8 3 3600 20300101000000 20000101000000 9033 example.net. kRCOH6u
        7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==`,
  },
  {
    rfc: "RFC 5702 section 6.2 (RSASHA512)",
    zone: `example.net. 3600 IN DNSKEY 256 3 10 AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83nSVXXyLA3DLroROUkN6X0
        O6pnWnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3
        PFY12ZTSncorffcGmhOL
      www.example.net. 3600 IN A 192.0.2.91
      www.example.net. 3600 IN RRSIG A 10 3 3600 20300101000000 20000101000000 3740 example.net. tsb4wn
        jRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJ
        RfDqfReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=`,
  },
  {
    rfc: "RFC 6605 section 6.1 (ECDSAP256SHA256)",
    zone: `example.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbc
        B7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==
      www.example.net. 3600 IN A 192.0.2.1
      www.example.net. 3600 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648 example.net. qx6wL
        Yqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==`,
  },
  {
    rfc: "RFC 6605 section 6.2 (ECDSAP384SHA384)",
    zone: `example.net. 3600 IN DNSKEY 257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJ
        hyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40
      www.example.net. 3600 IN A 192.0.2.1
      www.example.net. 3600 IN RRSIG A 14 3 3600 20100909102025 20100812102025 10771 example.net. /L5hD
        KIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5b
        dcJzusdnI0RSMROxxwGipWcJm`,
  },
] as const;

/** The zone text with each record's continuation lines (indented by 8) joined to it. */
function joinRecords(text: string): string {
  return text.replace(/\n {8}/g, "").replace(/\n\s+/g, "\n");
}

for (const { rfc, zone } of signatures) {
  test(`SignatureVerifier checks ${rfc}'s signature, and refuses it over other data`, async () => {
    const all = await records(joinRecords(zone));
    const key = all.find((record) => record.data.type === "DNSKEY")!.data as Dnskey;
    const rrset = all.filter((record) => record.data.type === "A");
    const sig = all.find((record) => record.data.type === "RRSIG")!.data as Rrsig;
    equal(keyTag(key), sig.keyTag);
    const verifier = new SignatureVerifier();
    const data = signedData(rrset, sig);
    equal(await verifier.verify(key.algorithm, key.publicKey, sig.signature, data), true);
    const changed = data.slice();
    changed[changed.length - 1]! ^= 1;
    equal(await verifier.verify(key.algorithm, key.publicKey, sig.signature, changed), false);
    const flipped = sig.signature.slice();
    flipped[5]! ^= 0x40;
    equal(await verifier.verify(key.algorithm, key.publicKey, flipped, data), false);
  });
}

// RFC 8080 section 6.1's private key (the example signatures there do not verify, see errata): the key
// the seed gives must be the DNSKEY printed, and what WebCrypto signs with it must verify here.
test("SignatureVerifier checks an Ed25519 signature made with RFC 8080 section 6.1's key", async () => {
  const seed = Uint8Array.from(atob("ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI="), (c) => c.charCodeAt(0));
  const pkcs8 = new Uint8Array([...parseHex("302e020100300506032b657004220420"), ...seed]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  equal(jwk.x, "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4");
  const all = await records(`example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=
example.com. 3600 IN MX 10 mail.example.com.`);
  const key = all[0]!.data as Dnskey;
  const sig: Rrsig = {
    type: "RRSIG",
    typeCovered: 15,
    algorithm: 15,
    labels: 2,
    originalTtl: 3600,
    expiration: 1440021600,
    inception: 1438207200,
    keyTag: keyTag(key),
    signerName: "example.com",
    signature: new Uint8Array(),
  };
  const data = signedData([all[1]!], sig);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, new Uint8Array(data)));
  const verifier = new SignatureVerifier();
  equal(await verifier.verify(15, key.publicKey, signature, data), true);
  signature[0]! ^= 1;
  equal(await verifier.verify(15, key.publicKey, signature, data), false);
});
