/**
 * The messages the encrypted exchanges' tests pass through their fake servers: a query for a name
 * under an ID, the fake's answer to it (one A record, 192.0.2.1), and a reply's ID.
 * @module
 */
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query } from "../../lib/proto/message.ts";
import { RRClass, RRType } from "../../lib/proto/types.ts";

/** The query octets for `name` A under `id`. */
export function ask(name: string, id: number): Uint8Array {
  return encodeMessage(query({ name, type: RRType.A }, { id }));
}

/** The answer to the query octets `bytes`: their ID and question, one A record. */
export function answer(bytes: Uint8Array): Uint8Array {
  const sent = decodeMessage(bytes);
  return encodeMessage({
    ...sent,
    response: true,
    answers: [{
      name: sent.questions[0]!.name,
      class: RRClass.IN,
      ttl: 60,
      data: { type: "A", address: "192.0.2.1" },
    }],
  });
}

/** A reply's ID. */
export const idOf = (reply: Uint8Array): number => (reply[0]! << 8) | reply[1]!;

/** A deadline for one exchange. */
export const signal = (): AbortSignal => AbortSignal.timeout(5_000);
