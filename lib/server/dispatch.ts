/**
 * The opcode dispatcher in front of the chain: QUERY goes to the resolver chain, and NOTIFY
 * (RFC 1996), UPDATE (RFC 2136) and the zone transfers AXFR (RFC 5936) and IXFR (RFC 1995) each
 * have a slot of their own. An empty slot keeps dnsd's answer: NOTIMP for NOTIFY and UPDATE,
 * REFUSED for transfers. A transfer handler may write many messages on one TCP connection.
 * @module
 */
import { type Message, NotImplemented, Opcode, Refused, RRType } from "../proto/mod.ts";
import type { Request, Resolve } from "../resolve/mod.ts";

/**
 * Writes one message of a streamed answer (TCP only), encoded: the server signs it when the request
 * was signed (TSIG), and rejects once the connection is gone so the handler stops.
 */
export type WriteMessage = (message: Uint8Array) => Promise<void>;

/**
 * Answers a zone transfer request. Over TCP, `write` sends each message of the transfer in turn
 * and the handler resolves with null once it wrote them all (or with one last message to send).
 * Over UDP `write` is null: one message, at most, answers.
 */
export type TransferHandler = (request: Request, write: WriteMessage | null) => Promise<Message | null>;

/** The handler slots for opcodes other than QUERY, and for transfers; empty ones keep today's answers. */
export interface OpcodeHandlers {
  /** NOTIFY (RFC 1996): a primary says a zone changed. */
  readonly notify?: Resolve;
  /** UPDATE (RFC 2136): dynamic update. */
  readonly update?: Resolve;
  /** AXFR and IXFR (RFC 5936, RFC 1995). */
  readonly transfer?: TransferHandler;
}

function notImplemented(request: Request): Promise<never> {
  return Promise.reject(new NotImplemented(`opcode ${request.message.opcode} is not implemented`));
}

function refuseTransfer(): Promise<never> {
  return Promise.reject(new Refused("zone transfers are not served"));
}

/** Whether `opcode` has a handler here; the others get NOTIMP before anything else is checked. */
export function handles(opcode: number, handlers: OpcodeHandlers): boolean {
  return opcode === Opcode.QUERY || (opcode === Opcode.NOTIFY && handlers.notify !== undefined) ||
    (opcode === Opcode.UPDATE && handlers.update !== undefined);
}

/**
 * Hands `request` to the handler its opcode (and, for a transfer, its QTYPE) calls for.
 * @returns the response, or null when a transfer handler wrote everything itself
 */
export function dispatch(
  request: Request,
  resolve: Resolve,
  options: { readonly handlers: OpcodeHandlers; readonly write: WriteMessage | null },
): Promise<Message | null> {
  const { handlers, write } = options;
  switch (request.message.opcode) {
    case Opcode.QUERY: {
      const type = request.message.questions[0]!.type;
      if (type === RRType.AXFR || type === RRType.IXFR) {
        return (handlers.transfer ?? refuseTransfer)(request, write);
      }
      return resolve(request);
    }
    case Opcode.NOTIFY:
      return (handlers.notify ?? notImplemented)(request);
    case Opcode.UPDATE:
      return (handlers.update ?? notImplemented)(request);
    default:
      return notImplemented(request);
  }
}
