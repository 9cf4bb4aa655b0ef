/**
 * Counterexamples the fuzz tests found, kept as plain table tests so they run on every change
 * whatever seed the property tests use.
 * @module
 */
import { contextOf } from "../_request.ts";
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { respond } from "../../lib/server/respond.ts";
import { Opcode, Rcode } from "../../lib/proto/types.ts";

/** A name of four 62-octet labels of one letter: 253 octets on the wire, nothing to compress. */
const long = (letter: string) => Array.from({ length: 4 }, () => letter.repeat(62)).join(".");

function request(opcode: number, names: readonly string[], udpPayloadSize: number | null): Uint8Array {
  const message = query({ name: names[0]! }, {
    id: 0x1234,
    opcode,
    questions: names.map((name) => ({ name, type: 1, class: 1 })),
    edns: udpPayloadSize === null
      ? null
      : { udpPayloadSize, version: 0, dnssecOk: false, flags: 0, options: [] },
  });
  return encodeMessage(message).slice();
}

/**
 * Error replies echo the questions, so before the fix a query with several long questions got a
 * reply as long as itself, past the client's UDP limit (found by fuzz_server_test.ts, seed 20261126:
 * eight questions, a 513-octet FORMERR for a client without EDNS).
 */
const oversized = [
  {
    name: "a FORMERR for two long questions without EDNS",
    wire: request(0, [long("a"), long("b")], null),
    rcode: Rcode.FORMERR,
    limit: 512,
  },
  {
    name: "a NOTIMP for three long questions without EDNS",
    wire: request(Opcode.NOTIFY, [long("a"), long("b"), long("c")], null), // with no handler: NOTIMP, questions echoed
    rcode: Rcode.NOTIMP,
    limit: 512,
  },
  {
    name: "a FORMERR for six long questions with EDNS 1232",
    wire: request(0, ["a", "b", "c", "d", "e", "f"].map(long), 1232),
    rcode: Rcode.FORMERR,
    limit: 1232,
  },
] as const;

for (const { name, wire, rcode, limit } of oversized) {
  test(`respond() fits ${name} to the UDP limit`, async () => {
    ok(wire.length > limit, `the request (${wire.length} octets) is meant to be over ${limit}`);
    const response = await respond(wire, contextOf(), {
      resolve: (r) => Promise.resolve(reply(r.message)),
      report: (error) => {
        throw error;
      },
    });
    ok(response);
    ok(response.length <= limit, `${response.length} octets for a limit of ${limit}`);
    const message = decodeMessage(response);
    equal(message.id, 0x1234);
    equal(message.rcode, rcode);
    equal(message.truncated, true);
  });
}
