/**
 * A scripted UDP upstream on 127.0.0.1 for the retransmission, EDNS fallback and outstanding-cap
 * tests: a function decides, per query, the reply octets or silence. Unlike tests/_fake_upstream.ts
 * it can see every query in order (to drop every other reply) and answer by whether the query has
 * EDNS. `close()` ends its loop and leaves no socket behind.
 * @module
 */
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
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

/** Starts the upstream: `script` answers each query. */
export function startScripted(script: Script): ScriptedUpstream {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const received: Message[] = [];
  const loop = (async () => {
    while (true) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await conn.receive();
      } catch {
        return; // closed
      }
      const [bytes, from] = datagram;
      let query: Message;
      try {
        query = decodeMessage(bytes);
      } catch {
        continue;
      }
      const reply = script(query, received.length);
      received.push(query);
      if (reply === null) continue;
      try {
        await conn.send(encodeMessage(reply), from);
      } catch {
        return; // closed while sending
      }
    }
  })();
  return {
    address: conn.addr as Deno.NetAddr,
    received,
    async close() {
      try {
        conn.close();
      } catch {
        // closed already
      }
      await loop;
    },
  };
}
