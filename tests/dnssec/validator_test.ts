import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { createValidator, MAX_FETCHES, parseTrustAnchors, type Verdict } from "../../lib/dnssec/mod.ts";
import {
  type Message,
  type Question,
  Rcode,
  type RData,
  type ResourceRecord,
  RRType,
} from "../../lib/proto/mod.ts";
import { needsTools } from "../_nsd.ts";
import { type SignedTree, withSignedTree } from "./_signed_tree.ts";

/** How a case changes the world: the answer validated, the fetch, the clock. */
interface Case {
  readonly name: string;
  readonly question: [string, number];
  readonly expect: Pick<Verdict, "security" | "ede">;
  readonly rcode?: number;
  /** The name whose answer a recursive resolver would append (NSD does not follow a CNAME out of its zone). */
  readonly follow?: string;
  /** Changes the answer before it is validated. */
  readonly tamper?: (response: Message) => Message;
  /** Changes what fetch returns. */
  readonly tamperFetch?: (name: string, type: number, response: Message) => Message;
  /** Seconds added to the real time. */
  readonly shift?: number;
}

const DAY = 86_400;

function withoutSections(response: Message, drop: (record: ResourceRecord) => boolean): Message {
  return {
    ...response,
    answers: response.answers.filter((record) => !drop(record)),
    authorities: response.authorities.filter((record) => !drop(record)),
  };
}

function flipSignature(response: Message): Message {
  let done = false;
  return {
    ...response,
    answers: response.answers.map((record) => {
      if (done || record.data.type !== "RRSIG") return record;
      done = true;
      const signature = record.data.signature.slice();
      signature[signature.length - 1]! ^= 1;
      return { ...record, data: { ...record.data, signature } };
    }),
  };
}

/** A tamper that gives the answer's records of `data`'s type that data instead (signatures kept). */
function withAnswerData(data: RData): (response: Message) => Message {
  return (response) => ({
    ...response,
    answers: response.answers.map((record) => record.data.type === data.type ? { ...record, data } : record),
  });
}

const isType = (type: string) => (record: ResourceRecord) =>
  record.data.type === type || (record.data.type === "RRSIG" && rrsigCovers(record, type));

function rrsigCovers(record: ResourceRecord, type: string): boolean {
  const codes: Record<string, number> = { NSEC: RRType.NSEC, NSEC3: RRType.NSEC3 };
  return record.data.type === "RRSIG" && record.data.typeCovered === codes[type];
}

const cases: readonly Case[] = [
  ...["a8", "a10", "a13", "a14", "a15"].map((zone): Case => ({
    name: `a positive answer in ${zone}`,
    question: [`www.${zone}`, RRType.A],
    expect: { security: "secure" },
  })),
  { name: "NXDOMAIN proven by NSEC", question: ["nx.a8", RRType.A], expect: { security: "secure" } },
  { name: "NXDOMAIN proven by NSEC3", question: ["nx.a13", RRType.A], expect: { security: "secure" } },
  { name: "NODATA proven by NSEC", question: ["www.a14", RRType.MX], expect: { security: "secure" } },
  { name: "NODATA proven by NSEC3", question: ["www.a13", RRType.MX], expect: { security: "secure" } },
  {
    name: "NODATA at an empty non-terminal (NSEC)",
    question: ["ent.a8", RRType.A],
    expect: { security: "secure" },
  },
  {
    name: "NODATA at an empty non-terminal (NSEC3)",
    question: ["ent.a13", RRType.A],
    expect: { security: "secure" },
  },
  { name: "a wildcard answer (NSEC)", question: ["x.wild.a10", RRType.TXT], expect: { security: "secure" } },
  { name: "a wildcard answer (NSEC3)", question: ["x.wild.a13", RRType.TXT], expect: { security: "secure" } },
  { name: "a CNAME chain", question: ["alias.a14", RRType.A], expect: { security: "secure" } },
  {
    name: "a CNAME into another signed zone's NXDOMAIN",
    question: ["out.a8", RRType.A],
    follow: "nx.a13",
    expect: { security: "secure" },
  },
  {
    name: "a CNAME into an unsigned zone",
    question: ["out2.a8", RRType.A],
    follow: "www.unsigned",
    expect: { security: "insecure" },
  },
  {
    name: "a CNAME whose target's NXDOMAIN lost its NSEC3",
    question: ["out.a8", RRType.A],
    follow: "nx.a13",
    tamper: (response) => withoutSections(response, isType("NSEC3")),
    expect: { security: "bogus", ede: 12 },
  },
  {
    name: "a CNAME synthesized from a signed DNAME (RFC 6672 section 5.3.3)",
    question: ["www.moved.a10", RRType.A],
    follow: "www.a14",
    expect: { security: "secure" },
  },
  {
    name: "an unsigned CNAME that is not what the DNAME substitutes",
    question: ["www.moved.a10", RRType.A],
    follow: "www.a14",
    tamper: withAnswerData({ type: "CNAME", target: "www.a13." }),
    expect: { security: "bogus", ede: 10 },
  },
  {
    // RFC 4034 section 6.2 (and RFC 3597 section 7): these names are lower-cased in canonical form.
    name: "RP whose names come in capitals: still secure",
    question: ["rp.a10", RRType.RP],
    tamper: withAnswerData({ type: "RP", mailbox: "MBOX.A10", text: "Txt.A10" }),
    expect: { security: "secure" },
  },
  {
    name: "a DNAME whose target comes in capitals, and the CNAME made from it: still secure",
    question: ["www.moved.a10", RRType.A],
    follow: "www.a14",
    tamper: withAnswerData({ type: "DNAME", target: "A14" }),
    expect: { security: "secure" },
  },
  { name: "the DS of a signed zone", question: ["a8", RRType.DS], expect: { security: "secure" } },
  { name: "a DNSKEY set", question: ["a15", RRType.DNSKEY], expect: { security: "secure" } },
  {
    name: "an unsigned delegation proven by NSEC",
    question: ["www.unsigned", RRType.A],
    expect: { security: "insecure" },
  },
  {
    name: "an unsigned delegation under NSEC3 opt-out",
    question: ["www.island.a15", RRType.A],
    expect: { security: "insecure" },
  },
  {
    name: "a zone whose DS names only algorithm 5",
    question: ["www.unsup", RRType.A],
    expect: { security: "insecure", ede: 1 },
  },
  {
    name: "a DS that matches no key",
    question: ["www.badds", RRType.A],
    expect: { security: "bogus", ede: 9 },
  },
  {
    name: "a flipped signature byte",
    question: ["www.a8", RRType.A],
    tamper: flipSignature,
    expect: { security: "bogus", ede: 6 },
  },
  {
    name: "a flipped signature byte (Ed25519)",
    question: ["www.a15", RRType.A],
    tamper: flipSignature,
    expect: { security: "bogus", ede: 6 },
  },
  {
    name: "expired signatures",
    question: ["www.a13", RRType.A],
    shift: 60 * DAY,
    expect: { security: "bogus", ede: 7 },
  },
  {
    name: "signatures not yet valid",
    question: ["www.a13", RRType.A],
    shift: -2 * DAY,
    expect: { security: "bogus", ede: 8 },
  },
  {
    name: "a missing DNSKEY set",
    question: ["www.a14", RRType.A],
    tamperFetch: (name, type, response) =>
      type === RRType.DNSKEY && name === "a14" ? withoutSections(response, () => true) : response,
    expect: { security: "bogus", ede: 9 },
  },
  {
    name: "a stripped RRSIG",
    question: ["www.a10", RRType.A],
    tamper: (response) => withoutSections(response, (record) => record.data.type === "RRSIG"),
    expect: { security: "bogus", ede: 10 },
  },
  {
    name: "an NXDOMAIN with its NSEC stripped",
    question: ["nx.a8", RRType.A],
    tamper: (response) => withoutSections(response, isType("NSEC")),
    expect: { security: "bogus", ede: 12 },
  },
  {
    name: "an NXDOMAIN with its NSEC3 stripped",
    question: ["nx.a13", RRType.A],
    tamper: (response) => withoutSections(response, isType("NSEC3")),
    expect: { security: "bogus", ede: 12 },
  },
  {
    name: "a wildcard answer without the NSEC that proves the name absent",
    question: ["x.wild.a8", RRType.TXT],
    tamper: (response) => withoutSections(response, isType("NSEC")),
    // 6, not 12: the data is there, only its proof is not (as unbound answers).
    expect: { security: "bogus", ede: 6 },
  },
  {
    name: "NXDOMAIN turned into NOERROR",
    question: ["nx.a8", RRType.A],
    tamper: (response) => ({ ...response, rcode: Rcode.NOERROR }),
    expect: { security: "bogus", ede: 6 },
  },
  {
    name: "a forged answer in an unsigned zone's place",
    question: ["www.a8", RRType.A],
    tamper: (response) => ({
      ...response,
      answers: [{ name: "www.a8", class: 1, ttl: 300, data: { type: "A", address: "203.0.113.66" } }],
    }),
    expect: { security: "bogus", ede: 10 },
  },
];

async function runCase(tree: SignedTree, anchors: ResourceRecord[], c: Case): Promise<Verdict> {
  const realNow = Math.floor(Date.now() / 1000);
  const validator = createValidator({
    anchors,
    now: () => realNow + (c.shift ?? 0),
    fetch: async (name, type) => {
      const response = await tree.ask(name, type);
      return c.tamperFetch ? c.tamperFetch(name, type, response) : response;
    },
  });
  const [name, type] = c.question;
  const question: Question = { name, type, class: 1 };
  let response = await tree.ask(name, type);
  if (c.follow) {
    const tail = await tree.ask(c.follow, type);
    response = {
      ...tail,
      answers: [...response.answers, ...tail.answers],
      authorities: [...response.authorities, ...tail.authorities],
    };
  }
  return await validator.validate(question, c.tamper ? c.tamper(response) : response);
}

test({
  ...needsTools(
    ["nsd", "ldns-keygen", "ldns-signzone"],
    "createValidator() on a tree signed by ldns-signzone",
  ),
  timeoutMs: 120_000,
}, async (t) => {
  await withSignedTree(async (tree) => {
    const anchors = parseTrustAnchors(tree.rootAnchor, "root.ds");
    for (const c of cases) {
      await t.step(
        `${c.name}: ${c.expect.security}${c.expect.ede ? ` (EDE ${c.expect.ede})` : ""}`,
        async () => {
          const verdict = await runCase(tree, anchors, c);
          deepEqual([verdict.security, verdict.ede], [c.expect.security, c.expect.ede], verdict.why);
        },
      );
    }
    await t.step("a fetch that fails gives EDE 22, and a second answer costs no fetch", async () => {
      const now = Math.floor(Date.now() / 1000);
      const failing = createValidator({
        anchors,
        now: () => now,
        fetch: () => Promise.reject(new Error("no upstream answered")),
      });
      const response = await tree.ask("www.a8", RRType.A);
      const failed = await failing.validate({ name: "www.a8", type: RRType.A, class: 1 }, response);
      deepEqual([failed.security, failed.ede], ["bogus", 22]);
      const asked: string[] = [];
      const validator = createValidator({
        anchors,
        now: () => now,
        fetch: (name, type) => {
          asked.push(`${name}/${type}`);
          return tree.ask(name, type);
        },
      });
      const question = { name: "www.a8", type: RRType.A, class: 1 };
      const both = await Promise.all([
        validator.validate(question, response),
        validator.validate(question, response),
      ]);
      deepEqual(both.map((v) => v.security), ["secure", "secure"]);
      deepEqual(asked.sort(), ["/48", "a8/43", "a8/48"]);
      equal((await validator.validate(question, response)).security, "secure");
      equal(asked.length, 3);
    });
    await t.step("validated keys expire with their TTL, and at most maxKeyEntries are kept", async () => {
      let now = Math.floor(Date.now() / 1000);
      const asked: string[] = [];
      const options = {
        anchors,
        now: () => now,
        fetch: (name: string, type: number) => {
          asked.push(`${name}/${type}`);
          return tree.ask(name, type);
        },
      };
      const validator = createValidator(options);
      const question = { name: "www.a8", type: RRType.A, class: 1 };
      const response = await tree.ask("www.a8", RRType.A);
      equal((await validator.validate(question, response)).security, "secure");
      now += 299; // the zones' TTL is 300
      equal((await validator.validate(question, response)).security, "secure");
      equal(asked.length, 3);
      now += 2;
      equal((await validator.validate(question, response)).security, "secure");
      equal(asked.length, 6);
      const small = createValidator({ ...options, maxKeyEntries: 1 });
      asked.length = 0;
      const other = await tree.ask("www.a13", RRType.A);
      equal((await small.validate(question, response)).security, "secure");
      equal((await small.validate({ ...question, name: "www.a13" }, other)).security, "secure");
      equal((await small.validate(question, response)).security, "secure");
      deepEqual(asked, ["/48", "a8/43", "a8/48", "/48", "a13/43", "a13/48", "/48", "a8/43", "a8/48"]);
    });
    await t.step("a name deeper than 16 labels below its zone stops the walk (bogus)", async () => {
      const asked: string[] = [];
      const validator = createValidator({
        anchors,
        now: () => Math.floor(Date.now() / 1000),
        fetch: (name, type) => {
          asked.push(`${name}/${type}`);
          return tree.ask(name, type);
        },
      });
      const name = `${"x.".repeat(20)}www.a8`;
      const response = await tree.ask("www.a8", RRType.A);
      const forged = { ...response, answers: [{ ...response.answers[0]!, name }] };
      const verdict = await validator.validate({ name, type: RRType.A, class: 1 }, forged);
      deepEqual([verdict.security, verdict.ede], ["bogus", 6], verdict.why);
      equal(verdict.why, "more than 16 labels walked down for one answer");
      equal(asked.length <= MAX_FETCHES, true);
    });
    await t.step("a DNSKEY trust anchor for one zone: secure there, insecure elsewhere", async () => {
      const keys = await tree.ask("a13", RRType.DNSKEY);
      const ksk = keys.answers.find((record) => record.data.type === "DNSKEY" && record.data.flags === 257)!;
      const validator = createValidator({
        anchors: [ksk],
        now: () => Math.floor(Date.now() / 1000),
        fetch: tree.ask,
      });
      const inside = await validator.validate(
        { name: "www.a13", type: RRType.A, class: 1 },
        await tree.ask("www.a13", 1),
      );
      equal(inside.security, "secure", inside.why);
      const outside = await validator.validate(
        { name: "www.a8", type: RRType.A, class: 1 },
        await tree.ask("www.a8", 1),
      );
      deepEqual([outside.security, outside.why], ["insecure", "www.a8/A: no trust anchor above a8"]);
    });
  });
});
