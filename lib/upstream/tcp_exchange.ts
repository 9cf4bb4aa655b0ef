/**
 * One upstream exchange over TCP (RFC 7766): used when a UDP reply comes back truncated (TC=1).
 * A connection of its own per exchange; a reply that does not match the query is dropped and
 * reading goes on, as over UDP.
 * @module
 */
import { UpstreamError, UpstreamTimeout } from "../proto/mod.ts";
import { replyMismatch } from "./match.ts";
import { type DropReason, type Exchange, formatAddress, type Upstream } from "./udp_exchange.ts";

/** The part of a TCP connection an exchange uses (so tests can pass a fake). */
export type Stream = Pick<Deno.Conn, "read" | "write" | "close">;

/** Options for {@link tcpExchange}. */
export interface TcpExchangeOptions {
  /** Opens the connection; defaults to `Deno.connect`. */
  readonly connect?: (upstream: Upstream) => Promise<Stream>;
  /** Told about every reply that did not match the query. */
  readonly onDrop?: (reason: DropReason, from: string) => void;
  /** Require the question's case exactly as sent (0x20). */
  readonly exactCase?: boolean;
}

/** Reads one length-prefixed message; null at a clean end of stream. */
async function readFrame(stream: Stream, buffered: { bytes: Uint8Array }): Promise<Uint8Array | null> {
  const chunk = new Uint8Array(4096);
  while (true) {
    const have = buffered.bytes;
    if (have.length >= 2) {
      const length = (have[0]! << 8) | have[1]!;
      if (have.length >= 2 + length) {
        buffered.bytes = have.slice(2 + length);
        return have.slice(2, 2 + length);
      }
    }
    const count = await stream.read(chunk);
    if (count === null) {
      if (have.length === 0) return null;
      throw new Error("the connection closed in the middle of a reply");
    }
    const joined = new Uint8Array(have.length + count);
    joined.set(have);
    joined.set(chunk.subarray(0, count), have.length);
    buffered.bytes = joined;
  }
}

/** An {@link Exchange} with one upstream over TCP. */
export function tcpExchange(upstream: Upstream, options: TcpExchangeOptions = {}): Exchange {
  const {
    connect = (u: Upstream) => Deno.connect({ transport: "tcp", hostname: u.hostname, port: u.port }),
    onDrop = () => {},
    exactCase = false,
  } = options;
  const name = formatAddress(upstream);
  return async function tcpExchange(query, signal) {
    if (signal.aborted) throw new UpstreamTimeout(`No time left to query ${name} over TCP`);
    let stream: Stream | undefined;
    let opening: Promise<Stream> | undefined;
    let closed = false;
    let stopConnecting = (_reason: Error) => {};
    const close = () => {
      stopConnecting(new Error("aborted while connecting"));
      if (closed || !stream) return;
      closed = true;
      stream.close();
    };
    signal.addEventListener("abort", close, { once: true });
    try {
      // A connect to a black-holed address can outlast any deadline, so the abort must end the wait.
      opening = connect(upstream);
      stream = await Promise.race([opening, new Promise<never>((_, reject) => (stopConnecting = reject))]);
      if (signal.aborted) close();
      const framed = new Uint8Array(query.length + 2);
      framed[0] = query.length >>> 8;
      framed[1] = query.length & 0xff;
      framed.set(query, 2);
      let rest = framed;
      while (rest.length > 0) rest = rest.subarray(await stream.write(rest));
      const buffered = { bytes: new Uint8Array(0) };
      while (true) {
        const reply = await readFrame(stream, buffered);
        if (reply === null) throw new Error("the connection closed without a reply");
        const mismatch = replyMismatch(query, reply, exactCase);
        if (mismatch === null) return reply;
        onDrop(mismatch, name);
      }
    } catch (error) {
      if (signal.aborted) throw new UpstreamTimeout(`No reply from ${name} over TCP`);
      throw new UpstreamError(`Cannot query ${name} over TCP`, { cause: error });
    } finally {
      signal.removeEventListener("abort", close);
      if (stream) close();
      else opening?.then((late) => late.close(), () => {}); // gave up waiting: close it when it comes
    }
  };
}
