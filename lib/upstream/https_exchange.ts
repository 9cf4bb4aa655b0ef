/**
 * DNS over HTTPS to one upstream (RFC 8484): each query a POST of `application/dns-message` on
 * Deno's fetch with a client of its own, which keeps connections open and reuses them (HTTP/2
 * multiplexes queries on one; HTTP/1.1 keeps it alive). With `#IP` the connection goes to that
 * address through a loopback CONNECT relay (connect_relay.ts), TLS still end to end and checked
 * against the URL's name; without it the name is looked up by the system resolver.
 * @module
 */
import { UpstreamError, UpstreamTimeout } from "../proto/mod.ts";
import { replyMismatch } from "./match.ts";
import { type DropReason, type Exchange, type Upstream } from "./udp_exchange.ts";
import { connectAuthority, type ConnectRelay, connectRelay } from "./connect_relay.ts";

/** The media type of a DNS message over HTTPS (RFC 8484 section 6). */
const DNS_MESSAGE = "application/dns-message";

/** The most octets a reply body may have: a DNS message's limit over TCP. */
const MAX_REPLY = 65_535;

/** Options for {@link httpsExchange}. */
export interface HttpsExchangeOptions {
  /** More CA certificates (PEM) to trust besides the default roots (`--upstream-ca`). */
  readonly caCerts?: readonly string[];
  /** Told about every reply that did not match its query. */
  readonly onDrop?: (reason: DropReason, from: string) => void;
  /** Require the question's case exactly as sent (0x20). */
  readonly exactCase?: boolean;
  /** Offer HTTP/2 and HTTP/1.1 (default both: HTTP/2 when the server's ALPN says so). */
  readonly versions?: { readonly http1: boolean; readonly http2: boolean };
}

/** A DoH exchange; `close()` closes its connections (and its relay). */
export type HttpsExchange = Exchange & { close(): Promise<void> };

/** An AbortSignal that fires with `like`, and a way to stop listening to it. */
function abortSignalOf(like: Parameters<Exchange>[1]): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  like.addEventListener("abort", abort, { once: true });
  return { signal: controller.signal, done: () => like.removeEventListener("abort", abort) };
}

/**
 * An {@link Exchange} with one upstream over DNS over HTTPS (`upstream.https`). A status other
 * than 200, another content type or a body that is no reply to the query fails the try.
 */
export function httpsExchange(upstream: Upstream, options: HttpsExchangeOptions = {}): HttpsExchange {
  const https = upstream.https;
  if (!https) throw new TypeError("httpsExchange() needs an https:// upstream");
  const { onDrop = () => {}, exactCase = false } = options;
  const url = new URL(https.url);
  url.hash = "";
  const target = url.href;
  const name = https.url;
  let relay: ConnectRelay | null = null;
  let client: Deno.HttpClient | null = null;
  let shut = false;

  /** The HTTP client, made at the first query (the relay too: no socket before it is needed). */
  function clientOf(): Deno.HttpClient {
    if (client) return client;
    if (https!.addressGiven) relay = connectRelay(connectAuthority(url), upstream);
    client = Deno.createHttpClient({
      caCerts: [...(options.caCerts ?? [])],
      http1: options.versions?.http1 ?? true,
      http2: options.versions?.http2 ?? true,
      ...(relay ? { proxy: { url: relay.url } } : {}),
    });
    return client;
  }

  async function exchange(query: Uint8Array, like: Parameters<Exchange>[1]): Promise<Uint8Array> {
    if (like.aborted) throw new UpstreamTimeout(`No time left to query ${name}`);
    if (shut) throw new UpstreamError(`Exchange with ${name} is closed`);
    const { signal, done } = abortSignalOf(like);
    try {
      const response = await fetch(target, {
        method: "POST",
        headers: { "content-type": DNS_MESSAGE, accept: DNS_MESSAGE },
        body: query.slice(),
        client: clientOf(),
        signal,
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new UpstreamError(`${name} answered HTTP ${response.status}`);
      }
      const type = (response.headers.get("content-type") ?? "").split(";", 1)[0]?.trim().toLowerCase();
      if (type !== DNS_MESSAGE) {
        await response.body?.cancel();
        throw new UpstreamError(`${name} answered ${type || "no content type"}, not ${DNS_MESSAGE}`);
      }
      const length = Number(response.headers.get("content-length") ?? 0);
      if (length > MAX_REPLY) {
        await response.body?.cancel();
        throw new UpstreamError(`${name} answered ${length} octets, more than a DNS message`);
      }
      const reply = new Uint8Array(await response.arrayBuffer());
      const mismatch = reply.length > MAX_REPLY ? "short" : replyMismatch(query, reply, exactCase);
      if (mismatch !== null) {
        onDrop(mismatch, name);
        throw new UpstreamError(`${name} answered something else than the query (${mismatch})`);
      }
      return reply;
    } catch (error) {
      if (like.aborted) throw new UpstreamTimeout(`No reply from ${name}`);
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError(`Cannot query ${name}`, { cause: error });
    } finally {
      done();
    }
  }

  function close(): Promise<void> {
    shut = true;
    client?.close();
    relay?.close();
    return Promise.resolve();
  }
  return Object.assign(exchange, { close });
}
