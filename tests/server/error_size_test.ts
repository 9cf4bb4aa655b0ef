/**
 * Error answers stay about the size of their query (issue 12, defect 11): REFUSED, NOTIMP and a
 * refused transfer carry the Extended DNS Error's INFO-CODE without EXTRA-TEXT, six octets more
 * than the query, as BIND and unbound send them; a failed upstream still explains itself to a
 * client that asked for recursion. Real query bytes in, response bytes out, through respond().
 * @module
 */
import { contextOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { UpstreamTimeout } from "../../lib/proto/errors.ts";
import { chain, requireRecursion } from "../../lib/resolve/resolver.ts";
import type { Resolve } from "../../lib/resolve/request.ts";
import { respond } from "../../lib/server/respond.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { hex, toHex } from "../_hex.ts";

/** Every question here is for a name nothing holds; one that asks for recursion times out upstream. */
const resolve: Resolve = chain([requireRecursion()], () => Promise.reject(new UpstreamTimeout("No reply")));
const report = (error: unknown) => {
  throw error;
};

// dig @127.0.0.1 -p 2053 +norecurse +nocookie www.example.test
const REFUSED_QUERY = hex`
  abcd 0000 0001 0000 0000 0001                  # id, QUERY, RD=0, qd=1 ar=1
  03 777777 07 6578616d706c65 04 74657374 00     # www.example.test
  0001 0001                                      # A IN
  00 0029 04d0 00 00 0000 0000                   # OPT: 1232 octets, version 0, no options
`;
const REFUSED_ANSWER = hex`
  abcd 8085 0001 0000 0000 0001                  # QR RA, REFUSED
  03 777777 07 6578616d706c65 04 74657374 00     # the question as asked
  0001 0001
  00 0029 04d0 00 00 0000 0006                   # OPT, RDLENGTH 6
  000f 0002 0012                                 # EDE 18 Prohibited, no EXTRA-TEXT
`;

const cases = [
  {
    name: "REFUSED to an RD=0 query",
    query: REFUSED_QUERY,
    rcode: Rcode.REFUSED,
    ede: 18,
  },
  {
    // dig +opcode=4 +nocookie www.example.test: NOTIFY, with no handler (an unknown opcode gets a bare header)
    name: "NOTIMP to opcode 4 (NOTIFY)",
    query: hex`
      abce 2100 0001 0000 0000 0001              # opcode 4, RD=1
      03 777777 07 6578616d706c65 04 74657374 00
      0001 0001
      00 0029 04d0 00 00 0000 0000
    `,
    rcode: Rcode.NOTIMP,
    ede: 21,
  },
  {
    // dig +nocookie +notcp example.test AXFR (a transfer asked over UDP, RD=1)
    name: "a refused transfer (AXFR)",
    query: hex`
      abcf 0100 0001 0000 0000 0001              # QUERY, RD=1
      07 6578616d706c65 04 74657374 00           # example.test
      00fc 0001                                  # AXFR IN
      00 0029 04d0 00 00 0000 0000
    `,
    rcode: Rcode.REFUSED,
    ede: 18,
  },
  {
    name: "a refused transfer (IXFR), RD=0",
    query: hex`
      abd0 0000 0001 0000 0000 0001
      07 6578616d706c65 04 74657374 00
      00fb 0001                                  # IXFR IN
      00 0029 04d0 00 00 0000 0000
    `,
    rcode: Rcode.REFUSED,
    ede: 18,
  },
] as const;

for (const { name, query, rcode, ede } of cases) {
  test(`respond() answers ${name} in the query's size plus the six octets of an EDE ${ede}`, async () => {
    const response = await respond(query, contextOf(), { resolve, report });
    ok(response);
    const message = decodeMessage(response);
    equal(message.rcode, rcode);
    deepEqual(edeOf(message.edns), [{ code: ede, text: "" }]);
    equal(response.length, query.length + 6, `${response.length} octets for a query of ${query.length}`);
  });
}

test("respond() answers REFUSED to an RD=0 query byte for byte", async () => {
  const response = await respond(REFUSED_QUERY, contextOf(), { resolve, report });
  equal(toHex(response!), toHex(REFUSED_ANSWER));
});

test("respond() still explains an upstream failure to a client that asked for recursion", async () => {
  const query = REFUSED_QUERY.slice();
  query[2] = 0x01; // RD=1
  const response = await respond(query, contextOf(), { resolve, report });
  const message = decodeMessage(response!);
  equal(message.rcode, Rcode.SERVFAIL);
  deepEqual(edeOf(message.edns), [{ code: 22, text: "No reply" }]);
});

test("respond() answers REFUSED without EDNS with no OPT record: the query's size exactly", async () => {
  // dig +norecurse +noedns www.example.test
  const query = REFUSED_QUERY.subarray(0, REFUSED_QUERY.length - 11).slice();
  query[11] = 0; // ar=0
  const response = await respond(query, contextOf(), { resolve, report });
  equal(response!.length, query.length);
});
