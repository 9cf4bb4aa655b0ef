/**
 * The forwarding stage: sends what local data cannot answer to the upstreams, in order, within
 * one overall deadline, and hands their answer back under the client's ID and question.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { decodeMessage, encodeMessage } from "./codec.ts";
import { DecodeError, UpstreamError, UpstreamTimeout } from "./errors.ts";
import { reply, udpLimit } from "./message.ts";
import { displayName } from "./name.ts";
import type { Stage } from "./resolver.ts";
import { type Message, Rcode } from "./types.ts";
import type { Exchange } from "./udp_exchange.ts";

const log = getLogger(["dnsd", "forward"]);

/** An upstream as the forwarder sees it: a name for logs and a way to exchange packets. */
export interface UpstreamExchange {
  /** How the upstream is named in logs (its address and port). */
  readonly name: string;
  /** Sends one query to this upstream and resolves with its reply. */
  readonly exchange: Exchange;
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
}

/** Fresh zeroed counters. */
export function createForwardCounters(): ForwardCounters {
  return { forwarded: 0, answered: 0, timeouts: 0, failures: 0, malformed: 0 };
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
}

/** A random 16-bit query ID from the platform's CSPRNG. */
export function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/** The query sent upstream: a fresh ID, RD=1, the client's question, DO and CD; no client options. */
function upstreamQuery(request: Message, id: number): Message {
  return {
    ...request,
    id,
    recursionDesired: true,
    authenticData: false,
    z: false,
    answers: [],
    authorities: [],
    additionals: [],
    // Ask for no more than the client can take, so the answer fits without truncation here.
    edns: request.edns &&
      { ...request.edns, version: 0, flags: 0, udpPayloadSize: udpLimit(request), options: [] },
  };
}

async function attempt(exchange: Exchange, query: Uint8Array, ms: number): Promise<Uint8Array> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await exchange(query, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

function decodeReply(bytes: Uint8Array, upstream: string): Message {
  try {
    return decodeMessage(bytes);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new UpstreamError(`Malformed reply from ${upstream}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Forwards a request to the upstreams in order. Each try gets an equal share of the time left,
 * so a silent first upstream still leaves time for the next. The upstream's rcode and all three
 * sections pass through; the client's ID and question (case as asked) are put back.
 * @throws {UpstreamTimeout} when no upstream answered in time
 * @throws {UpstreamError} when the last try failed another way
 */
export function forward(upstreams: readonly UpstreamExchange[], options: ForwardOptions): Stage {
  const { timeoutMs, nextId = randomId, now = () => performance.now(), counters = createForwardCounters() } =
    options;
  return async function forward(request) {
    const question = request.questions[0];
    const name = displayName(question?.name ?? "");
    log.info("Domain '{name}' not found locally. Forwarding query.", { name });
    counters.forwarded++;
    const query = encodeMessage(upstreamQuery(request, nextId()));
    const start = now();
    let failure: UpstreamError = new UpstreamTimeout(`No upstream answered '${name}' within ${timeoutMs} ms`);
    for (let i = 0; i < upstreams.length; i++) {
      const left = timeoutMs - (now() - start);
      if (left <= 0) break;
      const upstream = upstreams[i]!;
      try {
        const answer = decodeReply(
          await attempt(upstream.exchange, query, left / (upstreams.length - i)),
          upstream.name,
        );
        if (log.isEnabledFor("debug")) {
          log.debug("Received response from upstream server for domain '{name}'.", { name });
        }
        counters.answered++;
        return reply(request, {
          truncated: answer.truncated,
          // an extended rcode cannot reach a client without EDNS (RFC 6891 section 7)
          rcode: answer.rcode > 0xf && !request.edns ? Rcode.SERVFAIL : answer.rcode,
          answers: answer.answers,
          authorities: answer.authorities,
          additionals: answer.additionals,
        });
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        failure = error;
        if (error instanceof UpstreamTimeout) counters.timeouts++;
        else if (error.cause instanceof DecodeError) counters.malformed++;
        else counters.failures++;
        log.warning("Upstream {upstream} failed for domain '{name}': {reason}", {
          upstream: upstream.name,
          name,
          reason: error.message,
        });
      }
    }
    throw failure;
  };
}
