/**
 * Self-test assertions (`[[assert]]` in the config file): questions with the answer the operator
 * expects, asked of the resolver chain of a new config before it is used. Nothing goes on the
 * network: the chain's forwarding stage is replaced by one that only says where the question
 * would go. No peer checks a config this way before swapping it in; a home lab runs the same
 * check in CI with `--check`.
 * @module
 */
import {
  EdeCode,
  edeOf,
  formatRData,
  type Message,
  query,
  Rcode,
  RRClass,
  typeFromText,
  typeName,
} from "../proto/mod.ts";
import type { Request, Resolve, Stage } from "../resolve/mod.ts";
import { typedData } from "../zone/mod.ts";

/** What an assertion may expect instead of RDATA. */
export type AssertedOutcome = "NXDOMAIN" | "NODATA" | "BLOCKED" | "REFUSED" | "FORWARDED";

/** One assertion. */
export interface Assertion {
  /** The name asked for. */
  readonly name: string;
  /** The record type's mnemonic (A, AAAA, MX, TYPE65, ...). */
  readonly type: string;
  /** The RDATA of the answer (presentation form, any order), or an outcome. */
  readonly expect: readonly string[] | AssertedOutcome;
  /** With FORWARDED: the upstream (`HOST:PORT`) the question must go to first. */
  readonly upstream?: string;
  /** Where it is written, `FILE:LINE`, for messages. */
  readonly where: string;
}

/** The forwarding stage's stand-in: it sends nothing, and says where the question would go. */
class WouldForward extends Error {
  constructor(readonly upstreams: readonly string[]) {
    super("would forward");
  }
}

/**
 * The stage that takes the place of forwarding while assertions run.
 * @param route the upstreams (`HOST:PORT`, in the order tried) a name would be forwarded to
 */
export function wouldForward(route: (name: string) => readonly string[]): Stage {
  return (request) => Promise.reject(new WouldForward(route(request.message.questions[0]?.name ?? "")));
}

/** The context an assertion's question is asked in: from loopback over UDP, at time 0. */
function requestFor(message: Message): Request {
  return {
    message,
    client: { transport: "udp", hostname: "127.0.0.1", port: 0 },
    transport: "udp",
    receivedAt: 0,
    size: 0,
  };
}

/** The outcome or RDATA of a response, in the words an assertion uses. */
function describe(response: Message, type: number): string {
  if (edeOf(response.edns).some((error) => error.code === EdeCode.BLOCKED)) return "BLOCKED";
  if (response.rcode === Rcode.NXDOMAIN) return "NXDOMAIN";
  if (response.rcode === Rcode.REFUSED) return "REFUSED";
  if (response.rcode !== Rcode.NOERROR) return `rcode ${response.rcode}`;
  const data = response.answers.filter((record) => record.data.type === typeName(type) || type === 255);
  if (data.length === 0) return "NODATA";
  return data.map((record) => formatRData(record.data)).sort().join(", ");
}

/** Each expected RDATA in the form formatRData gives, or the reason one is not RDATA. */
function expectedData(type: number, texts: readonly string[]): string[] | string {
  const out: string[] = [];
  for (const text of texts) {
    const data = typedData(type, text);
    if (typeof data === "string") return `"${text}" is not ${typeName(type)} RDATA: ${data}`;
    out.push(formatRData(data));
  }
  return out.sort();
}

/**
 * Asks `resolve` each assertion's question (RD=1, with EDNS so a blocked answer shows EDE 15).
 * @param resolve a resolver chain whose forwarding stage is {@link wouldForward}
 * @returns one line per failed assertion, `FILE:LINE: what was expected and what came`; empty when all hold
 */
export async function checkAssertions(assertions: readonly Assertion[], resolve: Resolve): Promise<string[]> {
  const failures: string[] = [];
  for (const assertion of assertions) {
    const failed = await checkOne(assertion, resolve);
    if (failed !== null) {
      failures.push(`${assertion.where}: assert ${assertion.name} ${assertion.type}: ${failed}`);
    }
  }
  return failures;
}

async function checkOne(assertion: Assertion, resolve: Resolve): Promise<string | null> {
  const type = typeFromText(assertion.type);
  if (type === null) return `"${assertion.type}" is not a record type`;
  const message = query({ name: assertion.name, type, class: RRClass.IN }, {
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
  });
  let got: string;
  let upstreams: readonly string[] = [];
  try {
    got = describe(await resolve(requestFor(message)), type);
  } catch (error) {
    if (!(error instanceof WouldForward)) return `failed: ${error instanceof Error ? error.message : error}`;
    got = "FORWARDED";
    upstreams = error.upstreams;
  }
  const { expect } = assertion;
  if (typeof expect === "string") {
    if (got !== expect) return `expected ${expect}, got ${got}`;
    if (expect === "FORWARDED" && assertion.upstream !== undefined && upstreams[0] !== assertion.upstream) {
      return `expected forwarding to ${assertion.upstream}, would go to ${upstreams.join(", ") || "nowhere"}`;
    }
    return null;
  }
  const want = expectedData(type, expect);
  if (typeof want === "string") return want;
  return got === want.join(", ") ? null : `expected ${want.join(", ") || "no records"}, got ${got}`;
}
