/**
 * tlsExchange() against fake DoT servers on 127.0.0.1 (Deno.listenTls, a test CA from openssl):
 * one connection reused, pipelined queries answered out of order, a server that closes between
 * queries, a certificate for another name, aborts, and queries sharing an ID.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { UpstreamError, UpstreamTimeout } from "../../lib/proto/errors.ts";
import { type TlsExchange, tlsExchange } from "../../lib/upstream/tls_exchange.ts";
import type { Upstream } from "../../lib/upstream/udp_exchange.ts";
import { makeCerts, type TestCerts } from "../_certs.ts";
import { answer, ask, idOf, signal } from "./_exchange_messages.ts";
import { needsTool } from "../_tools.ts";

function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(message.length + 2);
  framed.set([message.length >> 8, message.length & 0xff]);
  framed.set(message, 2);
  return framed;
}

/** How the fake server treats the queries of one connection. */
type Script = (
  queries: AsyncGenerator<Uint8Array>,
  write: (reply: Uint8Array) => Promise<void>,
) => Promise<void>;

/** Answers each query as it comes. */
const inTurn: Script = async (queries, write) => {
  for await (const bytes of queries) await write(answer(bytes));
};

/** The next `count` queries, read before any is answered. */
async function held(queries: AsyncGenerator<Uint8Array>, count: number): Promise<Uint8Array[]> {
  const taken: Uint8Array[] = [];
  for await (const bytes of queries) {
    taken.push(bytes);
    if (taken.length === count) break;
  }
  return taken;
}

/** A fake DoT server on 127.0.0.1: counts connections, runs `script` on each, closes all at the end. */
function fakeDot(certs: TestCerts, script: Script) {
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
  const conns = new Set<Deno.TlsConn>();
  const handled: Promise<void>[] = [];
  let connections = 0;
  async function* frames(conn: Deno.Conn): AsyncGenerator<Uint8Array> {
    let have = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    while (true) {
      while (have.length >= 2 && have.length >= 2 + ((have[0]! << 8) | have[1]!)) {
        const end = 2 + ((have[0]! << 8) | have[1]!);
        yield have.slice(2, end);
        have = have.subarray(end);
      }
      const count = await conn.read(chunk);
      if (count === null) return;
      const joined = new Uint8Array(have.length + count);
      joined.set(have);
      joined.set(chunk.subarray(0, count), have.length);
      have = joined;
    }
  }
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conns.add(conn);
      handled.push(
        script(frames(conn), async (reply) => {
          await conn.write(frame(reply));
        }).catch(() => {}).finally(() => {
          if (conns.delete(conn)) conn.close();
        }),
      );
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => connections,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of conns) conn.close();
      conns.clear();
      await Promise.all(handled);
    },
  };
}

/** Runs `body` with a CA, a leaf for dns.test, a fake server running `script` and an exchange to it. */
async function withDot(
  script: Script,
  body: (exchange: TlsExchange, server: ReturnType<typeof fakeDot>) => Promise<void>,
  name = "dns.test",
) {
  const certs = await makeCerts(["dns.test"]);
  const server = fakeDot(certs, script);
  const upstream: Upstream = { hostname: "127.0.0.1", port: server.port, tls: { name } };
  const exchange = tlsExchange(upstream, { caCerts: [certs.caPem], idleMs: 2_000 });
  try {
    await body(exchange, server);
  } finally {
    await exchange.close();
    await server.close();
    await certs.remove();
  }
}

test({
  ...needsTool("openssl", "tlsExchange() reuses one connection for queries in turn"),
  timeoutMs: 20_000,
  fn: () =>
    withDot(inTurn, async (exchange, server) => {
      for (let id = 1; id <= 3; id++) equal(idOf(await exchange(ask("a.example", id), signal())), id);
      equal(server.connections(), 1);
    }),
});

test({
  ...needsTool("openssl", "tlsExchange() pipelines queries and takes their replies out of order"),
  timeoutMs: 20_000,
  fn: () =>
    withDot(async (queries, write) => {
      // Reads three queries before answering any, then answers the last first.
      for (const bytes of (await held(queries, 3)).reverse()) await write(answer(bytes));
      await inTurn(queries, write);
    }, async (exchange, server) => {
      const names = ["one.example", "two.example", "three.example"];
      const replies = await Promise.all(names.map((name, i) => exchange(ask(name, 100 + i), signal())));
      deepEqual(replies.map((reply) => decodeMessage(reply).questions[0]!.name), names);
      deepEqual(replies.map(idOf), [100, 101, 102]);
      equal(server.connections(), 1);
    }),
});

test({
  ...needsTool("openssl", "tlsExchange() keeps two queries with one ID apart"),
  timeoutMs: 20_000,
  fn: () =>
    withDot(async (queries, write) => {
      const two = await held(queries, 2);
      // Distinct IDs on the wire, whatever the forwarder gave.
      ok(idOf(two[0]!) !== idOf(two[1]!));
      for (const bytes of two.reverse()) await write(answer(bytes));
    }, async (exchange) => {
      const [first, second] = await Promise.all([
        exchange(ask("first.example", 7), signal()),
        exchange(ask("second.example", 7), signal()),
      ]);
      equal(decodeMessage(first).questions[0]!.name, "first.example");
      equal(decodeMessage(second).questions[0]!.name, "second.example");
      equal(idOf(first), 7);
      equal(idOf(second), 7);
    }),
});

test({
  ...needsTool("openssl", "tlsExchange() connects again after the server closes between queries"),
  timeoutMs: 20_000,
  fn: () =>
    withDot(async (queries, write) => {
      // One answer per connection, then the server hangs up.
      for await (const bytes of queries) return await write(answer(bytes));
    }, async (exchange, server) => {
      for (let id = 1; id <= 3; id++) {
        equal(idOf(await exchange(ask("a.example", id), signal())), id);
        // Let the close arrive, as it would between a client's queries.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      equal(server.connections(), 3);
    }),
});

test({
  ...needsTool("openssl", "tlsExchange() sends a query again when the connection closes under it"),
  timeoutMs: 20_000,
  fn: () => {
    let first = true;
    return withDot(async (queries, write) => {
      // The first connection takes a query and closes without answering (a race with an idle close).
      for await (const bytes of queries) {
        if (first) return void (first = false);
        await write(answer(bytes));
      }
    }, async (exchange, server) => {
      equal(idOf(await exchange(ask("a.example", 9), signal())), 9);
      equal(server.connections(), 2);
    });
  },
});

test({
  ...needsTool("openssl", "tlsExchange() refuses a certificate for another name"),
  timeoutMs: 20_000,
  fn: () =>
    withDot(inTurn, async (exchange, server) => {
      await rejects(exchange(ask("a.example", 1), signal()), (error) => {
        ok(error instanceof UpstreamError && !(error instanceof UpstreamTimeout));
        ok(/not valid for name "other\.test"/.test(String(error.cause)), String(error.cause));
        return true;
      });
      equal(server.connections(), 1); // no second try on a connection that never was
    }, "other.test"),
});

test({
  ...needsTool("openssl", "tlsExchange() gives up on an aborted query and keeps the connection"),
  timeoutMs: 20_000,
  fn: () =>
    withDot(async (queries, write) => {
      // Never answers silent.example.
      for await (const bytes of queries) {
        if (decodeMessage(bytes).questions[0]!.name !== "silent.example") await write(answer(bytes));
      }
    }, async (exchange, server) => {
      await rejects(exchange(ask("a.example", 1), AbortSignal.abort()), UpstreamTimeout);
      const controller = new AbortController();
      const waiting = exchange(ask("silent.example", 2), controller.signal);
      setTimeout(() => controller.abort(), 100);
      await rejects(waiting, UpstreamTimeout);
      equal(idOf(await exchange(ask("b.example", 3), signal())), 3);
      equal(server.connections(), 1);
    }),
});

/** Sockets of this process in CLOSE-WAIT to `port` (closed by the peer, never by us), as ss(8) lists them. */
async function closeWaits(port: number): Promise<number> {
  const { stdout } = await new Deno.Command("ss", { args: ["-tanpH", "state", "close-wait"] }).output();
  return new TextDecoder().decode(stdout).split("\n")
    .filter((line) => line.includes(`:${port} `) && line.includes(`pid=${Deno.pid},`)).length;
}

test({
  ...needsTool(
    "openssl",
    "tlsExchange() closes its socket when the certificate is refused (no CLOSE-WAIT left)",
  ),
  timeoutMs: 20_000,
  fn: () =>
    withDot(inTurn, async (exchange, server) => {
      for (let id = 1; id <= 5; id++) {
        await rejects(exchange(ask("a.example", id), signal()), (error) => {
          ok(/Cannot connect to 127\.0\.0\.1:\d+ over TLS: .*other\.test/.test(String(error)), String(error));
          return true;
        });
      }
      equal(server.connections(), 5);
      await new Promise((resolve) => setTimeout(resolve, 200));
      equal(await closeWaits(server.port), 0, "every refused connection closed on our side");
    }, "other.test"),
});

test({
  ...needsTool("openssl", "tlsExchange() gives up a handshake the server never answers, and connects anew"),
  timeoutMs: 20_000,
  async fn() {
    // Accepts TCP and says nothing: no TLS handshake ever comes back.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const accepted: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) accepted.push(conn);
    })();
    const exchange = tlsExchange({ hostname: "127.0.0.1", port, tls: { name: "dns.test" } }, {
      connectMs: 300,
    });
    try {
      const began = performance.now();
      await rejects(exchange(ask("a.example", 1), signal()), (error) => {
        ok(/Cannot connect to .* over TLS: timed out connecting/.test(String(error)), String(error));
        return true;
      });
      ok(performance.now() - began < 2_000, `gave up after ${Math.round(performance.now() - began)} ms`);
      await rejects(exchange(ask("b.example", 2), signal()), UpstreamError);
      equal(accepted.length, 2, "the next query opened a new connection");
    } finally {
      await exchange.close();
      listener.close();
      await accepting.catch(() => {});
      for (const conn of accepted) conn.close();
    }
  },
});

test({
  ...needsTool(
    "openssl",
    "tlsExchange() drops an open connection that answers none of three queries in a row",
  ),
  timeoutMs: 20_000,
  fn: () =>
    withDot(async (queries) => {
      for await (const _ of queries) {
        // reads every query, answers none (a peer gone without a FIN)
      }
    }, async (exchange, server) => {
      for (let id = 1; id <= 4; id++) {
        const controller = new AbortController();
        const waiting = exchange(ask(`q${id}.example`, id), controller.signal);
        setTimeout(() => controller.abort(), 100);
        await rejects(waiting, UpstreamTimeout);
      }
      equal(server.connections(), 2, "a new connection after three unanswered queries");
    }),
});
