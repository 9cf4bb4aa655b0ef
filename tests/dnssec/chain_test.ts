import { test } from "../_limit.ts";
import { deepEqual } from "node:assert/strict";
import { createValidator, type DnssecFetch } from "../../lib/dnssec/mod.ts";
import { type Message, query, Rcode, type ResourceRecord, RRType } from "../../lib/proto/mod.ts";

const answer: Message = {
  ...query({ name: "www.example", type: RRType.A }),
  response: true,
  answers: [{ name: "www.example", class: 1, ttl: 60, data: { type: "A", address: "192.0.2.1" } }],
};

function ds(name: string, algorithm: number, digestType: number): ResourceRecord {
  return {
    name,
    class: 1,
    ttl: 0,
    data: { type: "DS", keyTag: 1, algorithm, digestType, digest: new Uint8Array(32) },
  };
}

// Cases that need no upstream: each must be decided before any fetch.
const cases = [
  {
    name: "a name under no trust anchor is insecure",
    anchors: [ds("other", 13, 2)],
    response: answer,
    expect: ["insecure", undefined, "www.example/A: no trust anchor above www.example"],
  },
  {
    name: "an anchor whose DS names only an unsupported digest (3, GOST) gives insecure with EDE 2",
    anchors: [ds("example", 13, 3)],
    response: answer,
    expect: ["insecure", 2, "www.example/A: the DS set of example names only digest types dnsd lacks (13/3)"],
  },
  {
    name: "an anchor whose DS names only an unsupported algorithm (7) gives insecure with EDE 1",
    anchors: [ds("example", 7, 2)],
    response: answer,
    expect: ["insecure", 1, "www.example/A: the DS set of example names only algorithms dnsd lacks (7/2)"],
  },
  {
    name: "a SERVFAIL is not validated",
    anchors: [ds("example", 13, 2)],
    response: { ...answer, rcode: Rcode.SERVFAIL, answers: [] },
    expect: ["indeterminate", undefined, "rcode 2 is not validated"],
  },
] as const;

for (const c of cases) {
  test(`createValidator(): ${c.name}`, async () => {
    const asked: string[] = [];
    const fetch: DnssecFetch = (name, type) => {
      asked.push(`${name}/${type}`);
      return Promise.reject(new Error("not expected"));
    };
    const validator = createValidator({ anchors: c.anchors, fetch, now: () => 1_700_000_000 });
    const verdict = await validator.validate({ name: "www.example", type: RRType.A, class: 1 }, c.response);
    deepEqual([verdict.security, verdict.ede, verdict.why], c.expect);
    deepEqual(asked, []);
  });
}
