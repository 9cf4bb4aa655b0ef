/**
 * httpsExchange() against a fake DoH server on 127.0.0.1 (Deno.serve over TLS, a test CA from
 * openssl): POST over HTTP/2 and HTTP/1.1 on one kept connection, `#IP` through the CONNECT relay
 * with the certificate still checked against the URL's name, bad statuses and aborts.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok, rejects } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { httpsExchange, type HttpsExchangeOptions } from "../../lib/upstream/https_exchange.ts";
import type { Upstream } from "../../lib/upstream/udp_exchange.ts";
import { makeCerts, type TestCerts } from "../_certs.ts";
import { answer, ask, idOf, signal } from "./_exchange_messages.ts";
import { needsTool } from "../_tools.ts";

/** A fake DoH server: `/dns-query` answers POSTs; it records each request's client port and content type. */
function fakeDoh(certs: TestCerts, status = 200) {
  const controller = new AbortController();
  const seen: { port: number; type: string | null; path: string }[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: certs.certPem,
    key: certs.keyPem,
    signal: controller.signal,
    onListen() {},
  }, async (request, info) => {
    seen.push({
      port: info.remoteAddr.port,
      type: request.headers.get("content-type"),
      path: new URL(request.url).pathname,
    });
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (decodeMessage(bytes).questions[0]!.name === "slow.example") {
      await new Promise((r) => setTimeout(r, 500));
    }
    if (status !== 200) return new Response("no", { status });
    return new Response(answer(bytes).slice(), { headers: { "content-type": "application/dns-message" } });
  });
  return {
    port: server.addr.port,
    seen,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

async function withDoh(
  upstreamOf: (port: number) => Upstream,
  body: (exchange: ReturnType<typeof httpsExchange>, server: ReturnType<typeof fakeDoh>) => Promise<void>,
  options: { status?: number; versions?: HttpsExchangeOptions["versions"] } = {},
) {
  const certs = await makeCerts(["dns.test", "127.0.0.1"]);
  const server = fakeDoh(certs, options.status);
  const exchange = httpsExchange(upstreamOf(server.port), {
    caCerts: [certs.caPem],
    ...(options.versions ? { versions: options.versions } : {}),
  });
  try {
    await body(exchange, server);
  } finally {
    await exchange.close();
    await server.close();
    await certs.remove();
  }
}

const byAddress = (port: number): Upstream => ({
  hostname: "127.0.0.1",
  port,
  https: { url: `https://127.0.0.1:${port}/dns-query`, addressGiven: false },
});
const byName = (name: string) => (port: number): Upstream => ({
  hostname: "127.0.0.1",
  port,
  https: { url: `https://${name}:${port}/dns-query#127.0.0.1`, addressGiven: true },
});

for (const versions of [{ http1: false, http2: true }, { http1: true, http2: false }]) {
  const label = versions.http2 ? "HTTP/2" : "HTTP/1.1";
  test({
    ...needsTool("openssl", `httpsExchange() POSTs queries over ${label} on one kept connection`),
    timeoutMs: 20_000,
    fn: () =>
      withDoh(byAddress, async (exchange, server) => {
        const replies = await Promise.all(
          [1, 2, 3].map((id) => exchange(ask(`q${id}.example`, id), signal())),
        );
        equal(replies.map(idOf).join(), "1,2,3");
        equal(idOf(await exchange(ask("again.example", 4), signal())), 4);
        equal(server.seen[0]!.type, "application/dns-message");
        equal(server.seen[0]!.path, "/dns-query");
        // HTTP/2 multiplexes on one connection; HTTP/1.1 may open one per query in flight.
        const ports = new Set(server.seen.map((request) => request.port));
        ok(versions.http2 ? ports.size === 1 : ports.size <= 3, `${ports.size} connections`);
      }, { versions }),
  });
}

test({
  ...needsTool("openssl", "httpsExchange() with #IP connects there and checks the URL's name"),
  timeoutMs: 20_000,
  fn: () =>
    withDoh(byName("dns.test"), async (exchange, server) => {
      equal(idOf(await exchange(ask("a.example", 1), signal())), 1);
      equal(idOf(await exchange(ask("b.example", 2), signal())), 2);
      equal(new Set(server.seen.map((request) => request.port)).size, 1);
    }),
});

test({
  ...needsTool("openssl", "httpsExchange() refuses a certificate for another name"),
  timeoutMs: 20_000,
  fn: () =>
    withDoh(byName("other.test"), async (exchange, server) => {
      await rejects(exchange(ask("a.example", 1), signal()), (error) => {
        ok(error instanceof UpstreamError && !(error instanceof UpstreamTimeout));
        ok(/certificate/.test(String((error.cause as Error)?.cause ?? error.cause)), String(error.cause));
        return true;
      });
      equal(server.seen.length, 0);
    }),
});

test({
  ...needsTool("openssl", "httpsExchange() fails a try on an HTTP status other than 200"),
  timeoutMs: 20_000,
  fn: () =>
    withDoh(byAddress, async (exchange) => {
      await rejects(exchange(ask("a.example", 1), signal()), /answered HTTP 500/);
    }, { status: 500 }),
});

test({
  ...needsTool("openssl", "httpsExchange() gives up on an aborted query"),
  timeoutMs: 20_000,
  fn: () =>
    withDoh(byAddress, async (exchange) => {
      await rejects(exchange(ask("a.example", 1), AbortSignal.abort()), UpstreamTimeout);
      const controller = new AbortController();
      const waiting = exchange(ask("slow.example", 2), controller.signal);
      setTimeout(() => controller.abort(), 100);
      await rejects(waiting, UpstreamTimeout);
      equal(idOf(await exchange(ask("b.example", 3), signal())), 3);
      // The handler of the aborted one finishes before the server closes.
      await new Promise((resolve) => setTimeout(resolve, 500));
    }),
});
