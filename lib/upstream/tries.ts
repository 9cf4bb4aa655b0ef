/**
 * The tries of one forwarded query, within its deadline. A try that gets no reply within the
 * upstream's retransmission timeout (see rtt.ts) is followed by another, with a fresh ID, to the
 * next upstream (the same one when there is one): RFC 1035 section 4.2.1. Earlier tries stay open
 * until the query ends, so a late reply to any of them is taken: each carries its own ID and is
 * checked as any reply is. An answer of FORMERR, NOTIMP or BADVERS to a query with EDNS is asked
 * again without EDNS (RFC 6891 section 7), and an upstream that then answers is asked without
 * EDNS for a while, as unbound does.
 * @module
 */
import {
  DecodeError,
  displayName,
  type Message,
  Rcode,
  UpstreamError,
  UpstreamTimeout,
} from "../proto/mod.ts";
import type { RemoteEvents } from "../observe/mod.ts";
import type { Deadlines } from "./deadlines.ts";
import type { UpstreamPool } from "./upstream_pool.ts";
import { TimeoutSignal } from "./udp_exchange.ts";
import type { ForwardCounters, UpstreamExchange } from "./forward.ts";

/** The most tries one query makes: the doubling timeouts end far sooner within any sane deadline. */
export const MAX_TRIES = 16;

/** What one forwarder shares with the tries of each of its queries. */
export interface TryContext {
  /** The deadline of a whole query, in ms. */
  readonly timeoutMs: number;
  /** Upstream order, health, timeouts and EDNS. */
  readonly pool: UpstreamPool<UpstreamExchange>;
  /** Where the retransmission timers wait. */
  readonly deadlines: Deadlines;
  /** The forwarder's clock. */
  readonly now: () => number;
  /** Whether a time read from `now` may be handed to `deadlines` (the same clock). */
  readonly sharedClock: boolean;
  /** Where to count. */
  readonly counters: ForwardCounters;
  /** Where upstream failures are logged, at most once per interval per kind. */
  readonly events: RemoteEvents;
  /** How long an upstream that failed EDNS is asked without it, in ms. */
  readonly noEdnsMs: number;
  /** One try: UDP, then TCP when the reply is truncated, within `ms`; `signal` stops it early. */
  ask(
    request: Message,
    upstream: UpstreamExchange,
    query: Uint8Array,
    ms: number,
    began: number,
    signal: TimeoutSignal,
  ): Promise<Message>;
  /** The query octets for one more try: a fresh ID, with EDNS (when the client sent it) or without. */
  encode(request: Message, sentName: string, edns: boolean): Uint8Array;
  /** The client's view of the upstream answer that ends the query. */
  deliver(request: Message, answer: Message): Message;
  /** Told once, when the query ends either way. */
  ended(): void;
}

/** One query sent to one upstream. */
interface Try {
  /** The upstream's place in the query's order. */
  readonly at: number;
  readonly signal: TimeoutSignal;
  readonly began: number;
  /** How long it waits before the next try is sent. */
  readonly waitMs: number;
  /** Sent without EDNS to a client query that had it. */
  readonly plain: boolean;
  /** The retry without EDNS after a FORMERR, NOTIMP or BADVERS. */
  readonly fallback: boolean;
  /** No reply or error yet, and not stopped. */
  open: boolean;
  /** Its wait ran out with no reply. */
  expired: boolean;
}

/** Whether an rcode to a query with EDNS means "ask me without it" (RFC 6891 section 7). */
function refusesEdns(rcode: number): boolean {
  return rcode === Rcode.FORMERR || rcode === Rcode.NOTIMP || rcode === Rcode.BADVERS;
}

/**
 * The RCODEs an answer to a query can carry on to the client (RFC 1035, and YXDOMAIN for a DNAME
 * that overflows, RFC 6672): the rest (UPDATE's, TSIG's, DSO's, unassigned ones, extended ones
 * but BADVERS, which the EDNS retry reads) say the upstream is broken, and count as its failure.
 */
const ANSWER_RCODES: ReadonlySet<number> = new Set([
  Rcode.NOERROR,
  Rcode.FORMERR,
  Rcode.SERVFAIL,
  Rcode.NXDOMAIN,
  Rcode.NOTIMP,
  Rcode.REFUSED,
  Rcode.YXDOMAIN,
]);

/** The tries of one query; `promise` settles with the client's answer or the failure. */
export class QueryTries {
  /** The client's answer, or an UpstreamError (or a bug) when no upstream gave one. */
  readonly promise: Promise<Message>;
  readonly #ctx: TryContext;
  readonly #request: Message;
  readonly #sentName: string;
  readonly #order: readonly UpstreamExchange[];
  readonly #deadline: number;
  readonly #tries: Try[] = [];
  /** Upstreams asked so far: always the first ones in the order. */
  #asked = 0;
  /** Upstreams out of this query (they failed or refused), by place; null until one is. */
  #out: boolean[] | null = null;
  #open = 0;
  #done = false;
  #cancelTimer: (() => void) | null = null;
  #refusal: Message | undefined;
  /** The upstream whose answer ended the query, by name; null until one did. */
  answeredBy: string | null = null;
  #failure: UpstreamError | undefined;
  #resolve!: (answer: Message) => void;
  #reject!: (error: unknown) => void;

  /**
   * Starts the first try at once.
   * @param query the first try's octets, with EDNS when the client sent it
   * @param start the time the query began, on the context's clock
   */
  constructor(ctx: TryContext, request: Message, sentName: string, query: Uint8Array, start: number) {
    this.#ctx = ctx;
    this.#request = request;
    this.#sentName = sentName;
    this.#order = ctx.pool.order(start);
    this.#deadline = start + ctx.timeoutMs;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    try {
      if (this.#order.length === 0) this.#giveUp();
      else this.#send(0, start, false, query);
    } catch (bug) {
      this.#finish(undefined, -1, bug); // ended() still called once: the outstanding count stays true
    }
  }

  /** Sends a try to the upstream at `at`; `query` when the caller has the octets already. */
  #send(at: number, time: number, fallback: boolean, query?: Uint8Array): void {
    const ctx = this.#ctx;
    const upstream = this.#order[at]!;
    const left = this.#deadline - time;
    const edns = this.#request.edns !== null && !fallback && !ctx.pool.avoidsEdns(upstream, time);
    const bytes = query !== undefined && edns === (this.#request.edns !== null)
      ? query
      : ctx.encode(this.#request, this.#sentName, edns);
    const attempt: Try = {
      at,
      signal: new TimeoutSignal(),
      began: time,
      waitMs: this.#waitFor(at, left),
      plain: this.#request.edns !== null && !edns,
      fallback,
      open: true,
      expired: false,
    };
    if (at === this.#asked) this.#asked++;
    this.#tries.push(attempt);
    this.#open++;
    ctx.ask(this.#request, upstream, bytes, left, time, attempt.signal).then(
      (answer) => this.#answered(attempt, answer),
      (error) => this.#failed(attempt, error),
    );
    this.#arm(attempt);
  }

  /**
   * How long a try at `at` waits: the upstream's timeout, doubled for each earlier try this query
   * made to it, and no more than an equal share of the time left with the upstreams not yet asked.
   */
  #waitFor(at: number, left: number): number {
    let wait = this.#ctx.pool.rto(this.#order[at]!);
    for (const earlier of this.#tries) if (earlier.at === at) wait = Math.max(wait, earlier.waitMs * 2);
    const sharing = this.#order.length - this.#asked + (at < this.#asked ? 1 : 0);
    return Math.min(wait, left / sharing);
  }

  /** Waits for `attempt`'s timeout, unless the query's deadline comes first. */
  #arm(attempt: Try): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    if (attempt.began + attempt.waitMs >= this.#deadline) return; // the deadline ends it
    const ctx = this.#ctx;
    this.#cancelTimer = ctx.deadlines.after(
      attempt.waitMs,
      () => this.#expired(attempt),
      ctx.sharedClock ? attempt.began : undefined,
    );
  }

  /** `attempt` waited its timeout: the query is asked again, of the next upstream. */
  #expired(attempt: Try): void {
    this.#cancelTimer = null;
    if (this.#done) return;
    if (attempt.open) {
      attempt.expired = true;
      this.#ctx.pool.timedOut(this.#order[attempt.at]!, attempt.waitMs);
    }
    this.#onward(attempt.at, true);
  }

  /** Sends the next try after the upstream at `from`, if time and tries are left; else may give up. */
  #onward(from: number, retry: boolean): void {
    const time = this.#ctx.now();
    const at = this.#next(from);
    if (at >= 0 && time < this.#deadline && this.#tries.length < MAX_TRIES) {
      if (retry) this.#ctx.counters.retries++;
      this.#send(at, time, false);
      return;
    }
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    if (this.#open === 0) this.#giveUp();
  }

  /** The next upstream after `from` still in the query, in order and round again; -1 when none. */
  #next(from: number): number {
    const count = this.#order.length;
    for (let step = 1; step <= count; step++) {
      const at = (from + step) % count;
      if (!this.#out?.[at]) return at;
    }
    return -1;
  }

  /** An upstream that refused or failed is asked no more in this query; its open tries stop. */
  #leave(at: number): void {
    (this.#out ??= [])[at] = true;
    for (const attempt of this.#tries) {
      if (attempt.at === at && attempt.open) this.#close(attempt);
    }
  }

  /** Stops an open try: its exchange ends and frees its ID; what it says afterwards is ignored. */
  #close(attempt: Try): void {
    attempt.open = false;
    this.#open--;
    attempt.signal.abort();
  }

  #answered(attempt: Try, answer: Message): void {
    if (!attempt.open || this.#done) return;
    const rcode = answer.rcode;
    const retriesEdns = !attempt.plain && this.#request.edns !== null && refusesEdns(rcode);
    if (!ANSWER_RCODES.has(rcode) && !retriesEdns) {
      const name = this.#order[attempt.at]!.name;
      return this.#failed(
        attempt,
        new UpstreamError(`Upstream ${name} answered RCODE ${rcode}, which no query gets`),
      );
    }
    attempt.open = false;
    this.#open--;
    const ctx = this.#ctx;
    const upstream = this.#order[attempt.at]!;
    if (retriesEdns) {
      // One retry without EDNS per upstream and query, however many EDNS tries come back so.
      if (this.#tries.some((other) => other.fallback && other.at === attempt.at)) return this.#settleIfIdle();
      const time = ctx.now();
      if (time < this.#deadline && this.#tries.length < MAX_TRIES) {
        ctx.counters.ednsFallbacks++;
        this.#send(attempt.at, time, true);
        return;
      } // else no time to ask again: this answer is passed on as it came
    }
    if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) {
      ctx.pool.failed(upstream);
      ctx.counters.failovers++;
      this.#refusal = answer;
      ctx.events.report(
        "forward.refused",
        "warning",
        "Upstream {upstream} answered {rcode} for domain '{name}': trying the next",
        {
          upstream: upstream.name,
          rcode: rcode === Rcode.SERVFAIL ? "SERVFAIL" : "REFUSED",
          name: displayName(this.#request.questions[0]!.name),
        },
      );
      this.#leave(attempt.at);
      this.#onward(attempt.at, false);
      return;
    }
    const time = ctx.now();
    if (attempt.fallback && !refusesEdns(rcode)) {
      // Marked only once the plain query worked: a FORMERR about something else marks nothing.
      ctx.pool.avoidEdns(upstream, time + ctx.noEdnsMs);
      ctx.events.report(
        "forward.no-edns",
        "warning",
        "Upstream {upstream} failed a query with EDNS and answered it without: no EDNS to it for {minutes} min",
        { upstream: upstream.name, minutes: Math.round(ctx.noEdnsMs / 60_000) },
      );
    }
    ctx.pool.succeeded(upstream, time - attempt.began);
    ctx.counters.answered++;
    this.#finish(answer, attempt.at);
  }

  #failed(attempt: Try, error: unknown): void {
    if (!attempt.open || this.#done) return;
    attempt.open = false;
    this.#open--;
    const ctx = this.#ctx;
    if (!(error instanceof UpstreamError)) return this.#finish(undefined, -1, error); // a bug: passed on
    this.#failure = error;
    if (error instanceof UpstreamTimeout) {
      attempt.expired = true;
      ctx.counters.timeouts++;
      // The query's deadline fired the try's signal: every try still open ends now.
      if (attempt.signal.aborted) return this.#settleIfIdle();
      // Else the exchange gave up on its own (its TCP retry ran out of time, say): a failure.
    } else if (error.cause instanceof DecodeError) ctx.counters.malformed++;
    else ctx.counters.failures++;
    const upstream = this.#order[attempt.at]!;
    ctx.pool.failed(upstream);
    ctx.events.report(
      "forward.failed",
      "warning",
      "Upstream {upstream} failed for domain '{name}': {reason}",
      {
        upstream: upstream.name,
        name: displayName(this.#request.questions[0]!.name),
        reason: error.message,
      },
    );
    this.#leave(attempt.at);
    this.#onward(attempt.at, false);
  }

  /** Gives up once no try is open (nothing else would end the query). */
  #settleIfIdle(): void {
    if (this.#open === 0 && this.#cancelTimer === null) this.#giveUp();
  }

  /** No upstream answered: the last SERVFAIL or REFUSED as it came, else the failure. */
  #giveUp(): void {
    if (this.#refusal) return this.#finish(this.#refusal, -1);
    const name = displayName(this.#request.questions[0]!.name);
    const failure = this.#failure ??
      new UpstreamTimeout(`No upstream answered '${name}' within ${this.#ctx.timeoutMs} ms`);
    if (failure instanceof UpstreamTimeout) {
      this.#ctx.events.report("forward.timeout", "warning", "No upstream answered '{name}' within {ms} ms", {
        name,
        ms: this.#ctx.timeoutMs,
      });
    }
    this.#finish(undefined, -1, failure);
  }

  /**
   * Ends the query: stops every open try, and marks as failed each upstream that let a try time
   * out and never answered (`from`: the upstream that answered, or -1).
   */
  #finish(answer: Message | undefined, from: number, error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    const ctx = this.#ctx;
    let failed: number[] | undefined;
    for (const attempt of this.#tries) {
      if (attempt.open) {
        if (attempt.expired) ctx.counters.timeouts++;
        this.#close(attempt);
      }
      if (
        attempt.expired && attempt.at !== from && !this.#out?.[attempt.at] && !failed?.includes(attempt.at)
      ) {
        (failed ??= []).push(attempt.at);
        ctx.pool.failed(this.#order[attempt.at]!);
      }
    }
    ctx.ended();
    if (!answer) return this.#reject(error);
    if (from >= 0) this.answeredBy = this.#order[from]?.name ?? null;
    try {
      this.#resolve(ctx.deliver(this.#request, answer));
    } catch (bug) {
      this.#reject(bug); // never left unsettled: the client would get no answer at all
    }
  }
}
