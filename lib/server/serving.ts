/**
 * What the UDP and TCP servers share: answering one query and sending it, with the SERVFAIL
 * fallback when something unexpected fails; which errors mean the socket closed; a peer's name
 * for logs; and the answer an admission hook's "refuse" gets.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { HEADER_SIZE, headerOnlyReply, type Message, Rcode, Refused } from "../proto/mod.ts";
import type { QueryContext, QueryHook, Request } from "../resolve/mod.ts";
import { isClosedSocket } from "../net/mod.ts";
import { formatAddress } from "../upstream/mod.ts";
import type { OpcodeHandlers } from "./dispatch.ts";
import { respond, type RespondOptions } from "./respond.ts";

const log = getLogger(["dnsd", "server"]);

/** What both servers take beside the resolver. */
export interface ServeOptions {
  /** Runs for every query as it arrives, before any answer (see {@link QueryHook}). */
  readonly hook?: QueryHook | null;
  /** The slots for NOTIFY, UPDATE and transfers. */
  readonly handlers?: OpcodeHandlers;
  /** Milliseconds on a monotonic clock, for each query's arrival time. */
  readonly now?: () => number;
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

/** Logs an unexpected error in answering a query, with the client it came from. */
export function reportError(error: unknown, context?: QueryContext): void {
  log.error("Error handling query from {peer}: {error}", {
    peer: context ? peerName(context.client) : "?",
    error,
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

/** How a server answers its queries: the same for every query of a server (or TCP connection). */
export interface Answering {
  /** How responses are made. */
  readonly respond: RespondOptions;
  /** Sends a response to the query's client: at once (true or false: taken or not), or through a promise. */
  send(response: Uint8Array, context: QueryContext): boolean | Promise<unknown>;
  /** Whether debug logging is on (a cheap gate: see lib/observe). */
  debug(): boolean;
}

/**
 * Answers `query` and sends the answer. When something unexpected fails, the failure is reported
 * and the query still gets SERVFAIL when its header allows one (never junk or responses).
 */
export async function answerOrFail(
  query: Uint8Array,
  context: QueryContext,
  answering: Answering,
): Promise<void> {
  try {
    const response = await respond(query, context, answering.respond);
    if (!response) return;
    const sending = answering.send(response, context);
    // A promise settles once sent (and rejects when not): only `false` says the kernel refused.
    if (sending === false) {
      log.error("Cannot send to {peer}", { peer: peerName(context.client) });
      return;
    }
    if (sending !== true) await sending;
    if (answering.debug()) log.debug("Sent response to {peer}", { peer: peerName(context.client) });
  } catch (error) {
    if (isClosed(error)) return;
    answering.respond.report(error, context);
    if (query.length < HEADER_SIZE || (query[2]! & 0x80) !== 0) return;
    try {
      await answering.send(headerOnlyReply(query, Rcode.SERVFAIL), context);
    } catch {
      // the socket closed meanwhile: nothing more to do
    }
  }
}
