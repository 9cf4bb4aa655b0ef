/**
 * The validating stage (RFC 4035 section 4, RFC 6840): between the cache and forwarding, so the
 * cache keeps answers already judged. Each question goes upstream with DO=1 and CD=1, whatever
 * the client set, and the answer is validated before anyone sees it:
 * - secure: AD=1 (respond() shows it only to a client that set DO or AD, RFC 6840 section 5.7);
 * - insecure (a provably unsigned delegation) or indeterminate (no trust anchor above it): AD=0;
 * - bogus: a {@link DnssecBogus}, which is SERVFAIL with the EDE that says why, and which the cache
 *   remembers for the failure TTL (RFC 9520).
 * The DNSSEC records (RRSIG, NSEC, NSEC3) go only to a client that set DO=1, unless asked for by
 * type (RFC 4035 section 3.2.1). A client that sets CD=1 gets the upstream's answer as it is, with
 * its own DO passed on (section 3.2.2): nothing is validated for it.
 * @module
 */
import type { DnssecFetch, Validator, Verdict } from "../dnssec/mod.ts";
import {
  DnssecBogus,
  type Message,
  query,
  Rcode,
  reply,
  type ResourceRecord,
  RRType,
  typeCode,
} from "../proto/mod.ts";
import type { Request, Resolve, Stage } from "../resolve/mod.ts";

/** What the stage needs: how to make the validator once it can fetch, and who hears each verdict. */
export interface ValidatingOptions {
  /** Makes the validator; `fetch` asks the upstreams a question with DO=1 and CD=1. */
  readonly validator: (fetch: DnssecFetch) => Validator;
  /** Hears every verdict (metrics, logs). */
  readonly onVerdict?: (verdict: Verdict, question: { name: string; type: number }) => void;
}

/** The EDNS buffer asked of an upstream for a validated answer: signatures make answers larger. */
const VALIDATING_PAYLOAD = 1232;

/** The DNSSEC types a client that did not set DO is not shown unless it asked for them. */
const DNSSEC_TYPES: ReadonlySet<string> = new Set(["RRSIG", "NSEC", "NSEC3"]);

/** The query sent upstream for validation: the client's question with DO=1 and CD=1. */
function validatingQuery(message: Message): Message {
  const payload = Math.max(message.edns?.udpPayloadSize ?? 0, VALIDATING_PAYLOAD);
  return {
    ...message,
    checkingDisabled: true,
    edns: { udpPayloadSize: payload, version: 0, dnssecOk: true, flags: 0, options: [] },
  };
}

/** The context of the validator's own questions: no client, dnsd itself asking. */
const OWN_CONTEXT = {
  client: { transport: "udp", hostname: "127.0.0.1", port: 0 },
  transport: "udp",
  receivedAt: 0,
  size: 0,
} as const satisfies Omit<Request, "message">;

/** `records` without the DNSSEC records a DO=0 client did not ask for. */
function withoutDnssec(records: readonly ResourceRecord[], asked: number): readonly ResourceRecord[] {
  if (!records.some(({ data }) => DNSSEC_TYPES.has(data.type))) return records;
  return records.filter((record) => !DNSSEC_TYPES.has(record.data.type) || typeCode(record.data) === asked);
}

/** What a denial's proof is made of: the SOA and the NSEC or NSEC3 records (RRSIGs go with their set). */
const PROOF_TYPES: ReadonlySet<number> = new Set([RRType.SOA, RRType.NSEC, RRType.NSEC3]);

/**
 * The authority records a secure answer may carry: what the validator checked, and nothing else
 * (RFC 4035 section 3.2.3: AD only when every RRset in the answer and authority sections is
 * authentic). A denial's SOA and proofs, and a wildcard answer's proof, stay with their RRSIGs;
 * the NS set (and a DS beside it) is not validated, and goes, as unbound drops it.
 */
function validatedAuthority(response: Message): readonly ResourceRecord[] {
  return response.authorities.filter(({ data }) =>
    PROOF_TYPES.has(data.type === "RRSIG" ? data.typeCovered : typeCode(data))
  );
}

/**
 * The validated answer for the client: its flags, AD from the verdict, DNSSEC records if DO=1. A
 * secure one holds only validated data: authority records beyond its proofs and the additional
 * section (glue and addresses no one checked) go, so AD vouches for everything shown.
 */
function forClient(client: Message, response: Message, secure: boolean): Message {
  const asked = client.questions[0]!.type;
  const dnssecOk = client.edns?.dnssecOk === true;
  const keep = (records: readonly ResourceRecord[]) => dnssecOk ? records : withoutDnssec(records, asked);
  return reply(client, {
    rcode: response.rcode,
    authenticData: secure,
    answers: keep(response.answers),
    authorities: keep(secure ? validatedAuthority(response) : response.authorities),
    additionals: secure ? [] : keep(response.additionals),
  });
}

/** Makes the validating stage. */
export function validating(options: ValidatingOptions): Stage {
  let validator: Validator | null = null;
  return async function validating(request: Request, next: Resolve): Promise<Message> {
    const message = request.message;
    const question = message.questions[0];
    if (!question || message.checkingDisabled) return next(request);
    // `next` is the same for every request (the chain is built once): the validator asks through it.
    validator ??= options.validator((name, type) =>
      next({
        ...OWN_CONTEXT,
        message: validatingQuery(query({ name, type }, { id: 0, recursionDesired: true })),
      })
    );
    const response = await next({ ...request, message: validatingQuery(message) });
    // SERVFAIL, REFUSED and the like say nothing to validate: passed on as they are.
    if (response.rcode !== Rcode.NOERROR && response.rcode !== Rcode.NXDOMAIN) return response;
    const verdict = await validator.validate(question, response);
    options.onVerdict?.(verdict, question);
    if (verdict.security === "bogus") throw new DnssecBogus(verdict.why, verdict.ede ?? 6);
    return forClient(message, response, verdict.security === "secure");
  };
}
