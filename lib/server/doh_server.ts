/**
 * DNS over HTTPS (RFC 8484) on `Deno.serve`, which speaks HTTP/2 (ALPN `h2`) and HTTP/1.1 on one
 * port. Each request's query goes through the same gate (hooks, cookies, padding) and the same
 * {@link answerOrFail} as a query over TCP, told it came over `https`; the answer goes back as
 * `application/dns-message`, cacheable for its smallest TTL. A new certificate restarts the
 * server on the same port: requests in progress on the old one finish there.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate, newTrace, RemoteEvents } from "../observe/mod.ts";
import type { QueryContext, Resolve } from "../resolve/mod.ts";
import { DNS_MESSAGE, dohQuery, freshnessOf } from "./doh_request.ts";
import type { RespondOptions } from "./respond.ts";
import {
  admitQuery,
  type Answering,
  answerOrFail,
  type Gate,
  peerName,
  type ServeOptions,
  streamResponding,
} from "./serving.ts";
import type { CertifiedKey } from "./tls_listener.ts";

const log = getLogger(["dnsd", "https"]);

/** The path DoH is served at unless told otherwise (RFC 8484 section 3 leaves it to the server). */
export const DOH_PATH = "/dns-query";

/** How long a swap waits for Deno to let the old server's port go. */
const REBIND_MS = 2_000;

/** A DoH server that is listening. */
export interface DohServer {
  /** The address it listens on (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Serves with `pem` from now on (check it first); the old certificate stays if the port cannot be had again. */
  swap(pem: CertifiedKey): Promise<void>;
  /** Stops accepting, lets requests in progress finish (up to `graceMs`). */
  stop(graceMs: number): Promise<void>;
  /** Settles once stopped. */
  readonly finished: Promise<void>;
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Serves DoH on `listen.hostname`:`listen.port` at `options.path` (default {@link DOH_PATH}). */
export function serveDoh(
  listen: { readonly hostname: string; readonly port: number; readonly pem: CertifiedKey },
  resolve: Resolve,
  options: ServeOptions & { readonly path?: string } = {},
): DohServer {
  const { hook = null, now = () => performance.now(), cookies = null, observer = null } = options;
  const path = options.path ?? DOH_PATH;
  const events = options.events ?? new RemoteEvents(log);
  const debug = levelGate(log, "debug");
  const gate: Gate = { hook, cookies, observer, padding: true };
  const { responding, refusing, shuttingDown } = streamResponding(resolve, events, options);
  let stopping = false;

  /** Answering whose send keeps the response for the HTTP reply. */
  function answeringWith(respond: RespondOptions, deliver: (response: Uint8Array) => void): Answering {
    return {
      respond,
      send(response) {
        deliver(response);
        return true;
      },
      debug,
      events,
      recursionAvailable: options.recursionAvailable,
      observer,
    };
  }

  async function handle(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const parsed = await dohQuery(request, path);
    const client = info.remoteAddr;
    if (!parsed.ok) {
      if (debug()) log.debug("HTTP {status} to {peer}: {reason}", { ...parsed, peer: peerName(client) });
      const allow = parsed.status === 405 ? { allow: "GET, POST" } : undefined;
      const refusal = plain(parsed.status, parsed.reason, allow);
      // A response to HEAD has no content (RFC 9110 section 9.3.2): over HTTP/2 a body would be a
      // protocol error that resets the stream, so the client never saw the 405.
      return request.method === "HEAD" ? new Response(null, refusal) : refusal;
    }
    const { query } = parsed;
    const trace = observer === null ? undefined : newTrace();
    const context: QueryContext = trace === undefined
      ? { client, transport: "https", receivedAt: now(), size: query.length }
      : { client, transport: "https", receivedAt: now(), size: query.length, trace };
    const out: { answer: Uint8Array | null } = { answer: null };
    const deliver = (response: Uint8Array) => (out.answer = response);
    const admitted = admitQuery(query, context, {
      answering: answeringWith(stopping ? shuttingDown : responding, deliver),
      refused: answeringWith(refusing, deliver),
      gate,
    });
    // A query the hooks drop gets no DNS answer; over HTTP the request still needs a status.
    if (admitted === null) return plain(403, "dropped by policy");
    if (admitted.early !== null) await admitted.answering.send(admitted.early, context);
    else await answerOrFail(query, context, admitted.answering);
    // Junk and DNS responses get no answer (they could be used to amplify): a bad request.
    if (out.answer === null) return plain(400, "not a DNS query");
    // Copied into a buffer of its own: the response may be a view on a larger one.
    const body = new Uint8Array(out.answer);
    return new Response(body, {
      headers: { "content-type": DNS_MESSAGE, "cache-control": `max-age=${freshnessOf(body)}` },
    });
  }

  function open(port: number, pem: CertifiedKey): Deno.HttpServer<Deno.NetAddr> {
    return Deno.serve({
      hostname: listen.hostname,
      port,
      ...pem,
      onListen: () => {},
      onError(error) {
        events.report("https-error", "error", "Error handling a DoH request: {error}", { error });
        return plain(500, "internal error");
      },
    }, handle);
  }

  let server = open(listen.port, listen.pem);
  let current = listen.pem;
  const addr = server.addr;
  const closing: Promise<void>[] = [];
  let stopped: Promise<void> | undefined;
  let ended = () => {};
  const finished = new Promise<void>((resolve) => (ended = resolve));

  /** Opens the server again on its port with `pem`, once Deno has let the old one's port go. */
  async function reopen(pem: CertifiedKey): Promise<unknown> {
    const deadline = performance.now() + REBIND_MS;
    while (true) {
      try {
        server = open(addr.port, pem);
        return null;
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse) || performance.now() > deadline) return error;
        await delay(5);
      }
    }
  }

  return {
    addr,
    async swap(pem) {
      if (stopping) return;
      closing.push(server.shutdown());
      const failed = await reopen(pem);
      if (failed === null) {
        current = pem;
        return;
      }
      await reopen(current);
      throw new Error(`Cannot serve DoH on port ${addr.port} again`, { cause: failed });
    },
    stop(graceMs) {
      stopping = true;
      return stopped ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.all([server.shutdown(), ...closing]), grace]);
        clearTimeout(timer);
        ended();
      })();
    },
    finished,
  };
}
