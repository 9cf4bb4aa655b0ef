/**
 * EDNS padding (RFC 7830, RFC 8467 section 4.1): which queries ask for it, and responses padded
 * to 468-octet blocks, never past the limit, never when signed or without an OPT record.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { hex } from "../_hex.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { PADDING_OPTION, padResponse, wantsPadding } from "../../lib/server/padding.ts";

// kdig @127.0.0.1 -p 853 +tls localhost A (kdig 3.2.6 pads over TLS: a Padding option to 128 octets)
const paddedQuery = hex`
  bfdd 0120 0001 0000 0000 0001   # id, RD AD, qd=1 ar=1
  09 6c6f63616c686f7374 00 0001 0001   # localhost A IN
  00 0029 04d0 00000000 0058          # OPT, 1232, rdlength 88
  000c 0054 ${"00".repeat(84)}        # Padding, 84 zeros
`;
// dig +norec localhost A with EDNS and a COOKIE, no Padding
const cookieQuery = hex`
  1234 0000 0001 0000 0000 0001
  09 6c6f63616c686f7374 00 0001 0001
  00 0029 04d0 00000000 000c
  000a 0008 0102030405060708          # COOKIE, client cookie only
`;
const noEdns = hex`1234 0100 0001 0000 0000 0000 09 6c6f63616c686f7374 00 0001 0001`;
// A padding option after a COOKIE: the walk goes past the first option.
const secondOption = hex`
  1234 0100 0001 0000 0000 0001
  09 6c6f63616c686f7374 00 0001 0001
  00 0029 04d0 00000000 0010
  000a 0008 0102030405060708
  000c 0000                           # Padding, empty
`;

const asks = [
  { name: "a query padded by kdig", wire: paddedQuery, want: true },
  { name: "an empty Padding option after a COOKIE", wire: secondOption, want: true },
  { name: "a query with a COOKIE only", wire: cookieQuery, want: false },
  { name: "a query without EDNS", wire: noEdns, want: false },
  { name: "a cut OPT record", wire: paddedQuery.subarray(0, paddedQuery.length - 10), want: false },
] as const;
for (const { name, wire, want } of asks) {
  test(`wantsPadding() is ${want} for ${name}`, () => equal(wantsPadding(wire), want));
}

// localhost. A 127.0.0.1, NOERROR, with an empty OPT (what respond() writes for an EDNS query).
const answer = hex`
  bfdd 8580 0001 0001 0000 0001
  09 6c6f63616c686f7374 00 0001 0001
  c00c 0001 0001 00000e10 0004 7f000001
  00 0029 04d0 00000000 0000
`;
// The same with a TSIG record after the OPT (its MAC covers the bytes before it).
const signed = hex`
  ${[...answer.subarray(0, 10)].map((b) => b.toString(16).padStart(2, "0")).join("")} 0002
  ${[...answer.subarray(12)].map((b) => b.toString(16).padStart(2, "0")).join("")}
  00 00fa 00ff 00000000 0000
`;

const pads = [
  { name: "to one block of 468", response: answer, options: {}, length: 468 },
  { name: "to a multiple of a smaller block", response: answer, options: { block: 128 }, length: 128 },
  { name: "no further than the limit", response: answer, options: { limit: 100 }, length: 100 },
  {
    name: "to the limit when only the option's header fits",
    response: answer,
    options: { limit: 58 },
    length: 58,
  },
  { name: "not at all when the option does not fit", response: answer, options: { limit: 57 }, length: 54 },
  { name: "not at all without an OPT record", response: noEdns, options: {}, length: noEdns.length },
  { name: "not at all when signed", response: signed, options: {}, length: signed.length },
] as const;
for (const { name, response, options, length } of pads) {
  test(`padResponse() pads ${name}`, () => equal(padResponse(response, options).length, length));
}

test("padResponse() adds one Padding option of zeros as the OPT's last, the answer unchanged", () => {
  const padded = decodeMessage(padResponse(answer));
  const plain = decodeMessage(answer);
  deepEqual(padded.answers, plain.answers);
  const options = padded.edns?.options ?? [];
  equal(options.length, 1);
  equal(options[0]!.code, PADDING_OPTION);
  equal(options[0]!.data.length, 468 - answer.length - 4);
  equal(options[0]!.data.every((octet) => octet === 0), true);
});
