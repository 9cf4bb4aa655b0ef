/**
 * Access control end to end, through startServer() with clients on several loopback addresses
 * (127.0.0.1, 127.0.0.2, 127.0.0.3 and ::1) over UDP and TCP, each question asked twice so the
 * second is a memo hit over UDP: `--deny` (REFUSED, EDE 18 with EDNS), `--allow-recursion` (local
 * data only for the others, RA=0 for them), `--no-recursion` (no upstream asked, RA=0 everywhere),
 * the header-only NOTIMP to an unknown opcode, and ANY over UDP (RFC 8482) against ANY over TCP.
 * Deno cannot pick a TCP client's source address, so over TCP the two clients are 127.0.0.1 and ::1.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { type Message, Rcode, RRType } from "../../lib/proto/types.ts";
import { type RunningServer, type ServerOptions, startServer } from "../../lib/server/mod.ts";
import { connectTcp, query, WAIT_MS } from "../_tcp_client.ts";
import { fixtureData } from "../_zone_fixture.ts";
import { needsFfi } from "../_batched.ts";
import { replyTo, type ScriptedUpstream, startScriptedUpstream } from "../_scripted_upstream.ts";

/** Every upstream query gets one A record: 192.0.2.99. */
function upstream(): ScriptedUpstream {
  return startScriptedUpstream((asked) => [
    replyTo(asked, {
      answers: [{
        name: asked.questions[0]!.name,
        class: 1,
        ttl: 300,
        data: { type: "A", address: "192.0.2.99" },
      }],
    }),
  ]);
}

/** A server on 127.0.0.1 and ::1 (one port) over the zone fixture, forwarding to `up`. */
async function serve(up: ScriptedUpstream, extra: Partial<ServerOptions>): Promise<RunningServer> {
  const data = await fixtureData();
  return startServer({
    host: "127.0.0.1",
    port: 0,
    listen: [{ hostname: "127.0.0.1", port: 0 }, { hostname: "::1", port: 0 }],
    upstreams: [{ hostname: "127.0.0.1", port: up.address.port }],
    timeoutMs: 1_000,
    localData: () => data,
    cache: { limits: { maxEntries: 1_000, minTtl: 0, maxTtl: 86_400, servfailTtl: 5, staleMax: 0 } },
    ...extra,
  });
}

/** The server's address in `family`. */
function at(server: RunningServer, family: 4 | 6): Deno.NetAddr {
  return server.addresses.find((address) => address.hostname.includes(":") === (family === 6))!;
}

/** Sends `bytes` over UDP from `source` (any loopback address) and returns the reply. */
async function udpFrom(source: string, server: RunningServer, bytes: Uint8Array): Promise<Message> {
  const family = source.includes(":") ? 6 : 4;
  const conn = Deno.listenDatagram({ transport: "udp", hostname: source, port: 0 });
  const timer = setTimeout(() => conn.close(), WAIT_MS);
  try {
    await conn.send(bytes, at(server, family));
    const [reply] = await conn.receive();
    return decodeMessage(reply);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** Sends `bytes` over TCP to the server's `family` address (the client is 127.0.0.1 or ::1). */
async function tcpFrom(family: 4 | 6, server: RunningServer, bytes: Uint8Array): Promise<Message> {
  const client = await connectTcp(at(server, family));
  try {
    return decodeMessage(await client.ask(bytes));
  } finally {
    client.close();
  }
}

/** Asks `bytes` twice from `client` (the second a memo hit over UDP) and returns both replies. */
async function twice(client: string, server: RunningServer, bytes: Uint8Array): Promise<Message[]> {
  const ask = (): Promise<Message> =>
    client === "tcp4" ? tcpFrom(4, server, bytes) : client === "tcp6" ? tcpFrom(6, server, bytes) : udpFrom(
      client,
      server,
      bytes,
    );
  return [await ask(), await ask()];
}

function isRefused(reply: Message, label: string): void {
  equal(reply.rcode, Rcode.REFUSED, label);
  equal(reply.answers.length, 0, label);
  equal(reply.recursionAvailable, false, `${label}: RA`);
  deepEqual(edeOf(reply.edns).map((ede) => ede.code), [18], `${label}: EDE 18`);
}

for (const udpIo of ["deno", "batched"] as const) {
  const kind = `(${udpIo} UDP sockets)`;
  const definition = (name: string) => udpIo === "batched" ? needsFfi(name) : { name, ignore: false };

  test(
    definition(
      `--deny: a denied client gets REFUSED with EDE 18 over UDP and TCP, memo hits included ${kind}`,
    ),
    async () => {
      const up = upstream();
      // 127.0.0.3 over UDP, and 127.0.0.1 itself so that a TCP client is denied too; ::1 stays allowed.
      const server = await serve(up, { udpIo, access: { allow: [], deny: ["127.0.0.3", "127.0.0.1/32"] } });
      try {
        for (const name of ["mail.dnsd.test", "forwarded.upstream.net"]) {
          const bytes = query(name, { id: 0x0a01, edns: {} });
          // An allowed client first, so the denied one's question is in the memo.
          for (const client of ["127.0.0.2", "::1", "tcp6"]) {
            for (const reply of await twice(client, server, bytes)) {
              equal(reply.rcode, Rcode.NOERROR, `${client} ${name}`);
            }
          }
          for (const client of ["127.0.0.3", "127.0.0.1", "tcp4"]) {
            for (const reply of await twice(client, server, bytes)) isRefused(reply, `${client} ${name}`);
          }
        }
        // Without EDNS: REFUSED with no OPT record, so no EDE.
        const plain = await udpFrom("127.0.0.3", server, query("mail.dnsd.test", { id: 0x0a02 }));
        equal(plain.rcode, Rcode.REFUSED);
        equal(plain.edns, null);
      } finally {
        server.close();
        await server.finished;
        await up.close();
      }
    },
  );

  test(definition(`--allow: only clients inside an allowed prefix are answered ${kind}`), async () => {
    const up = upstream();
    const server = await serve(up, { udpIo, access: { allow: ["127.0.0.2/32", "::1/128"], deny: [] } });
    try {
      const bytes = query("mail.dnsd.test", { id: 0x0a03, edns: {} });
      for (const client of ["127.0.0.2", "::1", "tcp6"]) {
        for (const reply of await twice(client, server, bytes)) equal(reply.rcode, Rcode.NOERROR, client);
      }
      for (const client of ["127.0.0.3", "tcp4"]) {
        for (const reply of await twice(client, server, bytes)) isRefused(reply, client);
      }
    } finally {
      server.close();
      await server.finished;
      await up.close();
    }
  });

  test(
    definition(`--allow-recursion: others get local data only (RA=0), never the cache or upstreams ${kind}`),
    async () => {
      const up = upstream();
      const server = await serve(up, { udpIo, recursion: { disabled: false, allow: ["127.0.0.1/32"] } });
      try {
        const forwarded = query("cached.upstream.net", { id: 0x0a04, edns: {} });
        const local = query("mail.dnsd.test", { id: 0x0a05, edns: {} });
        // 127.0.0.1 may recurse: forwarded, then cached and in the memo; RA=1.
        for (const client of ["127.0.0.1", "tcp4"]) {
          for (const reply of await twice(client, server, forwarded)) {
            equal(reply.rcode, Rcode.NOERROR, client);
            equal(reply.answers.length, 1, client);
            equal(reply.recursionAvailable, true, `${client}: RA`);
          }
        }
        const asked = up.received.length;
        equal(asked, 1, "one upstream query: the rest came from the cache and the memo");
        // The others: the same bytes, which the memo and the cache hold, are REFUSED with EDE 18.
        for (const client of ["127.0.0.2", "::1", "tcp6"]) {
          for (const reply of await twice(client, server, forwarded)) isRefused(reply, client);
          for (const reply of await twice(client, server, local)) {
            equal(reply.rcode, Rcode.NOERROR, `${client} local`);
            equal(reply.authoritative, true, `${client} local: AA`);
            equal(reply.recursionAvailable, false, `${client} local: RA`);
          }
        }
        // A new name from them reaches no upstream either.
        await twice("127.0.0.2", server, query("new.upstream.net", { id: 0x0a06 }));
        equal(up.received.length, asked);
        // Local data for the client that may recurse: RA=1, memo hit included.
        for (const client of ["127.0.0.1", "tcp4"]) {
          for (const reply of await twice(client, server, local)) {
            equal(reply.recursionAvailable, true, client);
          }
        }
      } finally {
        server.close();
        await server.finished;
        await up.close();
      }
    },
  );
}

test("--no-recursion: authoritative only, RA=0 for everyone, no upstream asked", async () => {
  const up = upstream();
  const server = await serve(up, { recursion: { disabled: true, allow: ["127.0.0.0/8", "::1"] } });
  try {
    for (const client of ["127.0.0.1", "127.0.0.2", "::1", "tcp4", "tcp6"]) {
      for (const reply of await twice(client, server, query("mail.dnsd.test", { id: 0x0a07, edns: {} }))) {
        equal(reply.rcode, Rcode.NOERROR, client);
        equal(reply.authoritative, true, client);
        equal(reply.recursionAvailable, false, `${client}: RA`);
      }
      for (
        const reply of await twice(client, server, query("elsewhere.upstream.net", { id: 0x0a08, edns: {} }))
      ) {
        isRefused(reply, client);
      }
      // Errors too: a FORMERR's header says RA=0.
      const nxdomain = await twice(client, server, query("nothing.dnsd.test", { id: 0x0a09 }));
      for (const reply of nxdomain) {
        equal(reply.rcode, Rcode.NXDOMAIN, client);
        equal(reply.recursionAvailable, false, client);
      }
    }
    equal(up.received.length, 0, "no upstream was asked");
  } finally {
    server.close();
    await server.finished;
    await up.close();
  }
});

test("an unknown opcode gets NOTIMP as a bare header over UDP and TCP", async () => {
  const up = upstream();
  const server = await serve(up, {});
  try {
    // Opcode 15, RD, AD and CD set, with EDNS: QR, the ID and the opcode come back; nothing else.
    const bytes = query("mail.dnsd.test", { id: 0x0a0a, opcode: 15, edns: {} });
    bytes[3] = 0x30;
    for (const client of ["127.0.0.2", "tcp4"]) {
      for (const reply of await twice(client, server, bytes)) {
        deepEqual(
          [
            reply.id,
            reply.response,
            reply.opcode,
            reply.rcode,
            reply.recursionDesired,
            reply.recursionAvailable,
          ],
          [0x0a0a, true, 15, Rcode.NOTIMP, false, false],
          client,
        );
        ok(
          !reply.authenticData && !reply.checkingDisabled && !reply.truncated && !reply.authoritative,
          client,
        );
        deepEqual([reply.questions.length, reply.answers.length, reply.edns], [0, 0, null], client);
      }
    }
  } finally {
    server.close();
    await server.finished;
    await up.close();
  }
});

test("ANY for local data: one RRset over UDP (RFC 8482), memo hits included; every RRset over TCP", async () => {
  const up = upstream();
  const server = await serve(up, {});
  try {
    // The apex of dnsd.test holds SOA, NS and MX; mail.dnsd.test holds A and AAAA.
    for (const name of ["dnsd.test", "mail.dnsd.test"]) {
      const bytes = query(name, { id: 0x0a0b, type: RRType.ANY, edns: {} });
      const typesOf = (reply: Message) => new Set(reply.answers.map((record) => record.data.type));
      const overTcp = await twice("tcp4", server, bytes);
      for (const reply of overTcp) ok(typesOf(reply).size >= 2, `${name} over TCP: ${[...typesOf(reply)]}`);
      for (const client of ["127.0.0.1", "::1"]) {
        for (const reply of await twice(client, server, bytes)) {
          equal(reply.rcode, Rcode.NOERROR);
          equal(typesOf(reply).size, 1, `${name} over UDP from ${client}: ${[...typesOf(reply)]}`);
          ok(reply.answers.length >= 1);
        }
      }
    }
    // Forwarded ANY passes the upstream's answer through.
    const forwarded = await udpFrom(
      "127.0.0.1",
      server,
      query("any.upstream.net", { type: RRType.ANY, edns: {} }),
    );
    equal(forwarded.answers.length, 1);
    equal(up.received.at(-1)?.query.questions[0]?.type, RRType.ANY);
  } finally {
    server.close();
    await server.finished;
    await up.close();
  }
});
