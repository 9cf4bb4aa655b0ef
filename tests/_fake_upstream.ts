/**
 * A fake upstream DNS server on 127.0.0.1 for end-to-end tests, over UDP and TCP on one port
 * (RFC 7766 framing, several queries per connection): each query name gets a scripted behaviour,
 * every query received is recorded with its transport, and `close()` leaves no op, timer, socket
 * or connection behind.
 * @module
 */
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { nameKey } from "../lib/proto/name.ts";
import { type Message, Rcode, type ResourceRecord, RRClass } from "../lib/proto/types.ts";

/** A datagram sent before the real reply, which a careful client must ignore. */
export type Decoy =
  /** the right reply with the ID plus one */
  | "wrong-id"
  /** the right reply for another name ("decoy." prepended) */
  | "wrong-question"
  /** the right reply, byte for byte, sent from a second socket (another source port; UDP only) */
  | "wrong-source";

/** How the fake writes the question back: as sent (the default), or lowercased (which breaks 0x20). */
export type QuestionCase = "echo" | "lower";

/** What the fake does with a query for one name, over either transport unless stated. */
export type Behaviour =
  /** NOERROR with one A record, optionally after a delay and after a decoy */
  | {
    readonly kind: "answer";
    readonly address: string;
    readonly delayMs?: number;
    readonly decoy?: Decoy;
    /** "lower" lowercases the question and the answer's owner in the reply */
    readonly questionCase?: QuestionCase;
  }
  /** NXDOMAIN with the SOA of `zone` in the authority section (RFC 2308 section 3) */
  | { readonly kind: "nxdomain"; readonly zone: string }
  /** SERVFAIL with empty sections; `bare`: with no question either (a header alone) */
  | { readonly kind: "servfail"; readonly bare?: boolean }
  /** REFUSED with empty sections; `bare`: with no question either (a header alone, as NSD may send) */
  | { readonly kind: "refused"; readonly bare?: boolean }
  /**
   * `records` TXT records of {@link TXT_SIZE} octets each over TCP; over UDP (or, with
   * `over: "both"`, over TCP too) TC=1 with the question only
   */
  | { readonly kind: "truncated"; readonly records: number; readonly over: "udp" | "both" }
  /** no reply at all */
  | { readonly kind: "silent" }
  /** a reply that passes the ID and question checks but whose answer section is cut short */
  | { readonly kind: "malformed" };

/** The transport a query came in on. */
export type Transport = "udp" | "tcp";

/** One query the fake received. */
export interface ReceivedQuery {
  readonly bytes: Uint8Array;
  /** The decoded query, or null when it did not decode. */
  readonly message: Message | null;
  readonly from: Deno.NetAddr;
  /** UDP, or TCP (the message without its two-octet length). */
  readonly transport: Transport;
  /** For TCP, which connection (numbered from 1 in the order accepted). */
  readonly connection?: number;
}

/** A running fake upstream. */
export interface FakeUpstream {
  /** Where it listens over UDP and TCP: 127.0.0.1 and the port the kernel picked. */
  readonly address: Deno.NetAddr;
  /** Every query received so far, over either transport, in order. */
  readonly received: readonly ReceivedQuery[];
  /** How many queries arrived over `transport`, for `name` (matched without case) if given. */
  count(transport: Transport, name?: string): number;
  /**
   * Stops the loops, cancels delayed replies and closes every socket and connection; settles when
   * all work is done, and rejects if handling any query failed.
   */
  close(): Promise<void>;
}

/** The TTL of the records the fake answers with. */
export const FAKE_TTL = 60;

/** The length of each TXT string in a `truncated` behaviour's full answer. */
export const TXT_SIZE = 200;

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

/** The TXT RRset a `truncated` behaviour answers `name` with in full: each string distinct. */
export function fakeTxt(name: string, records: number): ResourceRecord[] {
  return Array.from({ length: records }, (_, i) => {
    const text = `record ${i} `.padEnd(TXT_SIZE, "x");
    return {
      name,
      class: RRClass.IN,
      ttl: FAKE_TTL,
      data: { type: "TXT", strings: [new TextEncoder().encode(text)] },
    };
  });
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

function answer(query: Message, address: string, questionCase: QuestionCase): Message {
  const question = query.questions[0]!;
  const name = questionCase === "lower" ? question.name.toLowerCase() : question.name;
  return response(query, {
    questions: [{ ...question, name }],
    answers: [{ name, class: RRClass.IN, ttl: FAKE_TTL, data: { type: "A", address } }],
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
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected;
}

/** Binds UDP and TCP on one port the kernel picks, picking again if the TCP twin is taken. */
function bind(): { udp: Deno.DatagramConn; tcp: Deno.Listener } {
  for (let attempt = 0;; attempt++) {
    const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      return { udp, tcp: Deno.listen({ hostname: "127.0.0.1", port: (udp.addr as Deno.NetAddr).port }) };
    } catch (error) {
      udp.close();
      if (attempt >= 10 || !(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
}

/** Sends one reply: `other` asks for the second socket (another source port). */
type Reply = (bytes: Uint8Array, other?: boolean) => Promise<void>;

/**
 * Starts a fake upstream on 127.0.0.1, UDP and TCP on one port picked by the kernel.
 * @param behaviours what to do per query name (matched without case); other names get no reply
 * @example
 * ```ts
 * const upstream = startFakeUpstream({ "fwd.dnsd.test": { kind: "answer", address: "192.0.2.1" } });
 * try { ... } finally { await upstream.close(); }
 * ```
 */
export function startFakeUpstream(behaviours: Readonly<Record<string, Behaviour>>): FakeUpstream {
  const table = new Map(Object.entries(behaviours).map(([name, b]) => [nameKey(name), b]));
  const { udp: conn, tcp: listener } = bind();
  const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const stopping = new AbortController();
  const received: ReceivedQuery[] = [];
  const inFlight = new Set<Promise<void>>();
  const connections = new Set<Deno.Conn>();
  const failures: unknown[] = [];

  function track(work: Promise<void>): void {
    inFlight.add(work);
    work.catch((error) => failures.push(error)).finally(() => inFlight.delete(work));
  }

  async function handle(bytes: Uint8Array, message: Message | null, transport: Transport, send: Reply) {
    const question = message?.questions[0];
    const behaviour = question && table.get(nameKey(question.name));
    if (!message || !behaviour || behaviour.kind === "silent") return;
    switch (behaviour.kind) {
      case "malformed":
        return send(malformed(bytes));
      case "nxdomain":
        return send(
          encodeMessage(response(message, { rcode: Rcode.NXDOMAIN, authorities: [fakeSoa(behaviour.zone)] })),
        );
      case "servfail":
      case "refused": {
        const rcode = behaviour.kind === "servfail" ? Rcode.SERVFAIL : Rcode.REFUSED;
        const error = response(message, { rcode });
        return send(encodeMessage(behaviour.bare ? { ...error, questions: [], edns: null } : error));
      }
      case "truncated": {
        const cut = transport === "udp" || behaviour.over === "both";
        const fields = cut ? { truncated: true } : { answers: fakeTxt(question.name, behaviour.records) };
        return send(encodeMessage(response(message, fields)));
      }
    }
    if (behaviour.delayMs !== undefined) await delay(behaviour.delayMs, stopping.signal);
    const reply = answer(message, behaviour.address, behaviour.questionCase ?? "echo");
    if (behaviour.decoy) {
      await send(encodeMessage(decoyOf(behaviour.decoy, reply)), behaviour.decoy === "wrong-source");
    }
    await send(encodeMessage(reply));
  }

  function record(bytes: Uint8Array, from: Deno.NetAddr, transport: Transport, connection?: number) {
    let message: Message | null = null;
    try {
      message = decodeMessage(bytes);
    } catch {
      // recorded as undecodable; the fake does not answer it
    }
    received.push(
      connection === undefined ? { bytes, message, from, transport } : {
        bytes,
        message,
        from,
        transport,
        connection,
      },
    );
    return message;
  }

  async function udpLoop(): Promise<void> {
    const send = (from: Deno.NetAddr): Reply => async (bytes, viaOther = false) => {
      if (stopping.signal.aborted) return;
      try {
        await (viaOther ? other : conn).send(bytes, from);
      } catch (error) {
        if (!isClosed(error)) throw error;
      }
    };
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
      track(handle(bytes, record(bytes, from, "udp"), "udp", send(from)));
    }
  }

  /** Reads frames until the client closes; answers each as it completes, one write at a time. */
  async function serveConnection(tcp: Deno.Conn, serial: number): Promise<void> {
    const from = tcp.remoteAddr as Deno.NetAddr;
    let writing = Promise.resolve();
    const pending = new Set<Promise<void>>();
    const send: Reply = (bytes, viaOther = false) => {
      if (viaOther) return Promise.resolve(); // another source port means nothing over TCP
      const framed = new Uint8Array(bytes.length + 2);
      framed.set([bytes.length >> 8, bytes.length & 0xff]);
      framed.set(bytes, 2);
      writing = writing.then(async () => {
        if (stopping.signal.aborted) return;
        try {
          let rest = framed;
          while (rest.length > 0) rest = rest.subarray(await tcp.write(rest));
        } catch (error) {
          if (!isClosed(error)) throw error;
        }
      });
      return writing;
    };
    let buffered = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    try {
      while (true) {
        let count: number | null;
        try {
          count = await tcp.read(chunk);
        } catch (error) {
          if (isClosed(error)) return;
          throw error;
        }
        if (count === null) break;
        const joined = new Uint8Array(buffered.length + count);
        joined.set(buffered);
        joined.set(chunk.subarray(0, count), buffered.length);
        buffered = joined;
        while (buffered.length >= 2 && buffered.length >= 2 + ((buffered[0]! << 8) | buffered[1]!)) {
          const end = 2 + ((buffered[0]! << 8) | buffered[1]!);
          const bytes = buffered.slice(2, end);
          buffered = buffered.slice(end);
          const work = handle(bytes, record(bytes, from, "tcp", serial), "tcp", send);
          pending.add(work);
          work.finally(() => pending.delete(work)).catch(() => {});
          track(work);
        }
      }
      await Promise.allSettled(pending); // the client half-closed: answer what it asked, then close
    } finally {
      if (connections.delete(tcp)) tcp.close();
    }
  }

  async function acceptLoop(): Promise<void> {
    let serial = 0;
    while (true) {
      let tcp: Deno.Conn;
      try {
        tcp = await listener.accept();
      } catch (error) {
        if (isClosed(error)) return;
        throw error;
      }
      if (stopping.signal.aborted) {
        tcp.close();
        return;
      }
      connections.add(tcp);
      track(serveConnection(tcp, ++serial));
    }
  }

  const finished = Promise.all([udpLoop(), acceptLoop()]);
  let closing: Promise<void> | null = null;
  return {
    address: conn.addr as Deno.NetAddr,
    received,
    count(transport, name) {
      const key = name === undefined ? undefined : nameKey(name);
      return received.filter((query) =>
        query.transport === transport &&
        (key === undefined ||
          (query.message !== null && nameKey(query.message.questions[0]?.name ?? "") === key))
      ).length;
    },
    close() {
      closing ??= (async () => {
        stopping.abort();
        conn.close();
        other.close();
        listener.close();
        for (const tcp of connections) tcp.close();
        connections.clear();
        await finished;
        while (inFlight.size > 0) await Promise.allSettled(inFlight);
        if (failures.length > 0) throw new AggregateError(failures, "The fake upstream failed");
      })();
      return closing;
    },
  };
}
