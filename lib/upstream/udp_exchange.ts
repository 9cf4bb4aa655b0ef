/**
 * One upstream exchange over UDP, on a fresh socket of its own for every query: the kernel picks
 * a new random source port each time, so the port never stays fixed (RFC 5452 section 9.2), and
 * the listening socket is never used for upstream traffic.
 * @module
 */
import type { CookieMismatch } from "../policy/mod.ts";
import { formatIPv6, parseIPv6, UpstreamError, UpstreamTimeout } from "../proto/mod.ts";
import { type Mismatch, replyMismatch } from "./match.ts";

/**
 * The part of an `AbortSignal` an exchange uses. An `AbortSignal` is one; the forwarder passes a
 * lighter {@link TimeoutSignal}, since an AbortController with its listener costs about as much as
 * decoding a reply.
 */
export interface AbortLike {
  /** Whether it has fired. */
  readonly aborted: boolean;
  /** Calls `listener` when it fires. */
  addEventListener(type: "abort", listener: () => void, options?: { readonly once?: boolean }): void;
  /** Forgets `listener`. */
  removeEventListener(type: "abort", listener: () => void): void;
}

/** Sends a query and resolves with the first acceptable reply; aborting `signal` gives up. */
export type Exchange = (query: Uint8Array, signal: AbortLike) => Promise<Uint8Array>;

/** An {@link AbortLike} fired by its owner, once; its listeners run once each. */
export class TimeoutSignal implements AbortLike {
  #aborted = false;
  #listeners: (() => void)[] = [];

  get aborted(): boolean {
    return this.#aborted;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (!this.#aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const index = this.#listeners.indexOf(listener);
    if (index >= 0) this.#listeners.splice(index, 1);
  }

  /** Fires: every listener added so far runs once. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/**
 * The part of Deno's socket a one-shot {@link udpExchange} uses (so tests can pass a fake). The
 * server's own sockets, listening and upstream, are lib/net's `DatagramSocket`.
 */
export type Datagram = Pick<Deno.DatagramConn, "send" | "receive" | "close">;

/** An upstream server's IP address and port. */
export interface Upstream {
  /**
   * The upstream server's IPv4 or IPv6 address; for DNS over HTTPS without an address given, the
   * URL's host name, looked up when connecting.
   */
  readonly hostname: string;
  /** The upstream server's port: usually 53 (853 for DoT, 443 for DoH). */
  readonly port: number;
  /** DNS over TLS (RFC 7858, `tls://IP[:PORT][#NAME]`): the name its certificate must carry (null: its address). */
  readonly tls?: { readonly name: string | null };
  /**
   * DNS over HTTPS (RFC 8484, `https://NAME[:PORT]/PATH[#IP]`): the URL asked, and whether `hostname`
   * is an address given with `#IP` (so no lookup of NAME is made).
   */
  readonly https?: { readonly url: string; readonly addressGiven: boolean };
}

/** How an upstream is named in logs, metrics and explain: its address, or its URL for an encrypted one. */
export function upstreamName(upstream: Upstream): string {
  if (upstream.https) return upstream.https.url;
  if (upstream.tls) {
    return `tls://${formatAddress(upstream)}${upstream.tls.name ? `#${upstream.tls.name}` : ""}`;
  }
  return formatAddress(upstream);
}

/** Why a datagram was ignored while waiting: a {@link Mismatch} or a stranger's packet. */
export type DropReason = Mismatch | "wrong-source" | CookieMismatch;

/** Options for {@link udpExchange}. */
export interface UdpExchangeOptions {
  /** Opens the socket for one exchange; defaults to an ephemeral port on the wildcard address. */
  readonly open?: (upstream: Upstream) => Datagram;
  /** Told about every ignored datagram (for counters and warnings). */
  readonly onDrop?: (reason: DropReason, from: string) => void;
  /** Require the question's case exactly as sent (0x20). */
  readonly exactCase?: boolean;
}

/** Formats an address as HOST:PORT, with brackets for IPv6. */
export function formatAddress(address: { hostname: string; port: number }): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

/** An address in one spelling, so a reply's source compares equal however it is written. */
export function canonicalHost(hostname: string): string {
  const v6 = hostname.includes(":") ? parseIPv6(hostname) : null;
  return v6 ? formatIPv6(v6) : hostname;
}

/** The wildcard address of the upstream's family, for a socket that talks to it. */
export function wildcardFor(upstream: Upstream): string {
  return upstream.hostname.includes(":") ? "::" : "0.0.0.0";
}

/** A Deno socket on an ephemeral port, for talking to `upstream`. */
export function openEphemeral(upstream: Upstream): Datagram {
  return Deno.listenDatagram({ transport: "udp", hostname: wildcardFor(upstream), port: 0 });
}

/**
 * An {@link Exchange} with one upstream over UDP. Datagrams from another address or port, with
 * another ID or another question are dropped (reported to `onDrop`) and waiting goes on.
 */
export function udpExchange(upstream: Upstream, options: UdpExchangeOptions = {}): Exchange {
  const { open = openEphemeral, onDrop = () => {}, exactCase = false } = options;
  const target: Deno.NetAddr = { transport: "udp", hostname: upstream.hostname, port: upstream.port };
  const expectedHost = canonicalHost(upstream.hostname);
  const name = formatAddress(upstream);
  return async function udpExchange(query, signal) {
    // "abort" never fires for a signal that is already aborted, so check before opening a socket
    if (signal.aborted) throw new UpstreamTimeout(`No time left to query ${name}`);
    const conn = open(upstream);
    let closed = false;
    const close = () => {
      if (closed) return; // a second close() throws BadResource
      closed = true;
      conn.close();
    };
    signal.addEventListener("abort", close, { once: true });
    try {
      await conn.send(query, target);
      while (true) {
        const [reply, from] = await conn.receive();
        const peer = from as Deno.NetAddr;
        if (canonicalHost(peer.hostname) !== expectedHost || peer.port !== upstream.port) {
          onDrop("wrong-source", formatAddress(peer));
          continue;
        }
        const mismatch = replyMismatch(query, reply, exactCase);
        if (mismatch === null) return reply;
        onDrop(mismatch, formatAddress(peer));
      }
    } catch (error) {
      if (signal.aborted) throw new UpstreamTimeout(`No reply from ${name}`);
      throw new UpstreamError(`Cannot query ${name}`, { cause: error });
    } finally {
      signal.removeEventListener("abort", close);
      close();
    }
  };
}
