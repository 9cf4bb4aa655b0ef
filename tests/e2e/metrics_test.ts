/**
 * `/metrics` and the query log end to end: startServer() on 127.0.0.1 with a fake upstream, a
 * scripted mix over UDP and TCP (local, memo hit, forwarded, cached, NXDOMAIN, refused, timeout,
 * rate limited), then each counter compared with the count sent, the text format parsed here,
 * and the query log's lines checked field by field.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { type RunningServer, type ServerOptions, startServer } from "../../lib/server/app.ts";
import { buildLocalData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { RRType } from "../../lib/proto/types.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { queryBytes, udpAsk } from "../_udp_client.ts";
import { connectTcp, waitUntil } from "../_tcp_client.ts";

/** Parses the Prometheus text format: `name{labels}` to value (labels sorted, as written). */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not the text format: ${line}`);
    values.set(match[1]! + (match[2] ?? ""), Number(match[3]));
  }
  return values;
}

const data = buildLocalData({
  zones: [],
  hosts: [],
  mappings: mappingRecords({ "local.dnsd.test": "192.0.2.7" }),
});

async function withServer(
  extra: Partial<ServerOptions>,
  fn: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const upstream = startFakeUpstream({
    "forward.dnsd.test": { kind: "answer", address: "192.0.2.1" },
    "nx.dnsd.test": { kind: "nxdomain", zone: "dnsd.test" },
    "silent.dnsd.test": { kind: "silent" },
    "": { kind: "answer", address: "192.0.2.9" },
  });
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 400,
    localData: () => data,
    cache: { limits: { maxEntries: 100, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 } },
    metrics: { hostname: "127.0.0.1", port: 0 },
    ...extra,
  });
  try {
    await fn(server);
  } finally {
    await server.stop(0);
    await server.finished;
    await upstream.close();
  }
}

async function scrape(server: RunningServer, path = "/metrics"): Promise<Response> {
  const { hostname, port } = server.metricsAddress!;
  return await fetch(`http://${hostname}:${port}${path}`);
}

test("metrics: each counter matches a scripted mix over UDP and TCP", async () => {
  const dir = await Deno.makeTempDir();
  const logPath = `${dir}/queries.log`;
  try {
    await withServer({ queryLog: logPath }, async (server) => {
      const ask = (name: string, type: number = RRType.A, rd = true) =>
        udpAsk(server.address, queryBytes(name, type, { recursionDesired: rd }));
      // local twice (the second from the memo), forwarded then cached, NXDOMAIN, refused (RD=0), timeout
      const sameLocal = queryBytes("local.dnsd.test", RRType.A);
      await udpAsk(server.address, sameLocal);
      await udpAsk(server.address, sameLocal);
      await ask("forward.dnsd.test");
      await ask("forward.dnsd.test", RRType.A);
      await ask("nx.dnsd.test");
      await ask("other.dnsd.test", RRType.A, false);
      await ask("silent.dnsd.test", RRType.TXT);
      const tcp = await connectTcp(server.address);
      try {
        await tcp.ask(queryBytes("local.dnsd.test", RRType.AAAA));
        await tcp.ask(queryBytes("forward.dnsd.test", RRType.A));
      } finally {
        tcp.close();
      }
      const health = await scrape(server, "/health");
      equal(health.status, 200);
      equal(await health.text(), "ok\n");
      const ready = await scrape(server, "/ready");
      equal(ready.status, 200);
      await ready.body?.cancel();
      const missing = await scrape(server, "/nothing");
      equal(missing.status, 404);
      await missing.body?.cancel();
      const m = parseMetrics(await (await scrape(server)).text());
      equal(m.get('dnsd_queries_total{protocol="udp",type="A"}'), 6);
      equal(m.get('dnsd_queries_total{protocol="udp",type="TXT"}'), 1);
      equal(m.get('dnsd_queries_total{protocol="tcp",type="AAAA"}'), 1);
      equal(m.get('dnsd_queries_total{protocol="tcp",type="A"}'), 1);
      // local: 2 UDP A + 1 TCP AAAA (NODATA, NOERROR)
      equal(m.get('dnsd_responses_total{rcode="NOERROR",source="local"}'), 3);
      equal(m.get('dnsd_responses_total{rcode="NOERROR",source="upstream"}'), 1);
      equal(m.get('dnsd_responses_total{rcode="NOERROR",source="cache"}'), 2);
      equal(m.get('dnsd_responses_total{rcode="NXDOMAIN",source="upstream"}'), 1);
      equal(m.get('dnsd_responses_total{rcode="REFUSED",source="refused"}'), 1);
      equal(m.get('dnsd_responses_total{rcode="SERVFAIL",source="error"}'), 1);
      equal(m.get('dnsd_refused_total{reason="policy"}'), 1);
      equal(m.get("dnsd_rate_limited_total"), 0);
      ok(m.get("dnsd_cache_hits_total")! >= 1);
      ok(m.get("dnsd_cache_entries")! >= 2);
      const timeouts = [...m].filter(([key]) =>
        key.startsWith("dnsd_upstream_requests_total") && key.includes("timeout")
      );
      ok(timeouts.length === 1 && timeouts[0]![1] >= 1, "a timed-out try is counted");
      ok([...m.keys()].some((key) => key.startsWith("dnsd_upstream_duration_seconds_bucket")));
      ok(m.get("process_resident_memory_bytes")! > 0);

      // The query log, field by field, for each source, UDP and TCP, the memo hit included.
      await server.stop(0);
      const lines = (await Deno.readTextFile(logPath)).trim().split("\n").map((line) => JSON.parse(line));
      // The start-up probe (". NS") does not pass a listener: not logged.
      equal(lines.length, 9);
      const keys = [
        "ts",
        "client",
        "protocol",
        "name",
        "type",
        "rcode",
        "flags",
        "answers",
        "source",
        "upstream",
        "duration_ms",
      ];
      for (const line of lines) {
        deepEqual(Object.keys(line).filter((key) => key !== "ede"), keys);
        ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(line.ts));
        ok(/^127\.0\.0\.1:\d+$/.test(line.client));
        ok(line.duration_ms >= 0);
      }
      const pick = (i: number) => {
        const { name, type, rcode, flags, answers, source, upstream, protocol } = lines[i];
        return {
          name,
          type,
          rcode,
          flags,
          answers,
          source,
          upstream: upstream === null ? null : "up",
          protocol,
        };
      };
      deepEqual(pick(0), {
        name: "local.dnsd.test",
        type: "A",
        rcode: "NOERROR",
        flags: ["qr", "aa", "rd", "ra"],
        answers: 1,
        source: "local",
        upstream: null,
        protocol: "udp",
      });
      deepEqual(pick(1), { ...pick(0) }); // the memo hit says the same
      deepEqual(pick(2), {
        name: "forward.dnsd.test",
        type: "A",
        rcode: "NOERROR",
        flags: ["qr", "rd", "ra"],
        answers: 1,
        source: "upstream",
        upstream: "up",
        protocol: "udp",
      });
      equal(lines[2].upstream, `${"127.0.0.1"}:${lines[2].upstream.split(":")[1]}`);
      deepEqual(pick(3), { ...pick(2), source: "cache", upstream: null });
      equal(pick(4).rcode, "NXDOMAIN");
      equal(pick(4).source, "upstream");
      deepEqual([pick(5).rcode, pick(5).source], ["REFUSED", "refused"]);
      deepEqual([pick(6).rcode, pick(6).source, pick(6).type], ["SERVFAIL", "error", "TXT"]);
      ok(lines[6].ede && typeof lines[6].ede.code === "number", "the timeout's EDE is logged");
      deepEqual([pick(7).protocol, pick(7).type, pick(7).source, pick(7).answers], [
        "tcp",
        "AAAA",
        "local",
        0,
      ]);
      deepEqual([pick(8).protocol, pick(8).source], ["tcp", "cache"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("metrics: rate-limited answers and /ready before any upstream answered", async () => {
  await withServer({
    rateLimit: { perSecond: 1, prefix4: 24, prefix6: 56, slip: 0 },
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
  }, async (server) => {
    const ready = await scrape(server, "/ready");
    equal(ready.status, 503);
    await ready.body?.cancel();
    const bytes = queryBytes("local.dnsd.test", RRType.A);
    await udpAsk(server.address, bytes);
    for (let i = 0; i < 3; i++) await udpAsk(server.address, bytes, 150).catch(() => null);
    let m = new Map<string, number>();
    await waitUntil(() => true, "scrape");
    m = parseMetrics(await (await scrape(server)).text());
    ok(m.get("dnsd_rate_limited_total")! >= 2, `rate limited: ${m.get("dnsd_rate_limited_total")}`);
    equal(m.get('dnsd_queries_total{protocol="udp",type="A"}'), 4);
  });
});

test("metrics: authoritative only (--no-recursion), ready at once though upstreams are configured", async () => {
  await withServer({ recursion: { disabled: true, allow: [] } }, async (server) => {
    const ready = await scrape(server, "/ready");
    equal(ready.status, 200);
    equal(await ready.text(), "ready\n");
  });
});
