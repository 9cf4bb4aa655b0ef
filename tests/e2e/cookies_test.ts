/**
 * DNS cookies end to end through startServer() on 127.0.0.1, over UDP (Deno and batched sockets)
 * and TCP: a client cookie gets a server cookie back, memo hits included; the cookie sent back is
 * valid (with --require-cookies it gets an answer, not BADCOOKIE); a malformed option is FORMERR;
 * --require-cookies answers BADCOOKIE (rcode 23) or TC over UDP and never over TCP; a client with
 * a valid cookie is exempt from RRL. Then dig +cookie and kdig +cookie against it. Towards an
 * upstream: dnsd's own client cookie, the server cookie learnt and sent back, a forged reply with
 * the wrong echo dropped, and a reply without the echo dropped once the upstream spoke cookies.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/mod.ts";
import { decodeMessage, type Message, Rcode, RRType } from "../../lib/proto/mod.ts";
import { BADCOOKIE, type CookieOptions, type RateLimitOptions } from "../../lib/policy/mod.ts";
import { fixedData, mappingRecords } from "../../lib/zone/mod.ts";
import { needsFfi } from "../_batched.ts";
import { connectTcp, LOCAL, query } from "../_tcp_client.ts";
import { exchange, openUdpClient } from "../_udp_client.ts";
import { needsTool, runTool } from "../_tools.ts";
import { replyTo, startScriptedUpstream } from "../_scripted_upstream.ts";

const SECRET = "e5e973e5a6b2a43f48e7dc849e37bfcf";
const CLIENT_COOKIE = Uint8Array.from([0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57]);

function serve(
  udpIo: "deno" | "batched",
  cookies: Partial<CookieOptions> = {},
  rateLimit: RateLimitOptions | null = null,
): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
    timeoutMs: 500,
    localData: fixedData({ mappings: mappingRecords(LOCAL) }),
    udpIo,
    cookies: {
      secrets: [Uint8Array.from(SECRET.match(/../g)!, (h) => parseInt(h, 16))],
      require: false,
      ...cookies,
    },
    rateLimit,
  });
}

/** A query for local.dnsd.test with a COOKIE option of `cookie` (none: no option, with EDNS). */
function withCookie(cookie: Uint8Array | null, id = 0x5151): Uint8Array {
  return query("local.dnsd.test", { id, edns: { options: cookie ? [{ code: 10, data: cookie }] : [] } });
}

function cookieOf(message: Message): Uint8Array | null {
  return message.edns?.options.find((option) => option.code === 10)?.data ?? null;
}

type Ask = (bytes: Uint8Array) => Promise<Message>;

/** Runs `fn` with an asker over `transport`, closing its socket afterwards. */
async function over(transport: "udp" | "tcp", server: RunningServer, fn: (ask: Ask) => Promise<void>) {
  if (transport === "udp") {
    const client = openUdpClient(server.address);
    try {
      await fn(async (bytes) => decodeMessage(await client.ask(bytes)));
    } finally {
      client.close();
    }
  } else {
    const client = await connectTcp(server.address);
    try {
      await fn(async (bytes) => decodeMessage(await client.ask(bytes)));
    } finally {
      client.close();
    }
  }
}

const KINDS = [
  { transport: "udp", udpIo: "deno" },
  { transport: "udp", udpIo: "batched" },
  { transport: "tcp", udpIo: "deno" },
] as const;

for (const { transport, udpIo } of KINDS) {
  const name =
    `cookies over ${transport.toUpperCase()}${transport === "udp" ? ` (${udpIo} sockets)` : ""}: ` +
    `a server cookie on every answer (memo hits too), valid when sent back, FORMERR when malformed`;
  const definition = udpIo === "batched" ? needsFfi(name) : { name, ignore: false };
  test({ ...definition, timeoutMs: 30_000 }, async () => {
    const server = serve(udpIo, { require: transport === "udp" });
    try {
      await over(transport, server, async (ask) => {
        // Over UDP cookies are required here: a client cookie alone is BADCOOKIE with a fresh cookie.
        const first = await ask(withCookie(CLIENT_COOKIE));
        equal(first.rcode, transport === "udp" ? BADCOOKIE : Rcode.NOERROR);
        const full = cookieOf(first);
        ok(full, "a COOKIE option in the answer");
        equal(full.length, 24);
        deepEqual(full.subarray(0, 8), CLIENT_COOKIE);
        equal(full[8], 1, "RFC 9018 version 1");
        // Sent back, many times (the repeats are memo hits): answered, each with a cookie.
        for (let i = 0; i < 5; i++) {
          const again = await ask(withCookie(full, 0x6000 + i));
          equal(again.id, 0x6000 + i);
          equal(again.rcode, Rcode.NOERROR);
          equal(again.answers.length, 1);
          deepEqual(cookieOf(again)?.subarray(0, 8), CLIENT_COOKIE);
          equal(cookieOf(again)?.length, 24);
        }
        // A server cookie that is not dnsd's: BADCOOKIE over UDP (required), an answer over TCP.
        const forged = full.slice();
        forged[23] = forged[23]! ^ 1;
        const bad = await ask(withCookie(forged));
        equal(bad.rcode, transport === "udp" ? BADCOOKIE : Rcode.NOERROR);
        // No cookie at all: TC over UDP (retry over TCP), an answer over TCP.
        const none = await ask(withCookie(null));
        equal(none.truncated, transport === "udp");
        equal(none.answers.length, transport === "udp" ? 0 : 1);
        // Malformed (7 octets, or 8 plus 7): FORMERR over either transport.
        for (const length of [7, 15]) {
          const malformed = await ask(withCookie(new Uint8Array(length).fill(3)));
          equal(malformed.rcode, Rcode.FORMERR, `${length} octets`);
        }
      });
      if (transport === "udp") {
        // The same malformed cookie in a response (QR=1): no answer at all (found by fuzz:wire).
        const response = withCookie(new Uint8Array(7).fill(3));
        response[2] = response[2]! | 0x80;
        equal(await exchange(server.address.port, response, 300), null, "a reply to a response");
      }
    } finally {
      server.close();
      await server.finished;
    }
  });
}

test(
  { name: "without --require-cookies a bad server cookie gets a normal answer and a fresh cookie" },
  async () => {
    const server = serve("deno");
    try {
      await over("udp", server, async (ask) => {
        const answer = await ask(withCookie(new Uint8Array([...CLIENT_COOKIE, ...new Uint8Array(16)])));
        equal(answer.rcode, Rcode.NOERROR);
        equal(answer.answers.length, 1);
        equal(cookieOf(answer)?.[8], 1);
      });
    } finally {
      server.close();
      await server.finished;
    }
  },
);

test({
  name: "a client with a valid server cookie is exempt from RRL; one without is limited",
  timeoutMs: 30_000,
}, async () => {
  const server = serve("deno", {}, { perSecond: 2, prefix4: 24, prefix6: 56, slip: 0 });
  try {
    await over("udp", server, async (ask) => {
      const cookie = cookieOf(await ask(withCookie(CLIENT_COOKIE)))!;
      for (let i = 0; i < 20; i++) {
        const answer = await ask(query("small.dnsd.test", {
          id: i,
          type: RRType.TXT,
          edns: { options: [{ code: 10, data: cookie }] },
        }));
        equal(answer.truncated, false);
        equal(answer.answers.length, 4);
      }
    });
    // Without a cookie the same client is over its limit at once (its one token went to the first query).
    const client = openUdpClient(server.address, 300);
    try {
      let answered = 0;
      for (let i = 0; i < 5; i++) {
        try {
          await client.ask(query("small.dnsd.test", { id: i, type: RRType.TXT }));
          answered++;
        } catch {
          break; // no reply: dropped (the client closes itself)
        }
      }
      ok(answered <= 2, `${answered} answers without a cookie`);
    } finally {
      client.close();
    }
  } finally {
    server.close();
    await server.finished;
  }
});

for (const tool of ["dig", "kdig"] as const) {
  test(
    needsTool(
      tool,
      `${tool} +cookie learns dnsd's server cookie; sent back it is good, a forged one BADCOOKIE`,
    ),
    async () => {
      const server = serve("deno", { require: true });
      // One try each: dig's "+tries=1" is kdig's "+retry=0".
      const at = [
        "@127.0.0.1",
        "-p",
        String(server.address.port),
        tool === "dig" ? "+tries=1" : "+retry=0",
        "+timeout=3",
      ];
      try {
        // With cookies required, the first query (a client cookie alone) gets BADCOOKIE and the server
        // cookie (dig then asks again with it, and shows the answer).
        const first = await runTool(tool, [...at, "+cookie", "local.dnsd.test"]);
        match(first, /COOKIE: [0-9a-fA-F]{48}/, "a server cookie");
        const cookie = /COOKIE: ([0-9a-fA-F]{48})/.exec(first)![1]!;
        const again = await runTool(tool, [
          ...at,
          `+cookie=${cookie}`,
          "local.dnsd.test",
        ]);
        match(again, /status: NOERROR/);
        match(again, /192\.0\.2\.53/);
        if (tool === "dig") match(again, /COOKIE: [0-9a-f]{48} \(good\)/);
        const forged = cookie.slice(0, 47) + (cookie[47] === "0" ? "1" : "0");
        // dig retries a BADCOOKIE with the cookie it got unless told not to (kdig does not retry).
        const bad = await runTool(tool, [
          ...at,
          ...(tool === "dig" ? ["+nobadcookie"] : []),
          `+cookie=${forged}`,
          "local.dnsd.test",
        ]);
        match(bad, /status: BADCOOKIE/);
      } finally {
        server.close();
        await server.finished;
      }
    },
  );
}

test({
  name: "towards an upstream: dnsd sends its cookie, drops a spoofed reply without the echo",
  timeoutMs: 30_000,
}, async () => {
  const SERVER_COOKIE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  const ours = (q: Message) =>
    q.edns?.options.find((option) => option.code === 10)?.data ?? new Uint8Array(0);
  const a = (q: Message, address: string, cookie: Uint8Array | null) =>
    replyTo(q, {
      answers: [{ name: q.questions[0]!.name, class: 1, ttl: 60, data: { type: "A", address } }],
      edns: {
        udpPayloadSize: 1232,
        version: 0,
        dnssecOk: false,
        flags: 0,
        options: cookie ? [{ code: 10, data: cookie }] : [],
      },
    });
  const upstream = startScriptedUpstream((q, transport) => {
    if (transport === "tcp") return [];
    const client = ours(q).subarray(0, 8);
    const name = q.questions[0]!.name;
    if (name === "good.test") return [a(q, "192.0.2.1", new Uint8Array([...client, ...SERVER_COOKIE]))];
    // A forged reply first: right ID and question, but the wrong client cookie; then the real one.
    if (name === "spoof.test") {
      return [
        a(q, "192.0.2.66", new Uint8Array([...client.map((octet) => octet ^ 0xff), ...SERVER_COOKIE])),
        a(q, "192.0.2.2", new Uint8Array([...client, ...SERVER_COOKIE])),
      ];
    }
    return [a(q, "192.0.2.99", null)]; // no cookie from an upstream that spoke cookies before
  });
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 400,
    localData: fixedData({ mappings: mappingRecords({}) }),
    udpIo: "deno",
  });
  try {
    await over("udp", server, async (ask) => {
      const edns = { options: [] };
      const good = await ask(query("good.test", { id: 1, edns }));
      deepEqual(good.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.1" }]);
      const spoofed = await ask(query("spoof.test", { id: 2, edns }));
      deepEqual(spoofed.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.2" }]);
      const bare = await ask(query("bare.test", { id: 3, edns }));
      equal(bare.answers.length, 0, "a reply without the cookie is dropped");
      equal(bare.rcode, Rcode.SERVFAIL);
    });
    const sent = upstream.received.filter((r) => r.transport === "udp").map((r) => ours(r.query));
    equal(sent[0]!.length, 8, "a client cookie alone at first");
    equal(sent[1]!.length, 24, "then with the server cookie learnt");
    deepEqual(sent[1]!.subarray(8), SERVER_COOKIE);
    deepEqual(sent[1]!.subarray(0, 8), sent[0]);
    ok(server.counters.dropped >= 2, `${server.counters.dropped} replies dropped`);
  } finally {
    server.close();
    await server.finished;
    await upstream.close();
  }
});
