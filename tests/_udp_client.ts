/**
 * Talking to a DNS server on 127.0.0.1 over UDP: a free port (UDP and TCP), a query as dig sends it, a client
 * socket that keeps its port across queries, and one-shot exchanges built on it. Every wait is
 * bounded.
 * @module
 */
import { encodeMessage } from "../lib/proto/codec.ts";
import { query } from "../lib/proto/message.ts";
import { WAIT_MS } from "./_tcp_client.ts";

/**
 * A port that is free for both UDP and TCP on 127.0.0.1, for a server a test starts (dnsd, nsd,
 * unbound...), which binds both on it.
 *
 * Why not port 0: the kernel hands out ports from the ephemeral range, and a port freed there a
 * moment ago is soon given to some client socket (an upstream query, a TCP connection) of this or
 * another process, so the server then fails with "address already in use" — CI saw exactly that.
 * Ports just below the ephemeral range are never handed out by the kernel, so only another pick
 * can take them; this process remembers what it gave out and never gives a port twice.
 */
const given = new Set<number>();
const SPAN = 12_000;

/** The start of the ephemeral range, read once: a read that fails later (no descriptor free) changes nothing. */
let ephemeral: number | null | undefined;

function ephemeralLow(): number | null {
  if (ephemeral !== undefined) return ephemeral;
  try {
    const text = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const low = Number(text.trim().split(/\s+/)[0]);
    ephemeral = Number.isInteger(low) && low > 1024 + 1000 ? low : null;
  } catch {
    // Deno wants --allow-all to read /proc/sys (the tests run without it): Linux's default range then.
    ephemeral = Deno.build.os === "linux" ? 32_768 : null;
  }
  return ephemeral;
}

function freeForBoth(port: number): boolean {
  let udp: Deno.DatagramConn | null = null;
  let tcp: Deno.Listener | null = null;
  try {
    udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
    tcp = Deno.listen({ hostname: "127.0.0.1", port });
    return true;
  } catch {
    return false;
  } finally {
    udp?.close();
    tcp?.close();
  }
}

function kernelPort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const { port } = conn.addr as Deno.NetAddr;
  conn.close();
  return port;
}

/** A port free for UDP and TCP on 127.0.0.1, below the ephemeral range when it can be read. */
export function freeUdpPort(): number {
  const low = ephemeralLow();
  if (low === null) return kernelPort();
  const bottom = Math.max(1025, low - SPAN);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = bottom + Math.floor(Math.random() * (low - bottom));
    if (given.has(port) || !freeForBoth(port)) continue;
    given.add(port);
    return port;
  }
  // Unlucky draws (or a crowded span): every port below the range in turn, before an ephemeral one
  // that any outgoing connection may take again (a test once lost its peer's port that way).
  for (let port = low - 1; port > 1024; port--) {
    if (given.has(port) || !freeForBoth(port)) continue;
    given.add(port);
    return port;
  }
  return kernelPort();
}

/** Options of {@link queryBytes}: RD and EDNS default to what dig sends (RD=1, EDNS with 1232 octets). */
export interface DigQueryOptions {
  readonly recursionDesired?: boolean;
  readonly edns?: boolean;
}

/** The wire form of a query for `name`/`type` in class IN, with a random ID. */
export function queryBytes(name: string, type: number, options: DigQueryOptions = {}): Uint8Array {
  return encodeMessage(query({ name, type }, {
    id: Math.floor(Math.random() * 0x10000),
    recursionDesired: options.recursionDesired ?? true,
    edns: options.edns ?? true
      ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] }
      : null,
  }));
}

/** No datagram came back in time. */
export class NoReply extends Error {
  override name = "NoReply";
}

/** A UDP socket on 127.0.0.1 that talks to one server. */
export interface UdpClient {
  /** The client's own port. */
  readonly port: number;
  /** Sends one datagram to the server. */
  send(bytes: Uint8Array): Promise<void>;
  /** The next datagram, or a {@link NoReply} after the client's wait (which also closes the client). */
  receive(): Promise<Uint8Array>;
  /** Sends `bytes` and returns the next datagram. */
  ask(bytes: Uint8Array): Promise<Uint8Array>;
  /** Closes the socket (again is fine). */
  close(): void;
}

/** Opens a client socket for `server`; each receive() waits at most `ms`. */
export function openUdpClient(server: Deno.NetAddr, ms: number = WAIT_MS): UdpClient {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: server.hostname, port: server.port };
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  async function send(bytes: Uint8Array): Promise<void> {
    await conn.send(bytes, to);
  }
  async function receive(): Promise<Uint8Array> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      close(); // the only way to end a pending receive()
    }, ms);
    try {
      const [bytes] = await conn.receive();
      return bytes;
    } catch (error) {
      if (timedOut) throw new NoReply(`No UDP reply from ${to.hostname}:${to.port} within ${ms} ms`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    port: (conn.addr as Deno.NetAddr).port,
    send,
    receive,
    async ask(bytes) {
      await send(bytes);
      return await receive();
    },
    close,
  };
}

/** Sends one datagram to `server` from a fresh socket and returns the reply; fails after `ms`. */
export async function udpAsk(
  server: Deno.NetAddr,
  bytes: Uint8Array,
  ms: number = WAIT_MS,
): Promise<Uint8Array> {
  const client = openUdpClient(server, ms);
  try {
    return await client.ask(bytes);
  } finally {
    client.close();
  }
}

/** Sends one datagram to 127.0.0.1:`port` and returns the reply, or null after `ms`. */
export async function exchange(port: number, bytes: Uint8Array, ms: number): Promise<Uint8Array | null> {
  try {
    return await udpAsk({ transport: "udp", hostname: "127.0.0.1", port }, bytes, ms);
  } catch (error) {
    if (error instanceof NoReply) return null;
    throw error;
  }
}
