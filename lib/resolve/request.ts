/**
 * The request context: what every stage and hook sees beside the message (hickory's `Request`
 * carries the source address and protocol the same way). Policy needs it: access control and
 * rate limiting by client, `allow-recursion` by network, the query log by transport and time.
 * @module
 */
import type { Message } from "../proto/mod.ts";
import type { Trace } from "../observe/mod.ts";
import type { SignedRequest } from "../tsig/mod.ts";

/** How a query came in. `tls` and `https` are named now so stages can be written for them. */
export type Transport = "udp" | "tcp" | "tls" | "https";

/** Who sent a query, how, when, and how big it was. */
export interface QueryContext {
  /** The client's address and port. */
  readonly client: Deno.NetAddr;
  /** The transport the query came over. */
  readonly transport: Transport;
  /** When it arrived: milliseconds on the server's monotonic clock (`performance.now()`). */
  readonly receivedAt: number;
  /** The query's size in octets, as received (without the TCP length prefix). */
  readonly size: number;
  /** Where the stages say the answer came from; only when an observer is configured (see lib/observe). */
  readonly trace?: Trace;
}

/** A decoded query and its context: what a stage receives. */
export interface Request extends QueryContext {
  /** The query. */
  readonly message: Message;
  /**
   * The query's TSIG key and record when it was signed and checked (RFC 8945); its answer is signed
   * with that key. Absent for an unsigned query (one that failed its check never reaches a stage).
   */
  readonly tsig?: SignedRequest;
}

/** Turns a request into a response. */
export type Resolve = (request: Request) => Promise<Message>;

/** One step of the chain: answer, or pass the request on to `next`. */
export type Stage = (request: Request, next: Resolve) => Promise<Message>;

/**
 * What an admission hook decides for a query: answer it as usual, answer REFUSED without
 * resolving it, or drop it with no answer at all.
 */
export type Verdict = "answer" | "refuse" | "drop";

/**
 * Runs for every query as it arrives, before any answer is sent, including the queries the memo
 * answers from stored bytes: where access control, rate limiting, metrics and the query log sit.
 * `wire` is the query as received and, like `context.client`, good only during the call. It must
 * be cheap: it runs on the hot path.
 */
export type QueryHook = (wire: Uint8Array, context: QueryContext) => Verdict;

/** Runs `hooks` in order; the first that does not say "answer" decides. Null when there are none. */
export function admission(hooks: readonly QueryHook[]): QueryHook | null {
  if (hooks.length === 0) return null;
  if (hooks.length === 1) return hooks[0]!;
  return function admission(wire, context) {
    for (const hook of hooks) {
      const verdict = hook(wire, context);
      if (verdict !== "answer") return verdict;
    }
    return "answer";
  };
}
