/**
 * What the validating stage shows a client of a secure answer (RFC 4035 section 3.2.3): AD=1 only
 * over validated data, so the authority section keeps the proofs (SOA, NSEC, NSEC3 and their
 * RRSIGs) and drops the NS set, and the additional section goes; an insecure answer is passed on
 * whole. The validator is a stand-in that gives a fixed verdict: what it checks is validator_test.ts's.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { validating } from "../../lib/upstream/validating.ts";
import type { Security } from "../../lib/dnssec/mod.ts";
import {
  type Message,
  query,
  Rcode,
  reply,
  type ResourceRecord,
  RRClass,
  RRType,
} from "../../lib/proto/mod.ts";
import { requestOf } from "../_request.ts";

function record(name: string, data: ResourceRecord["data"]): ResourceRecord {
  return { name, class: RRClass.IN, ttl: 300, data };
}

function signature(name: string, covered: number): ResourceRecord {
  return record(name, {
    type: "RRSIG",
    typeCovered: covered,
    algorithm: 13,
    labels: 2,
    originalTtl: 300,
    expiration: 0,
    inception: 0,
    keyTag: 1,
    signerName: "example.test",
    signature: new Uint8Array(64),
  });
}

const NS = record("example.test", { type: "NS", host: "ns.evil.invalid" });
const GLUE = record("ns.evil.invalid", { type: "A", address: "203.0.113.66" });
const SOA = record("example.test", {
  type: "SOA",
  mname: "ns.example.test",
  rname: "hostmaster.example.test",
  serial: 1,
  refresh: 7200,
  retry: 900,
  expire: 1209600,
  minimum: 300,
});
const NSEC = record("example.test", {
  type: "NSEC",
  nextDomainName: "www.example.test",
  types: [RRType.SOA],
});

/** The stage with a validator that says `security`, and an upstream that answers `fields`. */
async function ask(
  security: Security,
  fields: Partial<Message>,
  name = "www.example.test",
): Promise<Message> {
  const stage = validating({
    validator: () => ({ validate: () => Promise.resolve({ security, why: "stand-in" }) }),
  });
  const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: true, flags: 0, options: [] };
  const client = query({ name, type: RRType.A }, { id: 7, edns });
  return await stage(requestOf(client), (request) => Promise.resolve(reply(request.message, fields)));
}

const types = (records: readonly ResourceRecord[]) =>
  records.map(({ data }) => data.type === "RRSIG" ? `RRSIG(${data.typeCovered})` : data.type);

test("validating: a secure answer keeps no unvalidated NS set nor additional records under AD=1", async () => {
  const a = record("www.example.test", { type: "A", address: "192.0.2.1" });
  const response = await ask("secure", {
    answers: [a, signature("www.example.test", RRType.A)],
    authorities: [NS, signature("example.test", RRType.NS)],
    additionals: [GLUE],
  });
  equal(response.authenticData, true);
  deepEqual(types(response.answers), ["A", `RRSIG(${RRType.A})`]);
  deepEqual(response.authorities, []);
  deepEqual(response.additionals, []);
});

test("validating: a secure denial keeps its SOA and NSEC with their RRSIGs, and drops the NS set", async () => {
  const response = await ask("secure", {
    rcode: Rcode.NXDOMAIN,
    authorities: [
      SOA,
      signature("example.test", RRType.SOA),
      NSEC,
      signature("example.test", RRType.NSEC),
      NS,
    ],
    additionals: [GLUE],
  }, "nx.example.test");
  equal(response.authenticData, true);
  deepEqual(types(response.authorities), ["SOA", `RRSIG(${RRType.SOA})`, "NSEC", `RRSIG(${RRType.NSEC})`]);
  deepEqual(response.additionals, []);
});

test("validating: an insecure answer is passed on whole, without AD", async () => {
  const a = record("www.example.test", { type: "A", address: "192.0.2.1" });
  const response = await ask("insecure", { answers: [a], authorities: [NS], additionals: [GLUE] });
  equal(response.authenticData, false);
  deepEqual(types(response.authorities), ["NS"]);
  deepEqual(types(response.additionals), ["A"]);
});
