/**
 * Requests a worker passes to the main thread (a NOTIFY, an AXFR or IXFR over UDP: the secondary
 * zones and the transfers live there), and the answers coming back. A stage's error crosses as its class name and text, and is made again here
 * as the same class, so `respond` maps it to the same RCODE as on the main thread.
 * @module
 */
import {
  FormatError,
  type Message,
  NotAuthoritative,
  NotImplemented,
  NotReady,
  QueryFailure,
  Refused,
} from "../proto/mod.ts";
import type { Request } from "../resolve/mod.ts";
import type { RelayedHandler, RelayedReply, RelayedRequest } from "./messages.ts";

/** How long a relayed request waits for the main thread before it fails (SERVFAIL). */
const RELAY_TIMEOUT_MS = 5_000;

/** The errors a relayed request may end with, by class name; any other is SERVFAIL. */
const ERRORS: Readonly<Record<string, new (message: string) => QueryFailure>> = {
  FormatError,
  NotAuthoritative,
  NotImplemented,
  NotReady,
  Refused,
};

/** `error` as it crosses back to the worker. */
export function replyOfError(error: unknown): RelayedReply {
  return error instanceof Error
    ? { ok: false, name: error.name, message: error.message }
    : { ok: false, name: "Error", message: String(error) };
}

/** The error a relayed reply carries, made again. */
function errorOf(reply: Extract<RelayedReply, { ok: false }>): Error {
  const Kind = ERRORS[reply.name];
  return Kind ? new Kind(reply.message) : new Error(reply.message);
}

/**
 * `request` as it can cross: without its trace, and with the client's address read out (a batched
 * socket's peer is read through getters, which a structured clone leaves behind).
 */
export function relayable(request: Request): RelayedRequest {
  const { trace: _trace, client, ...rest } = request;
  return { ...rest, client: { transport: client.transport, hostname: client.hostname, port: client.port } };
}

/** A worker's relayed requests waiting for their answers, by sequence number. */
export class RelayedCalls {
  readonly #send: (seq: number, handler: RelayedHandler, request: RelayedRequest) => void;
  readonly #waiting = new Map<number, { settle: (reply: RelayedReply) => void }>();
  #seq = 0;

  /** @param send posts a request to the main thread, for one of its handlers */
  constructor(send: (seq: number, handler: RelayedHandler, request: RelayedRequest) => void) {
    this.#send = send;
  }

  /** Passes `request` on to `handler`; settles with the main thread's answer, or fails after 5 s without one. */
  call(handler: RelayedHandler, request: Request): Promise<Message | null> {
    const seq = ++this.#seq;
    return new Promise<Message | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        reject(new Error("the main thread did not answer a relayed request"));
      }, RELAY_TIMEOUT_MS);
      this.#waiting.set(seq, {
        settle: (reply) => {
          clearTimeout(timer);
          this.#waiting.delete(seq);
          if (reply.ok) resolve(reply.message);
          else reject(errorOf(reply));
        },
      });
      this.#send(seq, handler, relayable(request));
    });
  }

  /** The main thread's answer to request `seq` (ignored when it is too late). */
  settle(seq: number, reply: RelayedReply): void {
    this.#waiting.get(seq)?.settle(reply);
  }
}
