/**
 * A fake upstream DNS server on 127.0.0.1 for end-to-end tests: each query name gets a scripted
 * behaviour, every datagram received is recorded, and `close()` leaves no op, timer or socket behind.
 * @module
 */
import { decodeMessage, encodeMessage } from "../lib/codec.ts";
import { nameKey } from "../lib/name.ts";
import { type Message, Rcode, type ResourceRecord, RRClass } from "../lib/types.ts";

/** A datagram sent before the real reply, which a careful client must ignore. */
export type Decoy =
  /** the right reply with the ID plus one */
  | "wrong-id"
  /** the right reply for another name ("decoy." prepended) */
  | "wrong-question"
  /** the right reply, byte for byte, sent from a second socket (another source port) */
  | "wrong-source";

/** What the fake does with a query for one name. */
export type Behaviour =
  /** NOERROR with one A record, optionally after a delay and after a decoy */
  | {
    readonly kind: "answer";
    readonly address: string;
    readonly delayMs?: number;
    readonly decoy?: Decoy;
  }
  /** NXDOMAIN with the SOA of `zone` in the authority section (RFC 2308 section 3) */
  | { readonly kind: "nxdomain"; readonly zone: string }
  /** no reply at all */
  | { readonly kind: "silent" }
  /** a reply that passes the ID and question checks but whose answer section is cut short */
  | { readonly kind: "malformed" };

/** One datagram the fake received. */
export interface ReceivedQuery {
  readonly bytes: Uint8Array;
  /** The decoded query, or null when it did not decode. */
  readonly message: Message | null;
  readonly from: Deno.NetAddr;
}

/** A running fake upstream. */
export interface FakeUpstream {
  /** Where it listens: 127.0.0.1 and the port the kernel picked. */
  readonly address: Deno.NetAddr;
  /** Every datagram received so far, in order. */
  readonly received: readonly ReceivedQuery[];
  /**
   * Stops the loop, cancels delayed replies and closes both sockets; settles when all work is
   * done, and rejects if handling any query failed.
   */
  close(): Promise<void>;
}

/** The TTL of the records the fake answers with. */
export const FAKE_TTL = 60;

/** The SOA record the fake puts in the authority section of an NXDOMAIN for `zone`. */
export function fakeSoa(zone: string): ResourceRecord {
  return {
    name: zone,
    class: RRClass.IN,
    ttl: FAKE_TTL,
    data: {
      type: "SOA",
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 2024091801,
      refresh: 3600,
      retry: 900,
      expire: 604800,
      minimum: FAKE_TTL,
    },
  };
}

function response(query: Message, fields: Partial<Message>): Message {
  return {
    ...query,
    response: true,
    recursionAvailable: true,
    answers: [],
    authorities: [],
    additionals: [],
    edns: query.edns && { ...query.edns, options: [] },
    ...fields,
  };
}

function answer(query: Message, address: string): Message {
  const question = query.questions[0]!;
  return response(query, {
    answers: [{ name: question.name, class: RRClass.IN, ttl: FAKE_TTL, data: { type: "A", address } }],
  });
}

/** The query's header and question with QR=1 and ANCOUNT=1, then half a record: `c00c 0001`. */
function malformed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 4);
  out.set(bytes);
  out[2] = out[2]! | 0x80;
  out.set([0, 1, 0, 0, 0, 0], 6); // ANCOUNT=1, NSCOUNT=0, ARCOUNT=0 (any OPT is cut off below)
  const questionEnd = encodeMessage({ ...decodeMessage(bytes), edns: null }).length;
  out.set([0xc0, 0x0c, 0x00, 0x01], questionEnd);
  return out.subarray(0, questionEnd + 4);
}

function decoyOf(decoy: Decoy, reply: Message): Message {
  if (decoy === "wrong-id") return { ...reply, id: (reply.id + 1) & 0xffff };
  if (decoy === "wrong-question") {
    const questions = reply.questions.map((q) => ({ ...q, name: `decoy.${q.name}` }));
    return { ...reply, questions, answers: reply.answers.map((r) => ({ ...r, name: `decoy.${r.name}` })) };
  }
  return reply;
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer never outlives the fake. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function isClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/**
 * Starts a fake upstream on 127.0.0.1 with a port picked by the kernel.
 * @param behaviours what to do per query name (matched without case); other names get no reply
 * @example
 * ```ts
 * const upstream = startFakeUpstream({ "fwd.dnsd.test": { kind: "answer", address: "192.0.2.1" } });
 * try { ... } finally { await upstream.close(); }
 * ```
 */
export function startFakeUpstream(behaviours: Readonly<Record<string, Behaviour>>): FakeUpstream {
  const table = new Map(Object.entries(behaviours).map(([name, b]) => [nameKey(name), b]));
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const stopping = new AbortController();
  const received: ReceivedQuery[] = [];
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];

  async function send(socket: Deno.DatagramConn, bytes: Uint8Array, to: Deno.NetAddr): Promise<void> {
    if (stopping.signal.aborted) return;
    try {
      await socket.send(bytes, to);
    } catch (error) {
      if (!isClosed(error)) throw error;
    }
  }

  async function handle(bytes: Uint8Array, message: Message | null, from: Deno.NetAddr): Promise<void> {
    const question = message?.questions[0];
    const behaviour = question && table.get(nameKey(question.name));
    if (!message || !behaviour || behaviour.kind === "silent") return;
    if (behaviour.kind === "malformed") return send(conn, malformed(bytes), from);
    if (behaviour.kind === "nxdomain") {
      const nx = response(message, { rcode: Rcode.NXDOMAIN, authorities: [fakeSoa(behaviour.zone)] });
      return send(conn, encodeMessage(nx), from);
    }
    if (behaviour.delayMs !== undefined) await delay(behaviour.delayMs, stopping.signal);
    const reply = answer(message, behaviour.address);
    if (behaviour.decoy) {
      const socket = behaviour.decoy === "wrong-source" ? other : conn;
      await send(socket, encodeMessage(decoyOf(behaviour.decoy, reply)), from);
    }
    await send(conn, encodeMessage(reply), from);
  }

  async function loop(): Promise<void> {
    while (true) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await conn.receive();
      } catch (error) {
        if (isClosed(error)) return;
        throw error;
      }
      const [bytes, addr] = datagram;
      const from = addr as Deno.NetAddr;
      let message: Message | null = null;
      try {
        message = decodeMessage(bytes);
      } catch {
        // recorded as undecodable; the fake does not answer it
      }
      received.push({ bytes, message, from });
      const work = handle(bytes, message, from);
      inFlight.add(work);
      work.catch((error) => failures.push(error)).finally(() => inFlight.delete(work));
    }
  }

  const finished = loop();
  let closing: Promise<void> | null = null;
  return {
    address: conn.addr as Deno.NetAddr,
    received,
    close() {
      closing ??= (async () => {
        stopping.abort();
        conn.close();
        other.close();
        await finished;
        await Promise.allSettled(inFlight);
        if (failures.length > 0) throw new AggregateError(failures, "The fake upstream failed");
      })();
      return closing;
    },
  };
}
