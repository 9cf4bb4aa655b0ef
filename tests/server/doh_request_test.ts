/**
 * The HTTP side of DoH (RFC 8484): the query a request carries or the status it gets, strict
 * base64url, and the freshness an answer is given (its smallest TTL, or the SOA's negative TTL).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { hex } from "../_hex.ts";
import { decodeBase64Url, dohQuery, freshnessOf } from "../../lib/server/doh_request.ts";

// www.example.com A, ID 0: RFC 8484 section 4.1.1's example, as sent by GET.
const query: Uint8Array<ArrayBuffer> = new Uint8Array(hex`
  0000 0100 0001 0000 0000 0000
  03 777777 07 6578616d706c65 03 636f6d 00 0001 0001
`);
const BASE = "https://127.0.0.1/dns-query";
// The example's own text (RFC 8484 section 4.1.1).
const EXAMPLE = "AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB";

test("decodeBase64Url() reads RFC 8484's example", () => deepEqual(decodeBase64Url(EXAMPLE), query));

const badText = ["AAAB=", "AA+B", "AA/B", "A", "AAAAA", "AA AA"];
for (const text of badText) {
  test(`decodeBase64Url() rejects ${JSON.stringify(text)}`, () => equal(decodeBase64Url(text), null));
}

const post = (body: BodyInit | null, type: string | null) =>
  new Request(BASE, { method: "POST", body, headers: type === null ? {} : { "content-type": type } });
const statuses: { name: string; request: () => Request; status: number }[] = [
  { name: "another path", request: () => new Request("https://127.0.0.1/other?dns=" + EXAMPLE), status: 404 },
  { name: "PUT", request: () => new Request(BASE, { method: "PUT", body: query }), status: 405 },
  { name: "DELETE", request: () => new Request(BASE, { method: "DELETE" }), status: 405 },
  { name: "GET without dns", request: () => new Request(BASE), status: 400 },
  { name: "GET with padded base64", request: () => new Request(`${BASE}?dns=${EXAMPLE}==`), status: 400 },
  { name: "GET with standard base64", request: () => new Request(`${BASE}?dns=AA%2BB`), status: 400 },
  {
    name: "GET with fewer octets than a header",
    request: () => new Request(`${BASE}?dns=AAAB`),
    status: 400,
  },
  { name: "POST as text/plain", request: () => post(query, "text/plain"), status: 415 },
  { name: "POST with no Content-Type", request: () => post(query, null), status: 415 },
  {
    name: "POST of 65,536 octets",
    request: () => post(new Uint8Array(65_536), "application/dns-message"),
    status: 413,
  },
  {
    name: "POST of a stream of 1 MiB (no length said)",
    request: () =>
      post(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(64 * 1024));
          },
        }),
        "application/dns-message",
      ),
    status: 413,
  },
];
for (const { name, request, status } of statuses) {
  test(`dohQuery() answers ${status} for ${name}`, async () => {
    const found = await dohQuery(request(), "/dns-query");
    equal(found.ok ? 200 : found.status, status);
  });
}

const accepted: { name: string; request: () => Request }[] = [
  { name: "GET", request: () => new Request(`${BASE}?dns=${EXAMPLE}`) },
  { name: "POST", request: () => post(query, "application/dns-message") },
  { name: "POST with a parameter in its type", request: () => post(query, "Application/DNS-Message; x=1") },
];
for (const { name, request } of accepted) {
  test(`dohQuery() takes the query of a ${name}`, async () => {
    deepEqual(await dohQuery(request(), "/dns-query"), { ok: true, query });
  });
}

// www.example.com A answers 300 and 60; example.com NXDOMAIN with SOA TTL 3600, MINIMUM 900.
const twoAnswers = hex`
  0000 8180 0001 0002 0000 0000
  03 777777 07 6578616d706c65 03 636f6d 00 0001 0001
  c00c 0001 0001 0000012c 0004 c0000201   # TTL 300
  c00c 0001 0001 0000003c 0004 c0000202   # TTL 60
`;
const negative = hex`
  0000 8183 0001 0000 0001 0000
  03 777777 07 6578616d706c65 03 636f6d 00 0001 0001
  c010 0006 0001 00000e10 001a             # example.com SOA, TTL 3600
  02 6e73 c010 00 00000001 00001c20 00000e10 00093a80 00000384   # ns, ., serial 1 ... MINIMUM 900
`;
const servfail = hex`0000 8182 0001 0000 0000 0000 03 777777 07 6578616d706c65 03 636f6d 00 0001 0001`;
const freshness = [
  { name: "the smallest answer TTL", response: twoAnswers, seconds: 60 },
  { name: "the SOA's negative TTL for NXDOMAIN", response: negative, seconds: 900 },
  { name: "0 for an answer with no records", response: servfail, seconds: 0 },
  { name: "0 for bytes that cannot be read", response: twoAnswers.subarray(0, 20), seconds: 0 },
];
for (const { name, response, seconds } of freshness) {
  test(`freshnessOf() is ${name}`, () => equal(freshnessOf(response), seconds));
}
