/**
 * What the UDP and TCP servers share: answering one query and sending it, with the SERVFAIL
 * fallback when something unexpected fails; which errors mean the socket closed; a peer's name
 * for logs; and the answer an admission hook's "refuse" gets.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type QueryObserver, RemoteEvents, Source } from "../observe/mod.ts";
import { HEADER_SIZE, headerOnlyReply, type Message, NotReady, Rcode, Refused } from "../proto/mod.ts";
import type { QueryContext, QueryHook, Request, Resolve } from "../resolve/mod.ts";
import { isClosedSocket } from "../net/mod.ts";
import type { ServerCookies } from "../policy/mod.ts";
import { formatAddress } from "../upstream/mod.ts";
import type { OpcodeHandlers } from "./dispatch.ts";
import { padResponse, wantsPadding } from "./padding.ts";
import { type Report, respond, type RespondOptions, type TsigSettings } from "./respond.ts";

const log = getLogger(["dnsd", "server"]);

/** What both servers take beside the resolver. */
export interface ServeOptions {
  /** Runs for every query as it arrives, before any answer (see {@link QueryHook}). */
  readonly hook?: QueryHook | null;
  /** The slots for NOTIFY, UPDATE and transfers. */
  readonly handlers?: OpcodeHandlers;
  /** Milliseconds on a monotonic clock, for each query's arrival time. */
  readonly now?: () => number;
  /** Where events a client can cause are counted and logged (rate-limited); one of the server's own if absent. */
  readonly events?: RemoteEvents;
  /** Whether a client may have cached answers: the memo is skipped for those who may not. All when absent. */
  readonly mayRecurse?: (client: Deno.NetAddr) => boolean;
  /** Whether a response to this client may say RA=1; RA is cleared for the others. All when absent. */
  readonly recursionAvailable?: (client: Deno.NetAddr) => boolean;
  /** DNS cookies: checked in queries, added to answers (none when absent). */
  readonly cookies?: ServerCookies | null;
  /** Told every query's outcome (metrics, the query log); none when absent. */
  readonly observer?: QueryObserver | null;
  /** TSIG keys for signed requests; without them every signed request gets BADKEY. */
  readonly tsig?: TsigSettings;
}

/** Clears RA (the high bit of the fourth octet) in `response` unless `client` is offered recursion. */
export function patchRecursionAvailable(
  response: Uint8Array,
  client: Deno.NetAddr,
  recursionAvailable: ((client: Deno.NetAddr) => boolean) | undefined,
): void {
  if (recursionAvailable && response.length >= HEADER_SIZE && !recursionAvailable(client)) {
    response[3] = response[3]! & 0x7f;
  }
}

/**
 * The kinds of remote events the servers count (see {@link RemoteEvents}): each logs at most one
 * line per interval, however many packets cause it.
 */
export const ServerEvent = {
  /** An unexpected error answering a query: a bug a packet can reach, so still rate-limited. */
  QUERY_ERROR: "query-error",
  /** An answer the kernel would not send (a full send buffer, a source address it cannot reach). */
  SEND_FAILED: "send-failed",
  /** An unexpected error handling a datagram before its query was started. */
  DATAGRAM_ERROR: "datagram-error",
  /** The listening socket failed to read; it is served again. */
  RECEIVE_FAILED: "receive-failed",
} as const;

/** The server's own {@link RemoteEvents}, logging under `dnsd.server`. */
export function serverEvents(): RemoteEvents {
  return new RemoteEvents(log);
}

/** Whether `error` means the socket or connection is gone: nothing to report, nothing to send. */
export function isClosed(error: unknown): boolean {
  return isClosedSocket(error) || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.NotConnected;
}

/** HOST:PORT of a peer, with brackets for IPv6 (a Unix socket by its transport). */
export function peerName(addr: Deno.Addr): string {
  return addr.transport === "udp" || addr.transport === "tcp" ? formatAddress(addr) : addr.transport;
}

/**
 * A {@link Report} that counts unexpected errors in `events` and logs one, stack and all (it is a
 * bug, not bad input: bad input is a typed failure and never reported), at most once per interval.
 */
export function reporter(events: RemoteEvents): Report {
  return function reportQueryError(error, context) {
    events.report(ServerEvent.QUERY_ERROR, "error", "Error handling query from {peer}: {error}", {
      peer: context ? peerName(context.client) : "?",
      error,
    });
  };
}

/** Counts an answer that could not be sent, and logs it (no stack: the client's address caused it). */
export function sendFailed(events: RemoteEvents, peer: Deno.Addr, error?: unknown): void {
  let reason = "refused by the kernel";
  if (error !== undefined) reason = error instanceof Error ? error.message : String(error);
  events.report(ServerEvent.SEND_FAILED, "warning", "Cannot send to {peer}: {reason}", {
    peer: peerName(peer),
    reason,
  });
}

function refusedByPolicy(_request: Request): Promise<Message> {
  return Promise.reject(new Refused("refused by policy"));
}
const REFUSING: OpcodeHandlers = {
  notify: refusedByPolicy,
  update: refusedByPolicy,
  transfer: refusedByPolicy,
};

/** `options` for a query an admission hook said to refuse: REFUSED, whatever its opcode. */
export function policyRefusal(options: RespondOptions): RespondOptions {
  return { ...options, resolve: refusedByPolicy, handlers: REFUSING };
}

/**
 * How a stream or HTTP server makes its responses, none truncated below 65,535 octets: as usual,
 * for a query the hooks refuse (REFUSED), and while it shuts down (SERVFAIL, EDE Not Ready).
 */
export function streamResponding(
  resolve: Resolve,
  events: RemoteEvents,
  options: ServeOptions,
): { responding: RespondOptions; refusing: RespondOptions; shuttingDown: RespondOptions } {
  const responding: RespondOptions = {
    resolve,
    report: reporter(events),
    limit: 65_535,
    ...(options.handlers ? { handlers: options.handlers } : {}),
    ...(options.tsig ? { tsig: options.tsig, recursionAvailable: options.recursionAvailable } : {}),
  };
  return {
    responding,
    refusing: policyRefusal(responding),
    shuttingDown: {
      ...responding,
      resolve: () => Promise.reject(new NotReady("the server is shutting down")),
    },
  };
}

/** How a server answers its queries: the same for every query of a server (or TCP connection). */
export interface Answering {
  /** How responses are made. */
  readonly respond: RespondOptions;
  /** Sends a response to the query's client: at once (true or false: taken or not), or through a promise. */
  send(response: Uint8Array, context: QueryContext): boolean | Promise<unknown>;
  /** Whether debug logging is on (a cheap gate: see lib/observe). */
  debug(): boolean;
  /** Counts answers that could not be sent (rate-limited lines). */
  readonly events: RemoteEvents;
  /** Whether a response to this client may say RA=1 (see {@link ServeOptions}). */
  readonly recursionAvailable?: ((client: Deno.NetAddr) => boolean) | undefined;
  /** Told each query's outcome; the query's context then carries a trace. None when absent. */
  readonly observer?: QueryObserver | null | undefined;
}

/**
 * Answers `query` and sends the answer. When something unexpected fails, the failure is reported
 * and the query still gets SERVFAIL when its header allows one (never junk or responses). An
 * answer that cannot be sent is counted, not reported: the client's address, not a bug, caused it.
 */
export async function answerOrFail(
  query: Uint8Array,
  context: QueryContext,
  answering: Answering,
): Promise<void> {
  let response: Uint8Array | null;
  try {
    response = await respond(query, context, answering.respond);
  } catch (error) {
    if (isClosed(error)) return; // a transfer's connection went away while it was written
    answering.respond.report(error, context);
    if (query.length < HEADER_SIZE || (query[2]! & 0x80) !== 0) return;
    response = headerOnlyReply(query, Rcode.SERVFAIL);
  }
  if (!response) return;
  // Stages write RA=1; it stays only for a client that is offered recursion.
  patchRecursionAvailable(response, context.client, answering.recursionAvailable);
  try {
    const sending = answering.send(response, context);
    // Decided: the rate limit (UDP) has had its say, synchronously, in send().
    const { observer } = answering;
    const trace = context.trace;
    if (observer && trace) {
      const { client, transport, receivedAt } = context;
      observer.observe(
        query,
        response,
        client,
        transport,
        receivedAt,
        trace.source,
        trace.upstream,
        trace.limited,
      );
    }
    // A promise settles once sent (and rejects when not): only `false` says the kernel refused.
    if (sending === false) return sendFailed(answering.events, context.client);
    if (sending !== true) await sending;
    if (answering.debug()) log.debug("Sent response to {peer}", { peer: peerName(context.client) });
  } catch (error) {
    if (!isClosed(error)) sendFailed(answering.events, context.client, error);
  }
}

/** What a stream or HTTP server checks of each query before answering it (see {@link admitQuery}). */
export interface Gate {
  /** The admission hook (access control, rate limits); none when null. */
  readonly hook: QueryHook | null;
  /** DNS cookies, checked in the query and stamped on its answer; none when null. */
  readonly cookies: ServerCookies | null;
  /** Told of queries dropped or answered at once; none when null. */
  readonly observer: QueryObserver | null;
  /** Pad answers to queries that ask for it (RFC 7830): over TLS and HTTPS only. */
  readonly padding: boolean;
}

/** How {@link admitQuery} says to answer a query: through `answering`, or with `early` at once. */
export interface Admitted {
  /** Answers the query (or sends `early`): stamps a cookie and pads as the query calls for. */
  readonly answering: Answering;
  /** An answer made at once without resolving (a malformed cookie's FORMERR), already observed. */
  readonly early: Uint8Array | null;
}

/**
 * Runs a query over a stream or HTTP through the gate, as the TCP, TLS and HTTPS servers do: the
 * hook may drop it (null, observed) or have it refused (`refused`); a malformed COOKIE option is
 * answered at once; every other answer gets a fresh server cookie, and padding when the query
 * carries a Padding option and the transport is encrypted.
 */
export function admitQuery(
  query: Uint8Array,
  context: QueryContext,
  choices: { readonly answering: Answering; readonly refused: Answering; readonly gate: Gate },
): Admitted | null {
  const { hook, cookies, observer, padding } = choices.gate;
  let answering = choices.answering;
  if (hook) {
    const verdict = hook(query, context);
    if (verdict === "drop") {
      observer?.observe(
        query,
        null,
        context.client,
        context.transport,
        context.receivedAt,
        Source.ADMISSION,
        null,
        false,
      );
      return null;
    }
    if (verdict === "refuse") {
      answering = choices.refused;
      if (context.trace) context.trace.source = Source.ADMISSION;
    }
  }
  // Padded after the cookie is stamped, so the padding makes up the whole block.
  if (padding && wantsPadding(query)) {
    const plain = answering;
    answering = { ...plain, send: (response, at) => plain.send(padResponse(response), at) };
  }
  if (cookies === null) return { answering, early: null };
  // A malformed COOKIE option is FORMERR; any other answer carries a fresh server cookie.
  const check = cookies.inspect(query, context.client);
  const early = cookies.early(query, check, false);
  if (early !== null) {
    observer?.observe(
      query,
      early,
      context.client,
      context.transport,
      context.receivedAt,
      Source.ERROR,
      null,
      false,
    );
    return { answering, early };
  }
  if (check !== null) {
    const padded = answering;
    answering = { ...padded, send: (response, at) => padded.send(cookies.stamp(response, check), at) };
  }
  return { answering, early: null };
}
