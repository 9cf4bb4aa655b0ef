/**
 * The list parser, table-driven: every line form a published list uses (hosts lines, plain
 * domains, the Adblock `||domain^` subset), comments, the entries never blocked, and the lines
 * dnsd cannot read, with their line numbers.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { listKey, type ListLine, parseList, readListLine } from "../../lib/block/mod.ts";

const names = (...list: string[]): ListLine => ({ kind: "names", names: list });
const skip: ListLine = { kind: "skip" };

const lines: readonly { line: string; want: ListLine | "unreadable" }[] = [
  // hosts lines, as StevenBlack's and the Pi-hole default lists write them
  { line: "0.0.0.0 ads.example", want: names("ads.example") },
  { line: "127.0.0.1\tads.example", want: names("ads.example") },
  { line: ":: ads.example", want: names("ads.example") },
  { line: "::1 ip6-localhost ip6-loopback", want: skip },
  { line: "0.0.0.0 ads.example tracker.example", want: names("ads.example", "tracker.example") },
  { line: "0.0.0.0 Ads.Example. # a tracker", want: names("ads.example") },
  { line: "  0.0.0.0   ads.example  ", want: names("ads.example") },
  { line: "0.0.0.0 ads.example\r", want: names("ads.example") },
  { line: "127.0.0.1 localhost", want: skip },
  { line: "127.0.0.1 localhost.localdomain", want: skip },
  { line: "255.255.255.255 broadcasthost", want: skip },
  { line: "0.0.0.0 0.0.0.0", want: skip },
  { line: "127.0.0.1 local", want: skip },
  { line: "ff02::1 ip6-allnodes", want: skip },
  { line: "0.0.0.0", want: "unreadable" },
  { line: "0.0.0.0 bad..name", want: "unreadable" },
  { line: "0.0.0.0 ads.example bad_/name", want: "unreadable" },
  // plain domains
  { line: "ads.example", want: names("ads.example") },
  { line: "ADS.example.", want: names("ads.example") },
  { line: "_tracking.ads-1.example", want: names("_tracking.ads-1.example") },
  { line: "ads.example # comment", want: names("ads.example") },
  { line: "localhost", want: skip },
  { line: "ads.example tracker.example", want: "unreadable" },
  { line: `${"a".repeat(64)}.example`, want: "unreadable" },
  { line: `${"abcdefghi.".repeat(26)}com`, want: "unreadable" }, // 263 octets
  // the Adblock subset
  { line: "||ads.example^", want: names("ads.example") },
  { line: "||Ads.Example^", want: names("ads.example") },
  { line: "||ads.example^$important", want: names("ads.example") },
  { line: "||ads.example^$third-party", want: "unreadable" },
  { line: "||ads.example", want: "unreadable" },
  { line: "||*.ads.example^", want: "unreadable" },
  { line: "@@||ads.example^", want: "unreadable" },
  { line: "/ads[0-9]+\\.example/", want: "unreadable" },
  { line: "example.com##.banner", want: "unreadable" },
  { line: "*.ads.example", want: "unreadable" },
  // comments and blank lines
  { line: "", want: skip },
  { line: "   \t", want: skip },
  { line: "# a comment", want: skip },
  { line: "  # an indented comment", want: skip },
  { line: "! Title: an Adblock list", want: skip },
  { line: "[Adblock Plus 2.0]", want: skip },
];

for (const { line, want } of lines) {
  test(`readListLine() reads ${JSON.stringify(line.length > 40 ? line.slice(0, 40) + "..." : line)}`, () => {
    const got = readListLine(line);
    if (want === "unreadable") assert.equal(got.kind, "unreadable", JSON.stringify(got));
    else assert.deepEqual(got, want);
  });
}

test("listKey() folds case, drops one trailing dot and refuses what is no domain name", () => {
  assert.equal(listKey("Ads.EXAMPLE."), "ads.example");
  assert.equal(listKey("ads.example"), "ads.example");
  for (const bad of ["", ".", "a..b", ".a", "a b", "ä.example", "a.example..", "*.a"]) {
    assert.equal(listKey(bad), null, bad);
  }
});

test("parseList() reads a mixed file, counting bad lines with their line numbers", () => {
  const text = [
    "# hosts part", // 1
    "0.0.0.0 ads.example", // 2
    "||tracker.example^", // 3
    "@@||ok.example^", // 4: bad
    "plain.example", // 5
    "", // 6
    "/regex/", // 7: bad
    "! comment", // 8
    "a.example##.ad", // 9: bad
    "||x.example^$popup", // 10: bad
    "0.0.0.0 ads.example", // 11: a duplicate, kept for the set to drop
  ].join("\n");
  const names: string[] = [];
  const parsed = parseList(text, (name) => names.push(name));
  assert.deepEqual(names, ["ads.example", "tracker.example", "plain.example", "ads.example"]);
  assert.equal(parsed.listed, 4);
  assert.equal(parsed.unreadable, 4);
  assert.deepEqual(parsed.firstUnreadable.map((bad) => bad.line), [4, 7, 9]);
});

test("parseList() reads CRLF files and a last line without a newline", () => {
  for (const text of ["a.example\r\nb.example\r\n", "a.example\nb.example"]) {
    const names: string[] = [];
    parseList(text, (name) => names.push(name));
    assert.deepEqual(names, ["a.example", "b.example"]);
  }
});
