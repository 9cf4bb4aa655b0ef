/**
 * The scripted upstream of tests/_scripted_upstream.ts as the retransmission, EDNS fallback and
 * outstanding-cap tests use it: a function decides, per UDP query and by its place in the order,
 * the reply message or silence (to drop every other reply, say), and the queries come back decoded.
 * @module
 */
import { encodeMessage } from "../../lib/proto/codec.ts";
import { startScriptedUpstream } from "../_scripted_upstream.ts";
import { type Message, Rcode, RRClass } from "../../lib/proto/types.ts";

/** Decides the reply to the `index`th query received (from 0); null: no reply. */
export type Script = (query: Message, index: number) => Message | null;

/** A running scripted upstream. */
export interface ScriptedUpstream {
  /** Where it listens (UDP, 127.0.0.1). */
  readonly address: Deno.NetAddr;
  /** Every query received, decoded, in order. */
  readonly received: readonly Message[];
  /** Ends the loop and closes the socket; settles once the loop has ended. */
  close(): Promise<void>;
}

/** A NOERROR reply to `query` with one A record (TTL 60) and the query's EDNS, if any. */
export function answerA(query: Message, address = "192.0.2.1"): Message {
  const question = query.questions[0]!;
  return {
    ...query,
    response: true,
    recursionAvailable: true,
    answers: [{ name: question.name, class: RRClass.IN, ttl: 60, data: { type: "A", address } }],
    edns: query.edns && { ...query.edns, options: [] },
  };
}

/** A reply to `query` with `rcode`, no records and no OPT (as a server without EDNS answers). */
export function rcodeOnly(query: Message, rcode: number): Message {
  return { ...query, response: true, rcode, edns: null };
}

/** BADVERS needs an OPT record to carry its upper bits (RFC 6891 section 6.1.3). */
export function badVersion(query: Message): Message {
  return {
    ...query,
    response: true,
    rcode: Rcode.BADVERS,
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
  };
}

/** Starts the upstream: `script` answers each UDP query (TCP ones get nothing). */
export function startScripted(script: Script): ScriptedUpstream {
  const received: Message[] = []; // live: tests hold on to it while queries come
  const upstream = startScriptedUpstream((query, transport) => {
    if (transport !== "udp") return [];
    const reply = script(query, received.length);
    received.push(query);
    return reply === null ? [] : [encodeMessage(reply)];
  });
  return { address: upstream.address, received, close: () => upstream.close() };
}
