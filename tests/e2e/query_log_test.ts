/**
 * The query log end to end: startServer() on 127.0.0.1 and ::1 with a scripted upstream, a
 * blocklist, a cache that serves stale answers and `--deny ::1`; for UDP and for TCP, one query
 * per source (local, memo hit, upstream, cache, blocked, stale, error, refused by policy and by
 * access control), each line checked field by field; then the file moved and reopened (SIGHUP's
 * work) with the next line in the new file.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query as makeQuery } from "../../lib/proto/message.ts";
import { RRClass, RRType } from "../../lib/proto/types.ts";
import { type BlockPolicy, DomainSet } from "../../lib/block/mod.ts";
import { type RunningServer, startServer } from "../../lib/server/mod.ts";
import { fixedData, mappingRecords } from "../../lib/zone/mod.ts";
import { replyTo, startScriptedUpstream } from "../_scripted_upstream.ts";
import { openUdpClient } from "../_udp_client.ts";
import { connectTcp, WAIT_MS } from "../_tcp_client.ts";

type Transport = "udp" | "tcp";

function wire(name: string, type: number, options: { id?: number; rd?: boolean } = {}): Uint8Array {
  return encodeMessage(makeQuery({ name, type }, {
    id: options.id ?? 0x4242,
    recursionDesired: options.rd ?? true,
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
  }));
}

async function ask(server: Deno.NetAddr, transport: Transport, bytes: Uint8Array): Promise<Uint8Array> {
  if (transport === "udp" && server.hostname === "::1") {
    const socket = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
    const timer = setTimeout(() => socket.close(), WAIT_MS);
    try {
      await socket.send(bytes, server);
      const [reply] = await socket.receive();
      return reply;
    } finally {
      clearTimeout(timer);
      socket.close();
    }
  }
  if (transport === "udp") {
    const client = openUdpClient(server);
    try {
      return await client.ask(bytes);
    } finally {
      client.close();
    }
  }
  const client = await connectTcp(server);
  try {
    return await client.ask(bytes, WAIT_MS);
  } finally {
    client.close();
  }
}

interface Line {
  ts: string;
  client: string;
  protocol: string;
  name: string;
  type: string;
  rcode: string;
  flags: string[];
  answers: number;
  source: string;
  upstream: string | null;
  "duration_ms": number;
  ede?: { code: number; text: string };
}

async function readLines(path: string): Promise<Line[]> {
  const text = await Deno.readTextFile(path);
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line));
}

for (const transport of ["udp", "tcp"] as const) {
  test(`query log over ${transport}: each source's line, field by field`, async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/queries.log`;
    let silent = false;
    const upstream = startScriptedUpstream((query) => {
      const name = query.questions[0]!.name.toLowerCase();
      if (name === "silent.dnsd.test" || (silent && name === "stale.dnsd.test")) return [];
      const ttl = name === "stale.dnsd.test" ? 1 : 60;
      return [replyTo(query, {
        answers: [{
          name: query.questions[0]!.name,
          class: RRClass.IN,
          ttl,
          data: { type: "A", address: "192.0.2.1" },
        }],
      })];
    });
    let offset = 0;
    let server: RunningServer | undefined;
    // One policy object: a new one would be a new generation, and the memo would keep nothing.
    const policy: BlockPolicy = {
      lists: { blocked: new DomainSet(["ads.example"]), allowed: new DomainSet([]) },
      mode: "nxdomain",
    };
    try {
      server = startServer({
        clock: () => performance.now() + offset,
        listen: [{ hostname: "127.0.0.1", port: 0 }, { hostname: "::1", port: 0 }],
        host: "127.0.0.1",
        port: 0,
        upstreams: [upstream.address],
        timeoutMs: 300,
        localData: fixedData({ mappings: mappingRecords({ "local.dnsd.test": "192.0.2.7" }) }),
        blockPolicy: () => policy,
        cache: {
          limits: { maxEntries: 100, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 86400 },
          serveStale: true,
        },
        access: { allow: [], deny: ["::1/128"] },
        queryLog: path,
      });
      const [v4, v6] = server.addresses as [Deno.NetAddr, Deno.NetAddr];
      const to = (bytes: Uint8Array) => ask(v4, transport, bytes);
      await to(wire("local.dnsd.test", RRType.A));
      await to(wire("local.dnsd.test", RRType.A)); // over UDP, from the memo
      await to(wire("Forward.dnsd.test", RRType.A));
      await to(wire("Forward.dnsd.test", RRType.A)); // the cache
      await to(wire("Forward.dnsd.test", RRType.A)); // over UDP, the memo's copy of the cached answer
      // Over UDP the third came from the memo, not the cache stage: the memo-hit path is the one logged.
      equal(server.cache!.counters.hits, transport === "udp" ? 1 : 2);
      await to(wire("x.ads.example", RRType.AAAA));
      await to(wire("stale.dnsd.test", RRType.A));
      silent = true;
      offset += 3_000; // past the TTL of 1 s: the upstream is asked, is silent, the stale answer is served
      const stale = decodeMessage(await to(wire("stale.dnsd.test", RRType.A)));
      equal(stale.answers.length, 1);
      await to(wire("silent.dnsd.test", RRType.TXT));
      await to(wire("other.dnsd.test", RRType.A, { rd: false }));
      await ask(v6, transport, wire("local.dnsd.test", RRType.A));

      // SIGHUP's work: logrotate moved the file; the log opens the path again.
      await server.reopenLogs();
      await Deno.rename(path, `${path}.1`);
      await server.reopenLogs();
      await to(wire("local.dnsd.test", RRType.MX));
      await server.stop(0);

      const lines = await readLines(`${path}.1`);
      const up = `127.0.0.1:${upstream.address.port}`;
      const memo = transport === "udp";
      const want: Omit<Line, "ts" | "client" | "duration_ms" | "protocol">[] = [
        {
          name: "local.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "aa", "rd", "ra"],
          answers: 1,
          source: "local",
          upstream: null,
        },
        {
          name: "local.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "aa", "rd", "ra"],
          answers: 1,
          source: "local",
          upstream: null,
        },
        {
          name: "forward.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "rd", "ra"],
          answers: 1,
          source: "upstream",
          upstream: up,
        },
        {
          name: "forward.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "rd", "ra"],
          answers: 1,
          source: "cache",
          upstream: null,
        },
        {
          name: "forward.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "rd", "ra"],
          answers: 1,
          source: "cache",
          upstream: null,
        },
        {
          name: "x.ads.example",
          type: "AAAA",
          rcode: "NXDOMAIN",
          flags: ["qr", "rd", "ra"],
          answers: 0,
          source: "blocked",
          upstream: null,
          ede: { code: 15, text: "" },
        },
        {
          name: "stale.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "rd", "ra"],
          answers: 1,
          source: "upstream",
          upstream: up,
        },
        {
          name: "stale.dnsd.test",
          type: "A",
          rcode: "NOERROR",
          flags: ["qr", "rd", "ra"],
          answers: 1,
          source: "stale",
          upstream: null,
          ede: { code: 3, text: "" },
        },
        {
          name: "silent.dnsd.test",
          type: "TXT",
          rcode: "SERVFAIL",
          flags: ["qr", "rd", "ra"],
          answers: 0,
          source: "error",
          upstream: null,
          ede: { code: 22, text: "" },
        },
        {
          name: "other.dnsd.test",
          type: "A",
          rcode: "REFUSED",
          flags: ["qr", "ra"],
          answers: 0,
          source: "refused",
          upstream: null,
          ede: { code: 18, text: "" },
        },
        {
          name: "local.dnsd.test",
          type: "A",
          rcode: "REFUSED",
          flags: ["qr", "rd"],
          answers: 0,
          source: "refused",
          upstream: null,
          ede: { code: 18, text: "" },
        },
      ];
      equal(lines.length, want.length, JSON.stringify(lines, null, 1));
      lines.forEach((line, i) => {
        const { ts, client, duration_ms, protocol, ...rest } = line;
        // EDE texts vary with the reason; their codes are checked.
        const got = { ...rest, ...(rest.ede ? { ede: { code: rest.ede.code, text: "" } } : {}) };
        deepEqual(got, want[i], `line ${i} (${memo ? "memo on" : "no memo"}): ${JSON.stringify(line)}`);
        equal(protocol, transport);
        ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(ts), ts);
        ok(Math.abs(Date.parse(ts) - Date.now()) < 60_000, ts);
        ok(i === 10 ? /^\[::1\]:\d+$/.test(client) : /^127\.0\.0\.1:\d+$/.test(client), client);
        ok(typeof duration_ms === "number" && duration_ms >= 0 && duration_ms < 5_000, String(duration_ms));
      });
      const after = await readLines(path);
      deepEqual(after.map((line) => [line.name, line.type, line.source]), [[
        "local.dnsd.test",
        "MX",
        "local",
      ]]);
    } finally {
      if (server) {
        await server.stop(0);
        await server.finished;
      }
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
