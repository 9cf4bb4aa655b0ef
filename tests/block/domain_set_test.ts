/**
 * The matcher: suffix matching on label boundaries, case, the trailing dot, escaped dots, hash
 * slots shared by two names, and the precedence of blocklist and allowlist (the most specific
 * entry wins; the allowlist wins a tie).
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { DomainSet, isBlocked } from "../../lib/block/mod.ts";

const set = new DomainSet(["ads.example", "tracker.example.com", "com.example", "x"]);

const suffixes: readonly { name: string; want: number }[] = [
  { name: "ads.example", want: "ads.example".length },
  { name: "www.ads.example", want: "ads.example".length },
  { name: "a.b.ads.example", want: "ads.example".length },
  { name: "WWW.Ads.EXAMPLE", want: "ads.example".length },
  { name: "www.ads.example.", want: "ads.example".length },
  { name: "bads.example", want: -1 }, // not on a label boundary
  { name: "ads.example.org", want: -1 },
  { name: "example", want: -1 },
  { name: "tracker.example.com", want: "tracker.example.com".length },
  { name: "example.com", want: -1 },
  { name: "x", want: 1 },
  { name: "a.x", want: 1 },
  { name: "ax", want: -1 },
  { name: "", want: -1 },
  { name: "a\\.ads.example", want: -1 }, // labels "a.ads" and "example": not below ads.example
  { name: "www.bads\\.ads.example", want: -1 },
  { name: "a\\.b.ads.example", want: "ads.example".length }, // the label "a.b" is below ads.example
  { name: "ads\\.example", want: -1 }, // one label "ads.example", not the listed name
];

for (const { name, want } of suffixes) {
  test(`DomainSet.longestSuffix(${JSON.stringify(name)}) is ${want}`, () => {
    assert.equal(set.longestSuffix(name), want);
  });
}

test("DomainSet counts each domain once and keeps names whose hash slots collide apart", () => {
  const many = new DomainSet();
  for (let i = 0; i < 200_000; i++) many.add(`n${i}.example`);
  many.add("n1.example");
  assert.equal(many.size, 200_000);
  // 200,000 names in 2^30 slots share some slots: each is still found, and no other name is.
  for (let i = 0; i < 200_000; i += 997) {
    assert.equal(many.longestSuffix(`www.n${i}.example`), `n${i}.example`.length);
  }
  for (let i = 200_000; i < 201_000; i++) assert.equal(many.longestSuffix(`n${i}.example`), -1);
});

const lists = {
  blocked: new DomainSet(["ads.example", "tracker.ok.example", "deep.allowed.ads.example"]),
  allowed: new DomainSet(["ok.example", "allowed.ads.example", "ads.example.org"]),
};

const precedence: readonly { name: string; blocked: boolean; why: string }[] = [
  { name: "ads.example", blocked: true, why: "listed" },
  { name: "cdn.ads.example", blocked: true, why: "below a listed domain" },
  { name: "CDN.ADS.EXAMPLE.", blocked: true, why: "case and the trailing dot do not matter" },
  { name: "allowed.ads.example", blocked: false, why: "the allowlist entry is more specific" },
  { name: "x.allowed.ads.example", blocked: false, why: "below the more specific allowlist entry" },
  { name: "deep.allowed.ads.example", blocked: true, why: "a blocklist entry more specific still" },
  { name: "ok.example", blocked: false, why: "only allowed" },
  { name: "tracker.ok.example", blocked: true, why: "blocked below an allowed domain" },
  { name: "ads.example.org", blocked: false, why: "not below ads.example" },
  { name: "example", blocked: false, why: "above a listed domain" },
];

for (const { name, blocked, why } of precedence) {
  test(`isBlocked(${name}) is ${blocked}: ${why}`, () => {
    assert.equal(isBlocked(lists, name), blocked);
  });
}

test("isBlocked(): the allowlist wins a tie (the same domain on both lists)", () => {
  const both = { blocked: new DomainSet(["ads.example"]), allowed: new DomainSet(["ads.example"]) };
  assert.equal(isBlocked(both, "ads.example"), false);
  assert.equal(isBlocked(both, "www.ads.example"), false);
});
