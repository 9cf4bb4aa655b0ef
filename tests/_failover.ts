/**
 * A harness for failover tests over real sockets on 127.0.0.1: dnsd from startServer() in front
 * of several fake upstreams, and a client that asks over UDP or TCP with every wait bounded.
 * @module
 */
import { type RunningServer, type ServerOptions, startServer } from "../lib/app.ts";
import { decodeMessage, encodeMessage } from "../lib/codec.ts";
import { fixedData } from "../lib/local_data.ts";
import { type Message, Opcode, Rcode, RRClass, RRType } from "../lib/types.ts";
import { type Behaviour, type FakeUpstream, startFakeUpstream } from "./_fake_upstream.ts";

/** The longest a test waits for any one reply before it fails. */
export const REPLY_WAIT_MS = 5000;

/** One upstream of the server under test: a fake with its behaviours, or a port nobody listens on. */
export type UpstreamSpec = Readonly<Record<string, Behaviour>> | "closed-port";

/** The server, its fake upstreams (in the order given) and a client. */
export interface Harness {
  readonly server: RunningServer;
  readonly fakes: readonly FakeUpstream[];
  /** Asks over UDP; resolves with the decoded reply and how long it took. */
  ask(request: Message): Promise<Answer>;
  /** Asks over TCP on a connection of its own. */
  askTcp(request: Message): Promise<Answer>;
}

/** A decoded reply and its round trip in ms. */
export interface Answer {
  readonly message: Message;
  readonly ms: number;
}

/** Options for the server under test. */
export type HarnessOptions = Partial<Pick<ServerOptions, "timeoutMs" | "strategy" | "caseRandomization">>;

/** A recursive query for `name`, with EDNS (1232 octets) when `edns` is set. */
export function query(name: string, fields: { id?: number; type?: number; edns?: boolean } = {}): Message {
  const { id = 0x2a2a, type = RRType.A, edns = false } = fields;
  return {
    id,
    response: false,
    opcode: Opcode.QUERY,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    z: false,
    authenticData: false,
    checkingDisabled: false,
    rcode: Rcode.NOERROR,
    questions: [{ name, type, class: RRClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: edns ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] } : null,
  };
}

/** Starts a fake, or for "closed-port" starts one and closes it at once, leaving its port dead. */
async function startUpstream(spec: UpstreamSpec): Promise<FakeUpstream> {
  const fake = startFakeUpstream(spec === "closed-port" ? {} : spec);
  if (spec === "closed-port") await fake.close();
  return fake;
}

/** Resolves with `work`, or rejects after {@link REPLY_WAIT_MS}, calling `giveUp` to end it. */
async function bounded<T>(work: (giveUp: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REPLY_WAIT_MS);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`No reply within ${REPLY_WAIT_MS} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function askUdp(server: Deno.NetAddr, request: Message): Promise<Answer> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    return await bounded(async (giveUp) => {
      giveUp.addEventListener("abort", () => conn.close(), { once: true });
      const began = performance.now();
      await conn.send(encodeMessage(request), server);
      const [bytes] = await conn.receive();
      return { message: decodeMessage(bytes), ms: performance.now() - began };
    });
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the bound
    }
  }
}

async function askOverTcp(server: Deno.NetAddr, request: Message): Promise<Answer> {
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  try {
    return await bounded(async (giveUp) => {
      giveUp.addEventListener("abort", () => conn.close(), { once: true });
      const began = performance.now();
      const bytes = encodeMessage(request);
      await conn.write(new Uint8Array([bytes.length >> 8, bytes.length & 0xff, ...bytes]));
      let buffered = new Uint8Array(0);
      const chunk = new Uint8Array(4096);
      while (buffered.length < 2 || buffered.length < 2 + ((buffered[0]! << 8) | buffered[1]!)) {
        const n = await conn.read(chunk);
        if (n === null) throw new Error("dnsd closed the TCP connection without a reply");
        buffered = new Uint8Array([...buffered, ...chunk.subarray(0, n)]);
      }
      const length = (buffered[0]! << 8) | buffered[1]!;
      return { message: decodeMessage(buffered.subarray(2, 2 + length)), ms: performance.now() - began };
    });
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the bound
    }
  }
}

/** Runs `fn` against dnsd forwarding to fresh fakes, and closes everything afterwards. */
export async function withServer(
  specs: readonly UpstreamSpec[],
  options: HarnessOptions,
  fn: (harness: Harness) => Promise<void>,
): Promise<void> {
  const fakes: FakeUpstream[] = [];
  let server: RunningServer | undefined;
  try {
    for (const spec of specs) fakes.push(await startUpstream(spec));
    server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: fakes.map((fake) => fake.address),
      timeoutMs: options.timeoutMs ?? 400,
      localData: fixedData({}),
      ...(options.strategy ? { strategy: options.strategy } : {}),
      ...(options.caseRandomization ? { caseRandomization: true } : {}),
    });
    const address = server.address;
    await fn({
      server,
      fakes,
      ask: (request) => askUdp(address, request),
      askTcp: (request) => askOverTcp(address, request),
    });
  } finally {
    server?.close();
    await server?.finished;
    await Promise.all(fakes.map((fake) => fake.close()));
  }
}

/** The A addresses in an answer section. */
export function addresses(message: Message): string[] {
  return message.answers.flatMap((record) => record.data.type === "A" ? [record.data.address] : []);
}
