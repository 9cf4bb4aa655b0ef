/**
 * A harness for failover tests over real sockets on 127.0.0.1: dnsd from startServer() in front
 * of several fake upstreams, and a client that asks over UDP or TCP with every wait bounded.
 * @module
 */
import { type RunningServer, type ServerOptions, startServer } from "../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { fixedData } from "../lib/zone/local_data.ts";
import { query as baseQuery } from "../lib/proto/message.ts";
import { type Message, RRType } from "../lib/proto/types.ts";
import { type Behaviour, type FakeUpstream, startFakeUpstream } from "./_fake_upstream.ts";
import { connectTcp } from "./_tcp_client.ts";
import { openUdpClient } from "./_udp_client.ts";

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
  return baseQuery({ name, type }, {
    id,
    edns: edns ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] } : null,
  });
}

/** Starts a fake, or for "closed-port" starts one and closes it at once, leaving its port dead. */
async function startUpstream(spec: UpstreamSpec): Promise<FakeUpstream> {
  const fake = startFakeUpstream(spec === "closed-port" ? {} : spec);
  if (spec === "closed-port") await fake.close();
  return fake;
}

async function askUdp(server: Deno.NetAddr, request: Message): Promise<Answer> {
  const client = openUdpClient(server, REPLY_WAIT_MS);
  try {
    const began = performance.now();
    const bytes = await client.ask(encodeMessage(request));
    return { message: decodeMessage(bytes), ms: performance.now() - began };
  } finally {
    client.close();
  }
}

async function askOverTcp(server: Deno.NetAddr, request: Message): Promise<Answer> {
  const client = await connectTcp(server);
  try {
    const began = performance.now();
    const bytes = await client.ask(encodeMessage(request), REPLY_WAIT_MS);
    return { message: decodeMessage(bytes), ms: performance.now() - began };
  } finally {
    client.close();
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
