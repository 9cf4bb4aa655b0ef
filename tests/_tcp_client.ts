/**
 * Talking to a dnsd on 127.0.0.1 from the TCP, EDNS and shutdown tests: a DNS-over-TCP client
 * that reads whole frames (RFC 1035 section 4.2.2), a query builder and header reader, a bounded
 * polling wait, and a fixture that starts dnsd with a fake upstream and closes both. Every wait
 * is bounded; UDP clients are in `_udp_client.ts`.
 * @module
 */
import { type RunningServer, startServer } from "../lib/server/app.ts";
import { encodeMessage } from "../lib/proto/codec.ts";
import { fixedData } from "../lib/zone/local_data.ts";
import type { TcpServerOptions } from "../lib/server/tcp_server.ts";
import { mappingRecords, type Mappings } from "../lib/zone/static_map.ts";
import { query as baseQuery } from "../lib/proto/message.ts";
import { type Edns, RRType } from "../lib/proto/types.ts";
import { type Behaviour, type FakeUpstream, startFakeUpstream } from "./_fake_upstream.ts";

/** The longest a test waits for any one reply, close or condition before it fails. */
export const WAIT_MS = 3_000;

/** `count` distinct TXT strings of `octets` octets each. */
export function txtStrings(count: number, octets = 60): string[] {
  return Array.from({ length: count }, (_, i) => String(i).padStart(3, "0").padEnd(octets, "x"));
}

/**
 * Local names for the tests. Each TXT record is 73 octets in an answer (a 2-octet pointer, 10
 * octets of fields, 61 of RDATA), so with the header and question: small ~330 octets (over 100,
 * under 512), medium ~770 (over 512, under 1232), big ~2,950 (over 1232).
 */
export const LOCAL: Mappings = {
  "local.dnsd.test": "192.0.2.53",
  "small.dnsd.test": { TXT: txtStrings(4) },
  "medium.dnsd.test": { TXT: txtStrings(10) },
  "big.dnsd.test": { TXT: txtStrings(40) },
};

/** What a test query carries; RD=1, opcode QUERY, class IN and no EDNS unless given. */
export interface QueryOptions {
  readonly id?: number;
  readonly type?: number;
  readonly rd?: boolean;
  readonly opcode?: number;
  /** An OPT record: fields over version 0, size 1232, DO=0, no options. */
  readonly edns?: Partial<Edns>;
}

/** The wire form of a query for `name`. */
export function query(name: string, options: QueryOptions = {}): Uint8Array {
  const { id = 0x1234, type = RRType.A, rd = true, opcode = 0, edns } = options;
  return encodeMessage(baseQuery({ name, type }, {
    id,
    opcode,
    recursionDesired: rd,
    edns: edns ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [], ...edns } : null,
  }));
}

/** The 16-bit ID at the start of a message. */
export function idOf(bytes: Uint8Array): number {
  return (bytes[0]! << 8) | bytes[1]!;
}

/** Every header field, read straight from the octets (RFC 1035 section 4.1.1). */
export function header(bytes: Uint8Array): Record<string, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  return {
    id: view.getUint16(0),
    qr: (flags >> 15) & 1,
    opcode: (flags >> 11) & 0xf,
    aa: (flags >> 10) & 1,
    tc: (flags >> 9) & 1,
    rd: (flags >> 8) & 1,
    ra: (flags >> 7) & 1,
    z: (flags >> 6) & 1,
    ad: (flags >> 5) & 1,
    cd: (flags >> 4) & 1,
    rcode: flags & 0xf,
    qdcount: view.getUint16(4),
    ancount: view.getUint16(6),
    nscount: view.getUint16(8),
    arcount: view.getUint16(10),
  };
}

/** `bytes` with its two-octet length prefix (RFC 1035 section 4.2.2), which may lie. */
export function framed(bytes: Uint8Array, length: number = bytes.length): Uint8Array {
  const out = new Uint8Array(bytes.length + 2);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out.set(bytes, 2);
  return out;
}

/** `parts` one after another in one array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Resolves once `condition()` holds, checking every few milliseconds; fails after `ms`. */
export async function waitUntil(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A DNS-over-TCP client connection. */
export interface TcpClient {
  /** Writes raw octets (no framing added). */
  write(bytes: Uint8Array): Promise<void>;
  /** Writes one message with its length prefix. */
  send(bytes: Uint8Array): Promise<void>;
  /**
   * The next whole message, or null once the server has closed the connection (FIN, or RST when
   * it closed with octets unread); fails after `ms`, closing the client.
   */
  read(ms?: number): Promise<Uint8Array | null>;
  /** Sends one message and reads the next one, which must come within `ms`. */
  ask(bytes: Uint8Array, ms?: number): Promise<Uint8Array>;
  /** Half-closes: no more writes, replies still readable. */
  closeWrite(): Promise<void>;
  /** Closes the connection (again is fine). */
  close(): void;
}

/** Connects to `address` over TCP. */
export async function connectTcp(address: Deno.NetAddr): Promise<TcpClient> {
  const conn = await Deno.connect({ transport: "tcp", hostname: address.hostname, port: address.port });
  const chunk = new Uint8Array(4096);
  let buffer = new Uint8Array(0);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };

  async function write(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
  }

  async function read(ms = WAIT_MS): Promise<Uint8Array | null> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      close(); // the only way to end a pending read()
    }, ms);
    try {
      while (true) {
        if (buffer.length >= 2) {
          const length = (buffer[0]! << 8) | buffer[1]!;
          if (buffer.length >= 2 + length) {
            const whole = buffer.slice(2, 2 + length);
            buffer = buffer.slice(2 + length);
            return whole;
          }
        }
        let count: number | null;
        try {
          count = await conn.read(chunk);
        } catch (error) {
          if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
          count = null;
        }
        if (count === null) {
          if (buffer.length === 0) return null;
          throw new Error(`The server closed the connection inside a frame (${buffer.length} octets)`);
        }
        const joined = new Uint8Array(buffer.length + count);
        joined.set(buffer);
        joined.set(chunk.subarray(0, count), buffer.length);
        buffer = joined;
      }
    } catch (error) {
      if (timedOut) throw new Error(`Nothing read over TCP within ${ms} ms`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    write,
    send: (bytes) => write(framed(bytes)),
    read,
    async ask(bytes, ms) {
      await write(framed(bytes));
      const reply = await read(ms);
      if (!reply) throw new Error("The server closed the connection instead of answering");
      return reply;
    },
    closeWrite: () => conn.closeWrite(),
    close,
  };
}

/** A running dnsd and its fake upstream. */
export interface Dnsd {
  readonly server: RunningServer;
  readonly upstream: FakeUpstream;
}

/** How {@link withDnsd} starts the server. */
export interface DnsdOptions {
  /** What the fake upstream does per name (none by default: every name is silent). */
  readonly behaviours?: Readonly<Record<string, Behaviour>>;
  /** The forwarding deadline (default 2,000 ms). */
  readonly timeoutMs?: number;
  /** TCP limits. */
  readonly tcp?: TcpServerOptions;
}

/**
 * Runs `fn` against a fresh dnsd on 127.0.0.1 (port 0, {@link LOCAL} as its data) whose only
 * upstream is a fake one, then closes both and waits until no TCP connection is left.
 */
export async function withDnsd(options: DnsdOptions, fn: (dnsd: Dnsd) => Promise<void>): Promise<void> {
  const upstream = startFakeUpstream(options.behaviours ?? {});
  let server: RunningServer | undefined;
  try {
    server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: [upstream.address],
      timeoutMs: options.timeoutMs ?? 2_000,
      localData: fixedData({ mappings: mappingRecords(LOCAL) }),
      ...(options.tcp ? { tcp: options.tcp } : {}),
    });
    await fn({ server, upstream });
  } finally {
    if (server) {
      await server.stop(0);
      await server.finished;
      const running = server;
      await waitUntil(() => running.tcpConnections() === 0, "every TCP connection to close");
    }
    await upstream.close();
  }
}
