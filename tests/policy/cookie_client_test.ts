/**
 * Cookies towards an upstream, pure: the client cookie added to a query's OPT record (not to one
 * without EDNS), the server cookie learnt from a reply and sent back, and the replies dropped: a
 * wrong echo always, a missing one once the upstream has shown it speaks cookies.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { UpstreamCookie } from "../../lib/policy/mod.ts";
import { decodeMessage } from "../../lib/proto/mod.ts";
import { query } from "../_tcp_client.ts";

const OURS = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const SERVER = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function jar(): UpstreamCookie {
  return new UpstreamCookie((octets) => octets.set(OURS));
}

/** A reply carrying a COOKIE option of `data` (or none). */
function reply(data: Uint8Array | null): Uint8Array {
  return query("example.com", { edns: { options: data ? [{ code: 10, data }] : [] } });
}

test("the client cookie goes into a query's OPT record, not into a query without EDNS", () => {
  const cookie = jar();
  const sent = decodeMessage(cookie.addTo(query("example.com", { edns: {} })));
  deepEqual(sent.edns?.options, [{ code: 10, data: OURS }]);
  const plain = query("example.com");
  equal(cookie.addTo(plain), plain);
});

const CHECKS: readonly {
  name: string;
  replies: readonly (Uint8Array | null)[];
  expected: readonly (string | null)[];
}[] = [
  {
    name: "no cookie support: replies without the option pass",
    replies: [null, null],
    expected: [null, null],
  },
  {
    name: "the right echo, then a missing one",
    replies: [new Uint8Array([...OURS, ...SERVER]), null],
    expected: [null, "missing-cookie"],
  },
  {
    name: "a wrong echo",
    replies: [new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1, ...SERVER])],
    expected: ["wrong-cookie"],
  },
  { name: "a short option", replies: [new Uint8Array([1, 2, 3])], expected: ["wrong-cookie"] },
  { name: "a client cookie alone echoed", replies: [OURS, null], expected: [null, "missing-cookie"] },
];

for (const { name, replies, expected } of CHECKS) {
  test(`upstream cookie check: ${name}`, () => {
    const cookie = jar();
    deepEqual(replies.map((data) => cookie.check(reply(data))), expected);
  });
}

test("the server cookie learnt is sent back with the next query", () => {
  const cookie = jar();
  equal(cookie.check(reply(new Uint8Array([...OURS, ...SERVER]))), null);
  const sent = decodeMessage(cookie.addTo(query("example.com", { edns: {} })));
  deepEqual(sent.edns?.options, [{ code: 10, data: new Uint8Array([...OURS, ...SERVER]) }]);
});
