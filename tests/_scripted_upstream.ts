/**
 * An upstream on 127.0.0.1 (UDP and TCP on one port) that answers each query with a reply the
 * test builds from it, per transport, and may first send datagrams of its own to the query's source
 * port. For the upstream hardening tests: replies larger than asked for, cut replies, spoofing,
 * replies dropped by turns. It records every query it could decode, in the order they came.
 * @module
 */
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import type { Message } from "../lib/proto/types.ts";

/** What the upstream sends for one query over `transport`: replies, in order (none for silence). */
export type Script = (query: Message, transport: "udp" | "tcp", from: Deno.NetAddr) => Uint8Array[];

/** Called before the UDP replies go out, with the query's sender: for a spoofing flood, say. */
export type Before = (query: Message, from: Deno.NetAddr, socket: Deno.DatagramConn) => Promise<void>;

/** One query the upstream received. */
export interface ReceivedQuery {
  readonly transport: "udp" | "tcp";
  readonly from: Deno.NetAddr;
  readonly query: Message;
}

/** A running scripted upstream. */
export interface ScriptedUpstream {
  readonly address: Deno.NetAddr;
  /** Each decodable query, with its transport and source, in the order they came. */
  readonly received: readonly ReceivedQuery[];
  /** Stops everything it started; settles when done, rejecting if a handler failed. */
  close(): Promise<void>;
}

function closedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

/** The reply to `query` with `fields` changed. */
export function replyTo(query: Message, fields: Partial<Message>): Uint8Array {
  return encodeMessage({
    ...query,
    response: true,
    recursionAvailable: true,
    answers: [],
    authorities: [],
    additionals: [],
    edns: null,
    ...fields,
  });
}

/** Starts the upstream: `script` decides the replies, `before` runs ahead of each UDP reply. */
export function startScriptedUpstream(script: Script, before?: Before): ScriptedUpstream {
  let udp: Deno.DatagramConn | undefined;
  let tcp: Deno.Listener | undefined;
  for (let attempt = 0; !tcp; attempt++) {
    udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      tcp = Deno.listen({ hostname: "127.0.0.1", port: (udp.addr as Deno.NetAddr).port });
    } catch (error) {
      udp.close();
      if (attempt >= 10 || !(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  const socket = udp!;
  const listener = tcp;
  const received: ReceivedQuery[] = [];
  const conns = new Set<Deno.Conn>();
  const work = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let stopped = false;
  const track = (promise: Promise<void>) => {
    work.add(promise);
    promise.catch((error) => {
      if (!closedError(error)) failures.push(error);
    }).finally(() => work.delete(promise));
  };

  async function answerUdp(query: Message, from: Deno.NetAddr): Promise<void> {
    if (before) await before(query, from, socket);
    for (const reply of script(query, "udp", from)) if (!stopped) await socket.send(reply, from);
  }

  async function udpLoop(): Promise<void> {
    while (true) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await socket.receive();
      } catch (error) {
        if (closedError(error)) return;
        throw error;
      }
      const from = datagram[1] as Deno.NetAddr;
      let query: Message;
      try {
        query = decodeMessage(datagram[0]);
      } catch {
        continue; // not a query: no answer, as a server would
      }
      received.push({ transport: "udp", from, query });
      track(answerUdp(query, from));
    }
  }

  async function serveConn(conn: Deno.Conn): Promise<void> {
    let buffered = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    try {
      while (true) {
        const count = await conn.read(chunk);
        if (count === null) return;
        const joined = new Uint8Array(buffered.length + count);
        joined.set(buffered);
        joined.set(chunk.subarray(0, count), buffered.length);
        buffered = joined;
        while (buffered.length >= 2 && buffered.length >= 2 + ((buffered[0]! << 8) | buffered[1]!)) {
          const end = 2 + ((buffered[0]! << 8) | buffered[1]!);
          const query = decodeMessage(buffered.slice(2, end));
          buffered = buffered.slice(end);
          received.push({ transport: "tcp", from: conn.remoteAddr as Deno.NetAddr, query });
          for (const reply of script(query, "tcp", conn.remoteAddr as Deno.NetAddr)) {
            const framed = new Uint8Array(reply.length + 2);
            framed.set([reply.length >> 8, reply.length & 0xff]);
            framed.set(reply, 2);
            let rest = framed;
            while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
          }
        }
      }
    } finally {
      if (conns.delete(conn)) conn.close();
    }
  }

  async function acceptLoop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closedError(error)) return;
        throw error;
      }
      conns.add(conn);
      track(serveConn(conn));
    }
  }

  const loops = Promise.all([udpLoop(), acceptLoop()]);
  return {
    address: socket.addr as Deno.NetAddr,
    received,
    async close() {
      stopped = true;
      socket.close();
      listener.close();
      for (const conn of conns) conn.close();
      conns.clear();
      await loops;
      while (work.size > 0) await Promise.allSettled([...work]);
      if (failures.length > 0) throw new AggregateError(failures, "The scripted upstream failed");
    },
  };
}
