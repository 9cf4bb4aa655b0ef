/**
 * The forwarding stage: sends what local data cannot answer to the upstreams, in order, within
 * one overall deadline, and hands their answer back under the client's ID and question.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate, RemoteEvents } from "../observe/mod.ts";
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
  scrubReply,
  udpLimit,
  UpstreamError,
  WireResponse,
} from "../proto/mod.ts";
import type { Stage } from "../resolve/mod.ts";
import { type PoolOptions, type UpstreamHealth, upstreamPool } from "./upstream_pool.ts";
import { type Exchange, TimeoutSignal } from "./udp_exchange.ts";
import { Deadlines } from "./deadlines.ts";
import { DEFAULT_MAX_OUTSTANDING, UpstreamsBusy } from "./busy.ts";
import { QueryTries, type TryContext } from "./tries.ts";

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
  /** Tries sent because an earlier one got no reply within its upstream's retransmission timeout. */
  retries: number;
  /** Queries asked again without EDNS after an upstream answered FORMERR, NOTIMP or BADVERS to EDNS. */
  ednsFallbacks: number;
  /** Queries answered SERVFAIL at once because too many were waiting for upstreams. */
  busy: number;
}

/** Fresh zeroed counters. */
export function createForwardCounters(): ForwardCounters {
  return {
    forwarded: 0,
    answered: 0,
    timeouts: 0,
    failures: 0,
    malformed: 0,
    tcpFallbacks: 0,
    failovers: 0,
    retries: 0,
    ednsFallbacks: 0,
    busy: 0,
  };
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
  /**
   * The most queries waiting for upstreams at once (`--max-outstanding`, default 10,000); past it
   * a query fails at once with {@link UpstreamsBusy}.
   */
  readonly maxOutstanding?: number;
  /** How long an upstream that failed EDNS is asked without it, in ms (default 15 minutes, as unbound). */
  readonly noEdnsMs?: number;
  /** Where upstream failures are counted and logged; defaults to a private set on the forward logger. */
  readonly events?: RemoteEvents;
  /**
   * Told once, at construction, how to read each upstream's health (by its name): the explain
   * endpoint shows it. The reader returns a snapshot and changes nothing.
   */
  readonly onHealth?: (name: string, health: () => UpstreamHealth) => void;
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

/**
 * The query sent upstream: a fresh ID, RD=1, the client's question, DO and CD; no client options.
 * `edns`: send an OPT record if the client did (off for an upstream that fails EDNS).
 */
function upstreamQuery(request: Message, id: number, name: string, edns: boolean): Message {
  const question = request.questions[0]!;
  return {
    id,
    // A header of our own: AA, TC, RA and the RCODE are a response's fields (RFC 1035 section
    // 4.1.1), and a client's stray bits there would get a FORMERR from a strict upstream.
    response: false,
    opcode: request.opcode,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    z: false,
    authenticData: false,
    checkingDisabled: request.checkingDisabled,
    rcode: Rcode.NOERROR,
    // The client's question as it is, unless its case was randomised (0x20).
    questions: request.questions.length === 1 && question.name === name
      ? request.questions
      : request.questions.map((asked) => ({ ...asked, name })),
    answers: NO_RECORDS,
    authorities: NO_RECORDS,
    additionals: NO_RECORDS,
    // Ask for no more than the client can take, so the answer fits without truncation here.
    edns: edns && request.edns
      ? {
        udpPayloadSize: udpLimit(request),
        version: 0,
        dnssecOk: request.edns.dnssecOk,
        flags: 0,
        options: [],
      }
      : null,
  };
}

/** One exchange within `ms` (or until `signal` fires); not async: each await of a query costs a little. */
function attempt(
  exchange: Exchange,
  query: Uint8Array,
  ms: number,
  deadlines: Deadlines,
  began: number | undefined,
  signal: TimeoutSignal = new TimeoutSignal(),
): Promise<Uint8Array> {
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
 * lib/wire_answer.ts), else decoded and scrubbed of records that do not answer the question
 * (lib/proto/scrub.ts; the walk accepts only replies with none), so they are never cached nor served.
 */
function decodeReply(bytes: Uint8Array, upstream: string, request: Message, restoreCase: boolean): Message {
  // A truncated reply is decoded: it is asked again over TCP, never served.
  const scanned = (bytes[2]! & 0x02) === 0 ? scanAnswer(bytes) : null;
  if (scanned) return new WireResponse(request, scanned, restoreCase, null);
  try {
    // The query sent upstream had the client's DO bit (see upstreamQuery).
    return scrubReply(decodeMessage(bytes), request.questions[0]!, request.edns?.dnssecOk === true);
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
 * Forwards a request to the upstreams, in the pool's order, within one overall deadline. A try
 * with no reply within the upstream's retransmission timeout is followed by another to the next
 * upstream (the same one when there is one), and a late reply to any try is still taken; an
 * upstream not yet asked is always left its share of the time (see tries.ts). A truncated reply is
 * asked again over TCP; an error, SERVFAIL or REFUSED moves on to the next upstream; FORMERR,
 * NOTIMP or BADVERS to a query with EDNS is asked again without it. At most `maxOutstanding`
 * queries wait at once: past that, {@link UpstreamsBusy} at once. The answer's rcode and all three
 * sections (scrubbed) pass through, with the client's ID and question (case as asked) put back; a
 * malformed, mismatched or truncated reply never does.
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
  for (const upstream of upstreams) options.onHealth?.(upstream.name, () => pool.health(upstream));
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
    signal?: TimeoutSignal,
  ): Promise<Message> {
    const from = sharedClock ? began : undefined;
    return attempt(upstream.exchange, query, ms, deadlines, from, signal).then((bytes) => {
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

  const events = options.events ?? new RemoteEvents(log, { now });
  const maxOutstanding = options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
  let outstanding = 0; // queries whose tries are under way
  const context: TryContext = {
    timeoutMs,
    pool,
    deadlines,
    now,
    sharedClock,
    counters,
    events,
    noEdnsMs: options.noEdnsMs ?? 15 * 60_000,
    ask,
    encode: (request, sentName, edns) =>
      encodeMessage(upstreamQuery(request, nextId(), sentName, edns), arena),
    deliver(request, answer) {
      if (debug()) {
        log.debug("Received response from upstream server for domain '{name}'.", {
          name: displayName(request.questions[0]!.name),
        });
      }
      return toClient(request, answer, caseRandomization);
    },
    ended() {
      outstanding--;
    },
  };
  let busy: UpstreamsBusy | undefined; // one for all: an Error's stack trace costs more than an answer

  return function forward({ message: request, trace }) {
    const question = request.questions[0]!;
    if (outstanding >= maxOutstanding) {
      // Coalesced cache misses reach here once, so the cap counts distinct questions in flight.
      counters.busy++;
      events.report(
        "forward.busy",
        "warning",
        "{count} queries are waiting for upstreams: answering SERVFAIL",
        {
          count: outstanding,
        },
      );
      return Promise.reject(busy ??= new UpstreamsBusy("Too many queries waiting for upstreams"));
    }
    // The name is shown (displayName) only where something is logged: most queries log nothing.
    if (debug()) {
      log.debug("Domain '{name}' not found locally. Forwarding query.", { name: displayName(question.name) });
    }
    counters.forwarded++;
    const sentName = caseRandomization ? randomizeCase(question.name) : question.name;
    const query = encodeMessage(upstreamQuery(request, nextId(), sentName, true), arena);
    outstanding++; // QueryTries calls ended() once, however the query ends
    const tries = new QueryTries(context, request, sentName, query, now());
    if (trace === undefined) return tries.promise;
    // Observed: the trace learns which upstream answered.
    return tries.promise.then((answer) => {
      trace.upstream = tries.answeredBy;
      return answer;
    });
  };
}
