/**
 * The forwarding stage: sends what local data cannot answer to the upstreams, in order, within
 * one overall deadline, and hands their answer back under the client's ID and question.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate } from "../observe/mod.ts";
import {
  ByteArena,
  DecodeError,
  decodeMessage,
  displayName,
  encodeMessage,
  type Message,
  nameKey,
  Rcode,
  reply,
  type ResourceRecord,
  scanAnswer,
  udpLimit,
  UpstreamError,
  UpstreamTimeout,
  WireResponse,
} from "../proto/mod.ts";
import type { Stage } from "../resolve/mod.ts";
import { type PoolOptions, upstreamPool } from "./upstream_pool.ts";
import { type Exchange, TimeoutSignal } from "./udp_exchange.ts";
import { Deadlines } from "./deadlines.ts";

const log = getLogger(["dnsd", "forward"]);

/** An upstream as the forwarder sees it: a name for logs and a way to exchange packets. */
export interface UpstreamExchange {
  /** How the upstream is named in logs (its address and port). */
  readonly name: string;
  /** Sends one query to this upstream over UDP and resolves with its reply. */
  readonly exchange: Exchange;
  /** The same over TCP, for a reply that came back truncated (TC=1). */
  readonly tcp?: Exchange;
}

/** Counters of the forwarder's work, for the library API (and later the metrics endpoint). */
export interface ForwardCounters {
  /** Queries sent on to the upstreams. */
  forwarded: number;
  /** Forwarded queries an upstream answered. */
  answered: number;
  /** Upstream tries that got no acceptable reply in time. */
  timeouts: number;
  /** Upstream tries that failed another way, such as a network error. */
  failures: number;
  /** Upstream tries whose reply could not be decoded. */
  malformed: number;
  /** Truncated UDP replies asked again over TCP. */
  tcpFallbacks: number;
  /** Upstream SERVFAIL or REFUSED answers that sent the query on to the next upstream. */
  failovers: number;
}

/** Fresh zeroed counters. */
export function createForwardCounters(): ForwardCounters {
  return { forwarded: 0, answered: 0, timeouts: 0, failures: 0, malformed: 0, tcpFallbacks: 0, failovers: 0 };
}

/** Options for {@link forward}. */
export interface ForwardOptions {
  /** The deadline for the whole exchange, over every upstream, in milliseconds. */
  readonly timeoutMs: number;
  /** The source of upstream query IDs; defaults to `crypto.getRandomValues` (RFC 5452 section 9.2). */
  readonly nextId?: () => number;
  /** Milliseconds on a monotonic clock; injected by tests. */
  readonly now?: () => number;
  /** Where to count; defaults to a private set. */
  readonly counters?: ForwardCounters;
  /** The order upstreams are tried in, and their back-off (see {@link upstreamPool}). */
  readonly pool?: Omit<PoolOptions, "now">;
  /**
   * Randomise the case of the question sent upstream (draft-vixie-dnsext-dns0x20); the exchanges
   * must then require the reply to echo it exactly.
   */
  readonly caseRandomization?: boolean;
  /** Where each try's timeout waits; defaults to a private set on the real clock and timers. */
  readonly deadlines?: Deadlines;
}

/** A random 16-bit query ID from the platform's CSPRNG. */
export function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/**
 * A source of random 16-bit IDs from the CSPRNG, drawn a batch at a time: one typed array and one
 * call per 256 IDs instead of per query.
 */
export function randomIds(): () => number {
  const batch = new Uint16Array(256);
  let next = batch.length;
  return function nextId() {
    if (next === batch.length) {
      crypto.getRandomValues(batch);
      next = 0;
    }
    return batch[next++]!;
  };
}

/** Flips each letter of a name to upper or lower case by a random bit from the CSPRNG. */
export function randomizeCase(name: string): string {
  const bits = crypto.getRandomValues(new Uint8Array(Math.ceil(name.length / 8)));
  let mixed = "";
  for (let i = 0; i < name.length; i++) {
    const char = name[i]!;
    mixed += (bits[i >> 3]! >> (i & 7)) & 1 ? char.toUpperCase() : char.toLowerCase();
  }
  return mixed;
}

/** The sections of a query: none (shared, frozen). */
const NO_RECORDS: readonly ResourceRecord[] = Object.freeze([]);

/** The query sent upstream: a fresh ID, RD=1, the client's question, DO and CD; no client options. */
function upstreamQuery(request: Message, id: number, name: string): Message {
  const question = request.questions[0]!;
  return {
    id,
    response: request.response,
    opcode: request.opcode,
    authoritative: request.authoritative,
    truncated: request.truncated,
    recursionDesired: true,
    recursionAvailable: request.recursionAvailable,
    z: false,
    authenticData: false,
    checkingDisabled: request.checkingDisabled,
    rcode: request.rcode,
    // The client's question as it is, unless its case was randomised (0x20).
    questions: request.questions.length === 1 && question.name === name
      ? request.questions
      : request.questions.map((asked) => ({ ...asked, name })),
    answers: NO_RECORDS,
    authorities: NO_RECORDS,
    additionals: NO_RECORDS,
    // Ask for no more than the client can take, so the answer fits without truncation here.
    edns: request.edns && {
      udpPayloadSize: udpLimit(request),
      version: 0,
      dnssecOk: request.edns.dnssecOk,
      flags: 0,
      options: [],
    },
  };
}

/** One exchange within `ms`; not async, since each await of a forwarded query costs a little. */
function attempt(
  exchange: Exchange,
  query: Uint8Array,
  ms: number,
  deadlines: Deadlines,
  began: number | undefined,
): Promise<Uint8Array> {
  const signal = new TimeoutSignal();
  const cancel = deadlines.after(ms, () => signal.abort(), began);
  let pending: Promise<Uint8Array>;
  try {
    pending = exchange(query, signal);
  } catch (error) {
    cancel();
    return Promise.reject(error);
  }
  return pending.then((reply) => {
    cancel();
    return reply;
  }, (error) => {
    cancel();
    throw error;
  });
}

/**
 * An upstream reply, for the client `request`: kept as its bytes when one walk can check it (see
 * lib/wire_answer.ts), else decoded.
 */
function decodeReply(bytes: Uint8Array, upstream: string, request: Message, restoreCase: boolean): Message {
  // A truncated reply is decoded: it is asked again over TCP, never served.
  const scanned = (bytes[2]! & 0x02) === 0 ? scanAnswer(bytes) : null;
  if (scanned) return new WireResponse(request, scanned, restoreCase, null);
  try {
    return decodeMessage(bytes);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new UpstreamError(`Malformed reply from ${upstream}`, { cause: error });
    }
    throw error;
  }
}

/** The client's view of an upstream answer: its ID and question, and owners in its case. */
function toClient(request: Message, answer: Message, restoreCase: boolean): Message {
  if (answer instanceof WireResponse) return answer; // made for this request already
  const question = request.questions[0]!;
  const key = restoreCase ? nameKey(question.name) : "";
  const asAsked = (records: readonly ResourceRecord[]) =>
    restoreCase
      ? records.map((record) => nameKey(record.name) === key ? { ...record, name: question.name } : record)
      : records;
  return reply(request, {
    // an extended rcode cannot reach a client without EDNS (RFC 6891 section 7)
    rcode: answer.rcode > 0xf && !request.edns ? Rcode.SERVFAIL : answer.rcode,
    answers: asAsked(answer.answers),
    authorities: answer.authorities,
    additionals: answer.additionals,
  });
}

/**
 * Forwards a request to the upstreams, in the pool's order, within one overall deadline. Each try
 * gets an equal share of the time left, so a silent upstream still leaves time for the next. A
 * truncated reply is asked again over TCP; a timeout, an error, SERVFAIL or REFUSED moves on to
 * the next upstream. The answer's rcode and all three sections pass through, with the client's ID
 * and question (case as asked) put back; a malformed, mismatched or truncated reply never does.
 * @throws {UpstreamTimeout} when no upstream answered in time
 * @throws {UpstreamError} when the last try failed another way
 */
export function forward(upstreams: readonly UpstreamExchange[], options: ForwardOptions): Stage {
  const {
    timeoutMs,
    nextId = randomIds(),
    now = () => performance.now(),
    counters = createForwardCounters(),
    caseRandomization = false,
  } = options;
  const pool = upstreamPool(upstreams, { ...options.pool, now });
  const info = levelGate(log, "info");
  const debug = levelGate(log, "debug");
  // Upstream queries are carved from slabs: a fresh ArrayBuffer each costs about a microsecond.
  const arena = new ByteArena();
  // Each try's timeout, on one timer for all (on the real clock: the timers are real).
  const deadlines = options.deadlines ?? new Deadlines();
  // On one clock, a try's deadline starts from the time the try already read.
  const sharedClock = options.deadlines === undefined ? options.now === undefined : deadlines.clock === now;

  /** One try at one upstream, begun at `began`: UDP, then TCP if the reply was truncated. */
  function ask(
    request: Message,
    upstream: UpstreamExchange,
    query: Uint8Array,
    ms: number,
    began: number,
  ): Promise<Message> {
    return attempt(upstream.exchange, query, ms, deadlines, sharedClock ? began : undefined).then((bytes) => {
      const answer = decodeReply(bytes, upstream.name, request, caseRandomization);
      return answer.truncated ? overTcp(request, upstream, query, ms - (now() - began)) : answer;
    });
  }

  /** The same try again over TCP, after a truncated UDP reply, in the `left` ms that remain. */
  async function overTcp(request: Message, upstream: UpstreamExchange, query: Uint8Array, left: number) {
    if (!upstream.tcp) throw new UpstreamError(`Truncated reply from ${upstream.name}, and no TCP to retry`);
    counters.tcpFallbacks++;
    const bytes = await attempt(upstream.tcp, query, left, deadlines, undefined);
    const whole = decodeReply(bytes, upstream.name, request, caseRandomization);
    if (whole.truncated) throw new UpstreamError(`Truncated reply from ${upstream.name} even over TCP`);
    return whole;
  }

  return async function forward({ message: request }) {
    const question = request.questions[0]!;
    // The name is shown (displayName) only where something is logged: most queries log nothing.
    if (info()) {
      log.info("Domain '{name}' not found locally. Forwarding query.", { name: displayName(question.name) });
    }
    counters.forwarded++;
    const sentName = caseRandomization ? randomizeCase(question.name) : question.name;
    const query = encodeMessage(upstreamQuery(request, nextId(), sentName), arena);
    const start = now();
    // Built only when needed: an Error captures a stack trace, which costs more than a whole answer.
    let failure: UpstreamError | undefined;
    let refusal: Message | undefined; // an upstream's SERVFAIL or REFUSED, passed on if no one does better
    const order = pool.order(start);
    for (let i = 0; i < order.length; i++) {
      // The clock is read once per try (an op each in Deno): the first try begins at the start.
      const began = i === 0 ? start : now();
      const left = timeoutMs - (began - start);
      if (left <= 0) break;
      const upstream = order[i]!;
      try {
        const answer = await ask(request, upstream, query, left / (order.length - i), began);
        if (answer.rcode === Rcode.SERVFAIL || answer.rcode === Rcode.REFUSED) {
          pool.failed(upstream);
          counters.failovers++;
          refusal = answer;
          log.warning("Upstream {upstream} answered {rcode} for domain '{name}': trying the next", {
            upstream: upstream.name,
            rcode: answer.rcode === Rcode.SERVFAIL ? "SERVFAIL" : "REFUSED",
            name: displayName(question.name),
          });
          continue;
        }
        pool.succeeded(upstream, now() - began);
        if (debug()) {
          log.debug("Received response from upstream server for domain '{name}'.", {
            name: displayName(question.name),
          });
        }
        counters.answered++;
        return toClient(request, answer, caseRandomization);
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        pool.failed(upstream);
        failure = error;
        if (error instanceof UpstreamTimeout) counters.timeouts++;
        else if (error.cause instanceof DecodeError) counters.malformed++;
        else counters.failures++;
        log.warning("Upstream {upstream} failed for domain '{name}': {reason}", {
          upstream: upstream.name,
          name: displayName(question.name),
          reason: error.message,
        });
      }
    }
    if (refusal) return toClient(request, refusal, caseRandomization);
    throw failure ??
      new UpstreamTimeout(`No upstream answered '${displayName(question.name)}' within ${timeoutMs} ms`);
  };
}
