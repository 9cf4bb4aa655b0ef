/**
 * The pure core of the server: request bytes in, response bytes (or silence) out. Every failure
 * becomes its RCODE here and nowhere else.
 * @module
 */
import {
  BadVersion,
  type ByteArena,
  DecodeError,
  decodeMessage,
  DnssecBogus,
  EdeCode,
  encodeMessage,
  type ExtendedError,
  FormatError,
  HEADER_SIZE,
  headerOnlyReply,
  type Message,
  nameKey,
  NotAuthoritative,
  NotImplemented,
  NotReady,
  Opcode,
  QueryFailure,
  Rcode,
  Refused,
  reply,
  type ResourceRecord,
  responseEdns,
  RRClass,
  typeCode,
  udpLimit,
  unknownOpcodeReply,
  UpstreamError,
  UpstreamTimeout,
  WireResponse,
  withEde,
} from "../proto/mod.ts";
import type { QueryContext, Request, Resolve, ResponseMemo } from "../resolve/mod.ts";
import { Source } from "../observe/mod.ts";
import {
  AnswerSigner,
  rejectionTsig,
  TSIG_TYPE,
  TsigKeyring,
  tsigRoom,
  type UnixClock,
  verifyRequest,
} from "../tsig/mod.ts";
import { UpstreamsBusy } from "../upstream/mod.ts";
import { dispatch, handles, type OpcodeHandlers } from "./dispatch.ts";

/** Receives errors that are not an expected part of DNS (bugs, broken invariants), with the query's context. */
export type Report = (error: unknown, context?: QueryContext) => void;

/**
 * The RCODE, and the Extended DNS Error (RFC 8914) when one helps, for a failure. The single place
 * where errors become RCODEs: everything else throws a typed error and lets this decide.
 */
export function failureCode(error: unknown): { readonly rcode: number; readonly ede?: ExtendedError } {
  if (error instanceof DecodeError || error instanceof FormatError) return { rcode: Rcode.FORMERR };
  if (error instanceof NotImplemented) {
    return { rcode: Rcode.NOTIMP, ede: { code: EdeCode.NOT_SUPPORTED, text: error.message } };
  }
  if (error instanceof BadVersion) return { rcode: Rcode.BADVERS };
  if (error instanceof Refused) {
    return { rcode: Rcode.REFUSED, ede: { code: EdeCode.PROHIBITED, text: error.message } };
  }
  if (error instanceof NotAuthoritative) return { rcode: Rcode.NOTAUTH };
  if (error instanceof NotReady) {
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NOT_READY, text: error.message } };
  }
  if (error instanceof UpstreamsBusy) { // RFC 8914 has no code for "overloaded": Other, with the reason
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.OTHER, text: error.message } };
  }
  if (error instanceof DnssecBogus) {
    return { rcode: Rcode.SERVFAIL, ede: { code: error.ede, text: error.message } };
  }
  if (error instanceof UpstreamTimeout) {
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: error.message } };
  }
  if (error instanceof UpstreamError) {
    return { rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NETWORK_ERROR, text: error.message } };
  }
  return { rcode: Rcode.SERVFAIL }; // a bug: reported, and never explained to the client
}

/**
 * The EDE a failure answer carries, with or without its EXTRA-TEXT. Anyone can ask for a REFUSED
 * or a NOTIMP, from a spoofed source too, so those carry the INFO-CODE alone (six octets, as BIND
 * and unbound send them): an error answer stays about the size of its query. The text is kept only
 * for a client that asked for recursion with a QUERY (why its upstream failed, say).
 */
function edeFor(request: Message, rcode: number, ede: ExtendedError | undefined): ExtendedError | undefined {
  if (!ede || ede.text === "") return ede;
  const explained = request.recursionDesired && request.opcode === Opcode.QUERY &&
    rcode !== Rcode.REFUSED && rcode !== Rcode.NOTIMP;
  return explained ? ede : { code: ede.code, text: "" };
}

/** The response to `request` for a failure, with its EDE when the client speaks EDNS. */
export function failureReply(request: Message, error: unknown): Message {
  const { rcode, ede } = failureCode(error);
  return reply(request, { rcode, edns: withEde(responseEdns(request), edeFor(request, rcode, ede)) });
}

/** How {@link respond} answers: the same for every query of a server (or of a TCP connection). */
export interface RespondOptions {
  /** The resolver chain, for QUERY. */
  readonly resolve: Resolve;
  /** Receives errors that are not an expected part of DNS. */
  readonly report: Report;
  /** The slots for NOTIFY, UPDATE and transfers (see {@link dispatch}); empty: NOTIMP and REFUSED. */
  readonly handlers?: OpcodeHandlers;
  /** Writes one message of a streamed answer: TCP only. */
  readonly write?: (bytes: Uint8Array) => Promise<void>;
  /** Where response bytes are carved from (see {@link ByteArena}); a fresh buffer each when absent. */
  readonly arena?: ByteArena;
  /** The largest response to send; defaults to the client's UDP limit. Over TCP: 65,535. */
  readonly limit?: number;
  /** Keeps encoded responses that stages marked as reusable (see {@link ResponseMemo}). */
  readonly memo?: ResponseMemo;
  /** TSIG keys, to check signed requests and sign their answers; none: every signed request is BADKEY. */
  readonly tsig?: TsigSettings;
  /**
   * Whether an answer to this client may say RA=1: the servers clear RA after `respond`, but a
   * signed answer's RA must be right before it is signed. All when absent.
   */
  readonly recursionAvailable?: ((client: Deno.NetAddr) => boolean) | undefined;
}

/** What TSIG needs on the server side. */
export interface TsigSettings {
  /** The keys (`--tsig-key`). */
  readonly keyring: TsigKeyring;
  /** Seconds since the epoch. */
  readonly clock: UnixClock;
}

const NO_TSIG_KEYS: TsigSettings = {
  keyring: new TsigKeyring([]),
  clock: () => Math.floor(Date.now() / 1000),
};

const NO_HANDLERS: OpcodeHandlers = {};

/** The opcodes dnsd knows (NOTIFY and UPDATE get NOTIMP with their question while their slot is empty). */
const KNOWN_OPCODES: ReadonlySet<number> = new Set([Opcode.QUERY, Opcode.NOTIFY, Opcode.UPDATE]);

/** Whether a response is a referral: its glue may not be dropped without TC (RFC 9471). */
function isReferral(response: Message): boolean {
  return !response.authoritative && response.answers.length === 0 &&
    response.authorities.some(({ data }) => data.type === "NS");
}

/** Where each RRset of a section starts (records of one owner and type are written together). */
function rrsetStarts(records: readonly ResourceRecord[]): number[] {
  const starts: number[] = [];
  for (let i = 0; i < records.length; i++) {
    const [record, previous] = [records[i]!, records[i - 1]];
    if (
      !previous || typeCode(previous.data) !== typeCode(record.data) ||
      nameKey(previous.name) !== nameKey(record.name)
    ) {
      starts.push(i);
    }
  }
  return starts;
}

/**
 * The response with less of its additional section, when that is what keeps it over the limit
 * (RFC 4035 section 3.1.1: TC must not be set only because additional RRSIGs did not fit, and
 * additional data is optional, RFC 2181 section 9): first without its RRSIGs, then as many of its
 * RRsets as fit, in order (as NSD fills it), found in a few encodings by halving; null when even
 * none does not fit, or for a referral, whose glue goes whole or with TC=1.
 */
function lighterAdditionals(
  response: Message,
  limit: number,
  arena: ByteArena | undefined,
): Uint8Array | null {
  const { additionals } = response;
  if (additionals.length === 0) return null;
  const unsigned = additionals.filter(({ data }) => data.type !== "RRSIG");
  const encoded = (records: readonly ResourceRecord[]) =>
    encodeMessage({ ...response, additionals: records }, arena);
  if (unsigned.length < additionals.length) {
    const fitted = encoded(unsigned);
    if (fitted.length <= limit) return fitted;
  }
  if (unsigned.length === 0 || isReferral(response)) return null;
  const starts = [...rrsetStarts(unsigned), unsigned.length];
  let best = encoded([]);
  if (best.length > limit) return null;
  // The first `low` RRsets are known to fit, the first `high` known not to.
  let [low, high] = [0, starts.length - 1];
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    const fitted = encoded(unsigned.slice(0, starts[middle]));
    if (fitted.length <= limit) [low, best] = [middle, fitted];
    else high = middle;
  }
  return best;
}

/**
 * The response as `query`'s client may see it: AD only when it set DO or AD (RFC 6840 section
 * 5.7), so a validated answer kept for one client is shown right to the next.
 */
function shownTo(query: Message, response: Message): Message {
  if (!response.authenticData || query.authenticData || query.edns?.dnssecOk === true) return response;
  return { ...response, authenticData: false };
}

/**
 * Fits a UDP response to the client's limit: less additional data first, then TC=1 with the
 * question only, never part of an RRset.
 */
function fitUdp(response: Message, limit: number, arena: ByteArena | undefined): Uint8Array {
  // An upstream answer kept as bytes is written by patching them; when it does not fit, as any
  // other, made plain first: what follows copies it with changes, and a spread would leave its
  // sections (getters) behind.
  const wire = WireResponse.of(response);
  const patched = wire?.encode(limit, arena);
  if (patched) return patched;
  if (wire) response = wire.plain();
  const bytes = encodeMessage(response, arena);
  if (bytes.length <= limit) return bytes;
  const lighter = lighterAdditionals(response, limit, arena);
  if (lighter) return lighter;
  const truncated: Message = { ...response, truncated: true, answers: [], authorities: [], additionals: [] };
  const cut = encodeMessage(truncated, arena);
  // Only an error reply echoing several questions (FORMERR, NOTIMP) can still be too long.
  return cut.length <= limit ? cut : encodeMessage({ ...truncated, questions: [] }, arena);
}

/**
 * Answers one query. Junk (under 12 octets) and responses (QR=1) get no reply, since any reply
 * could be used to amplify; an undecodable body gets FORMERR with the same ID; an opcode with no
 * handler gets NOTIMP; a QDCOUNT other than 1 gets FORMERR; an EDNS version above 0 gets BADVERS.
 * The rest goes to the handler its opcode calls for ({@link dispatch}).
 * @param query the query as received
 * @param context who sent it, how and when
 * @returns the response to send, or null to stay silent (or when a transfer wrote its own)
 */
export async function respond(
  query: Uint8Array,
  context: QueryContext,
  options: RespondOptions,
): Promise<Uint8Array | null> {
  const { arena, handlers = NO_HANDLERS } = options;
  if (query.length < HEADER_SIZE || (query[2]! & 0x80) !== 0) return null;
  // An opcode dnsd does not know: NOTIMP, header only, before the body is even read.
  if (!KNOWN_OPCODES.has((query[2]! >> 3) & 0x0f)) return unknownOpcodeReply(query);
  let message: Message;
  try {
    message = decodeMessage(query);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return headerOnlyReply(query, failureCode(error).rcode);
  }
  try {
    if (!handles(message.opcode, handlers)) {
      throw new NotImplemented(`opcode ${message.opcode} is not implemented`);
    }
    if (message.questions.length !== 1) throw new FormatError(`${message.questions.length} questions`);
    // QCLASS 0 is reserved and NONE belongs to UPDATE (RFC 6895 section 3.2): no data is of either,
    // so the question is refused here, as unbound and Knot refuse it, rather than sent upstream.
    const asked = message.questions[0]!.class;
    if ((asked === 0 || asked === RRClass.NONE) && message.opcode === Opcode.QUERY) {
      throw new Refused(`class ${asked} cannot be asked for`);
    }
    // RFC 6891 section 6.1.3: a version we do not implement gets BADVERS, with our version (0) in the OPT.
    if (message.edns && message.edns.version > 0) {
      throw new BadVersion(`EDNS version ${message.edns.version}`);
    }
    const { client, transport, receivedAt, size, trace } = context;
    if (hasTsig(message)) return await signedRespond(query, message, context, options);
    // With no observer there is no trace, and the request is the same shape as ever.
    const request: Request = trace === undefined
      ? { message, client, transport, receivedAt, size }
      : { message, client, transport, receivedAt, size, trace };
    const { write } = options;
    const response = await dispatch(request, options.resolve, {
      handlers,
      write: write ?? null,
    });
    if (response === null) return null;
    const bytes = fitUdp(shownTo(message, response), options.limit ?? udpLimit(message), arena);
    options.memo?.remember(query, response, bytes, context.trace?.source);
    return bytes;
  } catch (error) {
    if (!(error instanceof QueryFailure)) options.report(error, context); // expected failures are not noise
    const trace = context.trace;
    if (trace && trace.source !== Source.ADMISSION) {
      trace.source = error instanceof Refused ? Source.REFUSED : Source.ERROR;
    }
    return fitUdp(failureReply(message, error), options.limit ?? udpLimit(message), arena);
  }
}

/** Whether `records` hold a TSIG record. */
function holdsTsig(records: readonly ResourceRecord[]): boolean {
  for (let i = 0; i < records.length; i++) {
    const data = records[i]!.data;
    if (data.type === "unknown" && data.code === TSIG_TYPE) return true;
  }
  return false;
}

/**
 * Whether a request carries a TSIG record (in the additional section: one not last there is a
 * format error, found when it is verified).
 * @throws {FormatError} for a TSIG record in the answer or authority section (RFC 8945 section 5.1)
 */
function hasTsig(message: Message): boolean {
  if (holdsTsig(message.answers) || holdsTsig(message.authorities)) {
    throw new FormatError("a TSIG record outside the additional section");
  }
  return holdsTsig(message.additionals);
}

/**
 * Answers a TSIG-signed request (RFC 8945 section 5): checked first, a failure answered NOTAUTH
 * with the TSIG error (BADKEY, BADSIG unsigned; BADTIME signed); a request that passes is answered
 * as any other, every message of the answer signed in turn. Never kept in the memo: its bytes,
 * MAC and time included, never repeat.
 */
async function signedRespond(
  query: Uint8Array,
  signed: Message,
  context: QueryContext,
  options: RespondOptions,
): Promise<Uint8Array | null> {
  const { handlers = NO_HANDLERS } = options;
  const tsig = options.tsig ?? NO_TSIG_KEYS;
  const verdict = await verifyRequest(query, tsig.keyring, tsig.clock());
  // The TSIG record is not part of what the stages see.
  const message: Message = { ...signed, additionals: signed.additionals.slice(0, -1) };
  if (verdict.kind === "rejected") {
    const refusal = encodeMessage(reply(message, { rcode: Rcode.NOTAUTH, edns: responseEdns(message) }));
    return await rejectionTsig(tsig.keyring.hmacs, refusal, verdict, tsig.clock());
  }
  if (verdict.kind !== "signed") throw new FormatError("a TSIG record that is not the last");
  const { client, transport, receivedAt, size, trace } = context;
  const request: Request = trace === undefined
    ? { message, client, transport, receivedAt, size, tsig: verdict.signed }
    : { message, client, transport, receivedAt, size, trace, tsig: verdict.signed };
  const signer = new AnswerSigner(tsig.keyring.hmacs, verdict.signed, tsig.clock);
  const { write } = options;
  const limit = (options.limit ?? udpLimit(message)) - tsigRoom(verdict.signed.key);
  let response: Message | null;
  try {
    response = await dispatch(request, options.resolve, {
      handlers,
      write: write ? async (streamed) => write(await signer.sign(streamed)) : null,
    });
  } catch (error) {
    if (!(error instanceof QueryFailure)) options.report(error, context);
    response = failureReply(message, error);
  }
  if (response === null) return null;
  const shown = shownTo(message, response);
  const offered = options.recursionAvailable?.(client) ?? true;
  return await signer.sign(
    fitUdp(offered ? shown : { ...shown, recursionAvailable: false }, limit, undefined),
  );
}
