/**
 * The one case fold for names (RFC 4343 section 3: ASCII letters only), in text and in wire octets.
 * @module
 */
import { test } from "../_limit.ts";
import { equal } from "node:assert/strict";
import { foldCase, foldOctet, nameKey } from "../../lib/proto/name.ts";

const folds = [
  { name: "ASCII capitals", text: "WwW.Example.COM", folded: "www.example.com" },
  { name: "no letters", text: "1-2_3.*", folded: "1-2_3.*" },
  { name: "escapes as written", text: "A\\.B\\065", folded: "a\\.b\\065" },
  { name: "non-ASCII capitals not at all", text: "\u212aÉ.EXAMPLE", folded: "\u212aÉ.example" },
] as const;

test("foldCase() folds ASCII capitals only", async (t) => {
  for (const { name, text, folded } of folds) await t.step(name, () => equal(foldCase(text), folded));
});

test("foldOctet() folds exactly the octets foldCase() folds", () => {
  for (let octet = 0; octet < 256; octet++) {
    equal(foldOctet(octet), foldCase(String.fromCharCode(octet)).charCodeAt(0), `octet ${octet}`);
  }
});

test("nameKey() is one key for one name: any ASCII case, with or without the root dot", () => {
  equal(nameKey("Example.COM."), nameKey("example.com"));
  equal(nameKey("\u212a.example") === nameKey("k.example"), false); // U+212A KELVIN SIGN is not "k"
});
