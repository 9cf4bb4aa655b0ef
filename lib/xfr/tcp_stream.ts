/**
 * A TCP connection to a primary, read as length-prefixed messages (RFC 1035 section 4.2.2,
 * RFC 7766): one per SOA query or transfer, closed when the signal aborts, so one deadline bounds
 * connecting, writing and every read.
 * @module
 */
import { TransferError } from "./errors.ts";

/** The part of a TCP connection a transfer uses (so tests can pass a fake). */
export type Stream = Pick<Deno.Conn, "read" | "write" | "close">;

/** Opens a TCP connection to a primary. */
export type Connect = (primary: Deno.NetAddr) => Promise<Stream>;

/** Opens a real TCP connection. */
export function connectTcp(primary: Deno.NetAddr): Promise<Stream> {
  return Deno.connect({ transport: "tcp", hostname: primary.hostname, port: primary.port });
}

/** A primary's address as logs show it: `192.0.2.1:53`, `[2001:db8::1]:53`. */
export function formatPrimary(primary: Deno.NetAddr): string {
  return primary.hostname.includes(":")
    ? `[${primary.hostname}]:${primary.port}`
    : `${primary.hostname}:${primary.port}`;
}

/** One connection: messages written and read in frames until `close()` or the signal aborts. */
export class FramedStream {
  readonly #stream: Stream;
  #buffered = new Uint8Array(0);
  #closed = false;

  private constructor(stream: Stream) {
    this.#stream = stream;
  }

  /**
   * Connects to `primary`; the connection closes when `signal` aborts.
   * @throws {TransferError} `timeout` or `network`
   */
  static async open(connect: Connect, primary: Deno.NetAddr, signal: AbortSignal): Promise<FramedStream> {
    if (signal.aborted) {
      throw new TransferError("timeout", `no time left to connect to ${formatPrimary(primary)}`);
    }
    let stop = (_error: Error) => {};
    const aborted = new Promise<never>((_, reject) => (stop = reject));
    const onAbort = () =>
      stop(new TransferError("timeout", `timed out connecting to ${formatPrimary(primary)}`));
    signal.addEventListener("abort", onAbort, { once: true });
    const opening = connect(primary);
    try {
      // A connect to a black-holed address can outlast any deadline, so the abort must end the wait.
      const framed = new FramedStream(await Promise.race([opening, aborted]));
      signal.addEventListener("abort", () => framed.close(), { once: true });
      return framed;
    } catch (error) {
      opening.then((late) => late.close(), () => {}); // gave up waiting: close it when it comes
      if (error instanceof TransferError) throw error;
      throw new TransferError("network", `cannot connect to ${formatPrimary(primary)}`, undefined, {
        cause: error,
      });
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Writes one message with its two-octet length. */
  async write(message: Uint8Array): Promise<void> {
    const framed = new Uint8Array(message.length + 2);
    framed[0] = message.length >>> 8;
    framed[1] = message.length & 0xff;
    framed.set(message, 2);
    let rest = framed;
    while (rest.length > 0) rest = rest.subarray(await this.#stream.write(rest));
  }

  /** Reads one message; null when the peer closed the connection between messages. */
  async read(): Promise<Uint8Array | null> {
    const chunk = new Uint8Array(16 * 1024);
    while (true) {
      const have = this.#buffered;
      if (have.length >= 2) {
        const length = (have[0]! << 8) | have[1]!;
        if (have.length >= 2 + length) {
          this.#buffered = have.slice(2 + length);
          return have.slice(2, 2 + length);
        }
      }
      const count = await this.#stream.read(chunk);
      if (count === null) {
        if (have.length === 0) return null;
        throw new TransferError("incomplete", "the connection closed in the middle of a message");
      }
      const joined = new Uint8Array(have.length + count);
      joined.set(have);
      joined.set(chunk.subarray(0, count), have.length);
      this.#buffered = joined;
    }
  }

  /** Closes the connection (once; a second close of a Deno.Conn throws). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#stream.close();
    } catch {
      // Already closed by the peer's reset: nothing left to release.
    }
  }
}
