/**
 * A forwarded or cached response made from an upstream reply kept as bytes ({@link WireAnswer}):
 * encoding it copies the reply and patches in the client's ID, flags, question case, TTLs and OPT
 * record. It is a {@link Message} too: its sections decode the first time something reads them
 * (a stale answer with an EDE, a local CNAME joined to it, a test), and they say the same as the
 * bytes would.
 * @module
 */
import type { ByteArena } from "./arena.ts";
import { decodeMessage, flagWord, HEADER_SIZE } from "./codec.ts";
import { reply, responseEdns, UDP_PAYLOAD_SIZE } from "./message.ts";
import { foldOctet, nameKey, withoutRootDot } from "./name.ts";
import { type Edns, type Message, type Question, type ResourceRecord, RRType } from "./types.ts";
import { labelsAt } from "./wire.ts";
import { receivedTtl, type WireAnswer } from "./wire_answer.ts";

/** How a cached answer's TTLs are served: counted down from its entry's clamped TTL. */
export interface Aging {
  /** The entry's TTL in seconds, after the min/max clamps. */
  readonly entryTtl: number;
  /** Whole seconds since it was stored. */
  readonly elapsed: number;
  /** For a stale answer: the TTL every record gets instead. */
  readonly staleTtl?: number;
}

/**
 * The TTL a cached record is served with. Records may have TTLs above the clamped entry TTL: none
 * may outlive the entry. The answer and authority records (`raise`) set the entry's TTL, so they
 * carry exactly what is left of it, also when --min-ttl raised it above their own (else they would
 * reach 0 while still cached). RFC 1035 section 6.1.3: a cached TTL is what is left. A TTL with the
 * top bit set is 0 (RFC 2181 section 8), never the entry's.
 */
export function servedTtl(ttl: number, aging: Aging, raise: boolean): number {
  if (aging.staleTtl !== undefined) return aging.staleTtl;
  ttl = receivedTtl(ttl);
  const clamped = ttl > aging.entryTtl || (raise && ttl < aging.entryTtl) ? aging.entryTtl : ttl;
  return Math.max(0, clamped - aging.elapsed);
}

/** The OPT record of {@link responseEdns} without its DO bit: root owner, type 41, 1,232 octets, no options. */
const OPT_RECORD = [0, 0, RRType.OPT, UDP_PAYLOAD_SIZE >>> 8, UDP_PAYLOAD_SIZE & 0xff, 0, 0, 0, 0, 0, 0];
/** Where the DO bit's octet lies in it. */
const OPT_DO_OCTET = 7;

/** What a response takes from the client's query (a response made for it has the same fields). */
export type ClientQuery = Pick<
  Message,
  "id" | "opcode" | "recursionDesired" | "checkingDisabled" | "questions" | "edns"
>;

/**
 * The response to `request` built from an upstream reply: the header of `reply(request)` (AA, AD
 * and Z clear, RA set, RD and CD as asked), the question as asked, the reply's RCODE and records,
 * and the client's OPT record. Never copy it by spreading: its sections are getters on the class,
 * which a spread leaves behind. Build a new message with named fields, as {@link reply} does.
 */
export class WireResponse implements Message {
  readonly id: number;
  readonly response = true;
  readonly opcode: number;
  readonly authoritative = false;
  readonly truncated = false;
  readonly recursionDesired: boolean;
  readonly recursionAvailable = true;
  readonly z = false;
  readonly authenticData = false;
  readonly checkingDisabled: boolean;
  readonly rcode: number;
  readonly questions: readonly Question[];
  readonly edns: Edns | null;
  readonly #answer: WireAnswer;
  readonly #restoreCase: boolean;
  readonly #aging: Aging | null;
  #decoded: Message | null = null;

  /**
   * Keeps of the request only what the response shows (not its EDNS options, which may be views of
   * a receive slab that a cache entry must not pin).
   * @param request the client's query
   * @param answer the upstream's reply
   * @param restoreCase put the question's case back on owners spelling it (after 0x20 randomisation)
   * @param aging count TTLs down as a cache entry's; null serves them as they came
   */
  constructor(request: ClientQuery, answer: WireAnswer, restoreCase: boolean, aging: Aging | null) {
    this.id = request.id;
    this.opcode = request.opcode;
    this.recursionDesired = request.recursionDesired;
    this.checkingDisabled = request.checkingDisabled;
    this.rcode = answer.rcode;
    this.questions = request.questions;
    this.edns = responseEdns(request);
    this.#answer = answer;
    this.#restoreCase = restoreCase;
    this.#aging = aging;
  }

  /** `message` as a wire response, when it is one. */
  static of(message: Message): WireResponse | null {
    return message instanceof WireResponse ? message : null;
  }

  /**
   * The response `answer` makes with no client to answer: the reply's own ID, OPCODE, RD and CD,
   * question (in its case) and OPT record, for reading its sections. A cache keeps the answer and
   * not a response, which would hold on to the first client's question and flags.
   */
  static alone(answer: WireAnswer, restoreCase: boolean): WireResponse {
    const own = decodeMessage(answer.bytes); // checked by scanAnswer(): it decodes
    return new WireResponse({ ...own, edns: responseEdns(own) }, answer, restoreCase, null);
  }

  /** The upstream reply it is made from (what a cache keeps). */
  get kept(): WireAnswer {
    return this.#answer;
  }

  /** Whether it puts the question's case back on owners spelling it (after 0x20 randomisation). */
  get restoresCase(): boolean {
    return this.#restoreCase;
  }

  /** The reply's cache TTL, before clamps (see {@link WireAnswer.ttl}). */
  get cacheTtl(): number | null {
    return this.#answer.ttl;
  }

  /** The same answer for another client's query. */
  forRequest(request: ClientQuery): WireResponse {
    return new WireResponse(request, this.#answer, this.#restoreCase, this.#aging);
  }

  /** The same answer with its TTLs aged as a cache entry's. */
  aged(aging: Aging): WireResponse {
    // This response has the request's ID, flags, question and (for responseEdns) DO bit.
    return new WireResponse(this, this.#answer, this.#restoreCase, aging);
  }

  get answers(): readonly ResourceRecord[] {
    return this.#sections().answers;
  }

  get authorities(): readonly ResourceRecord[] {
    return this.#sections().authorities;
  }

  get additionals(): readonly ResourceRecord[] {
    return this.#sections().additionals;
  }

  /** As a plain {@link Message}, sections included: one that may be copied by spreading. */
  plain(): Message {
    return this.#sections();
  }

  /** As {@link plain} (JSON.stringify leaves getters out otherwise). */
  toJSON(): Message {
    return this.plain();
  }

  /** The sections: those of the bytes {@link encode} makes, or when it cannot, of the reply as it came. */
  #sections(): Message {
    if (this.#decoded) return this.#decoded;
    const out = new Uint8Array(this.#length());
    const { answers, authorities, additionals } = this.#write(out) ? decodeMessage(out) : this.#served();
    this.#decoded = reply(this, { rcode: this.rcode, answers, authorities, additionals });
    return this.#decoded;
  }

  /** The reply's sections as it came, decoded once, with owners and TTLs as {@link encode} changes them. */
  #served(): Pick<Message, "answers" | "authorities" | "additionals"> {
    const question = this.questions[0]!;
    const key = nameKey(question.name);
    const aging = this.#aging;
    const upstream = decodeMessage(this.#answer.bytes);
    const served = (records: readonly ResourceRecord[], raise: boolean) =>
      records.map((record) => {
        const name = this.#restoreCase && nameKey(record.name) === key ? question.name : record.name;
        const ttl = aging ? servedTtl(record.ttl, aging, raise) : record.ttl;
        return name === record.name && ttl === record.ttl ? record : { ...record, name, ttl };
      });
    return {
      answers: served(upstream.answers, true),
      authorities: served(upstream.authorities, true),
      additionals: served(upstream.additionals, false),
    };
  }

  #length(): number {
    return this.#answer.end + (this.edns ? OPT_RECORD.length : 0);
  }

  /**
   * The response's bytes, carved from `arena` when given; null when they would be over `limit` (the
   * caller truncates), or the question cannot be written back as asked (escapes).
   */
  encode(limit: number, arena?: ByteArena): Uint8Array | null {
    const length = this.#length();
    if (length > limit) return null;
    // Written straight into the arena's slab: every octet of it is written.
    const out = arena ? arena.take(length) : new Uint8Array(length);
    return this.#write(out) ? out : null;
  }

  /** Writes the response into `out`; false when the question cannot be written back as asked. */
  #write(out: Uint8Array): boolean {
    const answer = this.#answer;
    const name = this.questions[0]!.name;
    if (name.includes("\\")) return false;
    out.set(answer.end === answer.bytes.length ? answer.bytes : answer.bytes.subarray(0, answer.end));
    out[0] = this.id >>> 8;
    out[1] = this.id & 0xff;
    // QR, the OPCODE and RD as asked; AA and TC clear. RA set; Z and AD clear; CD as asked; the RCODE.
    const flags = flagWord(this);
    out[2] = flags >>> 8;
    out[3] = flags & 0xff;
    const answers = answer.answerCount;
    const authorities = answer.authorityCount;
    const arcount = answer.additionalCount + (this.edns ? 1 : 0);
    out[4] = 0;
    out[5] = 1;
    out[6] = answers >>> 8;
    out[7] = answers;
    out[8] = authorities >>> 8;
    out[9] = authorities;
    out[10] = arcount >>> 8;
    out[11] = arcount;
    if (!spell(out, HEADER_SIZE, name)) return false;
    if (this.#restoreCase) {
      for (const owner of answer.questionOwners) if (!spell(out, owner, name)) return false;
    }
    const aging = this.#aging;
    if (aging) {
      for (let i = 0; i < answer.ttlAt.length; i++) {
        const at = answer.ttlAt[i]!;
        const ttl = servedTtl(
          ((out[at]! << 24) | (out[at + 1]! << 16) | (out[at + 2]! << 8) | out[at + 3]!) >>> 0,
          aging,
          i < answer.ttlsBeforeAdditional,
        );
        out[at] = ttl >>> 24;
        out[at + 1] = ttl >>> 16;
        out[at + 2] = ttl >>> 8;
        out[at + 3] = ttl;
      }
    }
    if (this.edns) {
      out.set(OPT_RECORD, answer.end);
      if (this.edns.dnssecOk) out[answer.end + OPT_DO_OCTET] = 0x80;
    }
    return true;
  }
}

/**
 * Writes `name`'s letters over the name at `pos` (following pointers), which spells it in another
 * case; false when it does not spell it (nothing is then sent).
 */
function spell(out: Uint8Array, pos: number, name: string): boolean {
  const text = withoutRootDot(name);
  let at = 0; // in `text`
  while (true) {
    pos = labelsAt(out, pos);
    const length = out[pos]!;
    if (length === 0) return at >= text.length;
    if (at > 0 && text.charCodeAt(at++) !== 0x2e) return false; // the dot between labels
    for (let i = 1; i <= length; i++) {
      const char = text.charCodeAt(at++);
      const octet = out[pos + i]!;
      if (char !== octet && foldOctet(char) !== foldOctet(octet)) return false; // only letters' case may differ
      out[pos + i] = char;
    }
    pos += length + 1;
  }
}
