/**
 * What the observers read from real packet bytes: the question's name and type, the response's
 * flags, answer count and Extended DNS Error, table-driven; and the Prometheus metrics and the
 * query log's line from one observation each.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { hex } from "../_hex.ts";
import {
  answerCount,
  extendedError,
  Metrics,
  parseHttpAddress,
  processFigures,
  queryLogEntry,
  queryLogLine,
  questionName,
  questionType,
  responseFlags,
  route,
  Source,
  UpstreamResult,
} from "../../lib/observe/mod.ts";

/** Example.COM A, RD=1, no EDNS. */
const QUERY_A = hex`1234 0100 0001 0000 0000 0000  07 4578616d706c65 03 434f4d 00  0001 0001`;
/** The root, NS. */
const QUERY_ROOT_NS = hex`0001 0000 0001 0000 0000 0000  00  0002 0001`;
/** A name with a dot and a space inside a label (a\.b c.test), type 64 (SVCB). */
const QUERY_ODD = hex`0002 0100 0001 0000 0000 0000  05 612e622063 04 74657374 00  0040 0001`;
/** QDCOUNT 0. */
const QUERY_NONE = hex`0003 0100 0000 0000 0000 0000`;
/** A compression pointer where the question's name should be. */
const QUERY_POINTER = hex`0004 0100 0001 0000 0000 0000  c00c 0001 0001`;
/** The answer to QUERY_A: QR AA RD RA, one A record (by pointer), NOERROR. */
const ANSWER_A = hex`1234 8580 0001 0001 0000 0000  07 4578616d706c65 03 434f4d 00  0001 0001
  c00c 0001 0001 0000003c 0004 c0000201`;
/** REFUSED with an OPT holding EDE 18 (Prohibited) and the text "ok": QR RD, AD CD set. */
const REFUSED_EDE = hex`0005 8135 0001 0000 0000 0001  04 74657374 00  0001 0001
  00 0029 04d0 00000000 0008  000f 0004 0012 6f6b`;

test("observation: the question and the response as the observers read them", () => {
  const cases: readonly {
    name: string;
    bytes: Uint8Array;
    qname: string | null;
    qtype: number;
    flags: string[];
    answers: number;
    ede: { code: number; text: string } | null;
  }[] = [
    { name: "a query", bytes: QUERY_A, qname: "example.com", qtype: 1, flags: ["rd"], answers: 0, ede: null },
    { name: "the root", bytes: QUERY_ROOT_NS, qname: ".", qtype: 2, flags: [], answers: 0, ede: null },
    {
      name: "escaped",
      bytes: QUERY_ODD,
      qname: "a\\.b\\032c.test",
      qtype: 64,
      flags: ["rd"],
      answers: 0,
      ede: null,
    },
    { name: "no question", bytes: QUERY_NONE, qname: null, qtype: -1, flags: ["rd"], answers: 0, ede: null },
    { name: "a pointer", bytes: QUERY_POINTER, qname: null, qtype: -1, flags: ["rd"], answers: 0, ede: null },
    {
      name: "an answer",
      bytes: ANSWER_A,
      qname: "example.com",
      qtype: 1,
      flags: ["qr", "aa", "rd", "ra"],
      answers: 1,
      ede: null,
    },
    {
      name: "REFUSED with EDE",
      bytes: REFUSED_EDE,
      qname: "test",
      qtype: 1,
      flags: ["qr", "rd", "ad", "cd"],
      answers: 0,
      ede: { code: 18, text: "ok" },
    },
    { name: "too short", bytes: hex`0000 81`, qname: null, qtype: -1, flags: [], answers: 0, ede: null },
  ];
  for (const c of cases) {
    equal(questionName(c.bytes), c.qname, c.name);
    equal(questionType(c.bytes), c.qtype, c.name);
    deepEqual(responseFlags(c.bytes), c.flags, c.name);
    equal(answerCount(c.bytes), c.answers, c.name);
    deepEqual(extendedError(c.bytes), c.ede, c.name);
  }
});

/** Parses the Prometheus text format into `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not the text format: ${line}`);
    values.set(match[1]! + (match[2] ?? ""), Number(match[3]));
  }
  return values;
}

const CLIENT: Deno.NetAddr = { transport: "udp", hostname: "192.0.2.10", port: 40000 };

test("metrics: counters by protocol, type, rcode and source; types outside the set are OTHER", () => {
  const metrics = new Metrics();
  metrics.observe(QUERY_A, ANSWER_A, CLIENT, "udp", 0, Source.LOCAL, null, false);
  metrics.observe(QUERY_A, ANSWER_A, CLIENT, "udp", 0, Source.CACHE, null, true);
  metrics.observe(QUERY_ODD, REFUSED_EDE, CLIENT, "tcp", 0, Source.REFUSED, null, false);
  metrics.observe(
    hex`0006 0100 0001 0000 0000 0000 00 fff0 0001`,
    null,
    CLIENT,
    "udp",
    0,
    Source.ADMISSION,
    null,
    false,
  );
  const up = metrics.upstreamIndex("192.0.2.1:53");
  equal(metrics.upstreamIndex("192.0.2.1:53"), up);
  equal(metrics.upstreamAnswered, false);
  metrics.upstreamTry(up, UpstreamResult.OK, 0.003);
  metrics.upstreamTry(up, UpstreamResult.OK, 7);
  metrics.upstreamTry(up, UpstreamResult.TIMEOUT, 0);
  equal(metrics.upstreamAnswered, true);
  metrics.dnssecResult("secure");
  metrics.dnssecResult("secure");
  metrics.dnssecResult("bogus");
  metrics.dnssecResult("no such result");
  const text = metrics.render({
    version: "1.2.3",
    cache: () => ({ hits: 4, misses: 5, entries: 6 }),
    process: () => ({ rssBytes: 1000, heapBytes: 500, cpuSeconds: 1.5 }),
  });
  const m = parse(text);
  deepEqual(Object.fromEntries(m), {
    'dnsd_queries_total{protocol="udp",type="A"}': 2,
    'dnsd_queries_total{protocol="udp",type="OTHER"}': 1,
    'dnsd_queries_total{protocol="tcp",type="SVCB"}': 1,
    'dnsd_responses_total{rcode="NOERROR",source="local"}': 1,
    'dnsd_responses_total{rcode="NOERROR",source="cache"}': 1,
    'dnsd_responses_total{rcode="REFUSED",source="refused"}': 1,
    dnsd_cache_hits_total: 4,
    dnsd_cache_misses_total: 5,
    dnsd_cache_entries: 6,
    'dnsd_upstream_requests_total{upstream="192.0.2.1:53",result="ok"}': 2,
    'dnsd_upstream_requests_total{upstream="192.0.2.1:53",result="timeout"}': 1,
    'dnsd_upstream_requests_total{upstream="192.0.2.1:53",result="error"}': 0,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.001"}': 0,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.0025"}': 0,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.005"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.01"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.025"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.05"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.1"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.25"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="0.5"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="1"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="2.5"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="5"}': 1,
    'dnsd_upstream_duration_seconds_bucket{upstream="192.0.2.1:53",le="+Inf"}': 2,
    'dnsd_upstream_duration_seconds_sum{upstream="192.0.2.1:53"}': 7.003,
    'dnsd_upstream_duration_seconds_count{upstream="192.0.2.1:53"}': 2,
    dnsd_rate_limited_total: 1,
    'dnsd_refused_total{reason="policy"}': 1,
    'dnsd_refused_total{reason="acl"}': 1,
    'dnsd_dnssec_total{result="secure"}': 2,
    'dnsd_dnssec_total{result="insecure"}': 0,
    'dnsd_dnssec_total{result="bogus"}': 1,
    'dnsd_dnssec_total{result="indeterminate"}': 0,
    'dnsd_build_info{version="1.2.3"}': 1,
    process_resident_memory_bytes: 1000,
    process_heap_bytes: 500,
    process_cpu_seconds_total: 1.5,
  });
  // Every sample has its family's HELP and TYPE lines.
  for (
    const name of new Set(
      [...m.keys()].map((key) => key.replace(/\{.*$/, "").replace(/_(bucket|sum|count)$/, "")),
    )
  ) {
    ok(text.includes(`# TYPE ${name} `), name);
  }
});

test("metrics: the process's CPU time counts, with the permissions dnsd runs with (no --allow-all)", () => {
  const before = processFigures().cpuSeconds;
  // About 50 ms of CPU: more than the clock's grain, so the figure must move.
  const until = performance.now() + 50;
  let spins = 0;
  while (performance.now() < until) spins++;
  const after = processFigures();
  ok(spins > 0);
  ok(after.cpuSeconds >= before + 0.03, `CPU seconds ${before} then ${after.cpuSeconds}`);
  ok(after.rssBytes > 0 && after.heapBytes > 0);
});

test("query log: one entry's fields from the bytes, the source and the clocks", () => {
  const arrived = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  deepEqual(queryLogEntry(QUERY_A, ANSWER_A, CLIENT, "udp", Source.CACHE, null, arrived, 0.0123), {
    ts: "2026-01-02T03:04:05.678Z",
    client: "192.0.2.10:40000",
    protocol: "udp",
    name: "example.com",
    type: "A",
    rcode: "NOERROR",
    flags: ["qr", "aa", "rd", "ra"],
    answers: 1,
    source: "cache",
    upstream: null,
    duration_ms: 0.012,
  });
  const v6: Deno.NetAddr = { transport: "tcp", hostname: "2001:db8::1", port: 53 };
  deepEqual(queryLogEntry(QUERY_ODD, REFUSED_EDE, v6, "tcp", Source.ADMISSION, null, arrived, 2), {
    ts: "2026-01-02T03:04:05.678Z",
    client: "[2001:db8::1]:53",
    protocol: "tcp",
    name: "a\\.b\\032c.test",
    type: "SVCB",
    rcode: "REFUSED",
    flags: ["qr", "rd", "ad", "cd"],
    answers: 0,
    source: "refused",
    upstream: null,
    duration_ms: 2,
    ede: { code: 18, text: "ok" },
  });
  const dropped = queryLogEntry(QUERY_A, null, CLIENT, "udp", Source.ADMISSION, null, arrived, 0);
  deepEqual([dropped.rcode, dropped.flags, dropped.answers], [null, [], 0]);
});

test("query log: the line made by concatenation is the entry's JSON, for every kind of input", () => {
  const arrived = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const v6: Deno.NetAddr = { transport: "tcp", hostname: "2001:db8::1", port: 53 };
  const cases: readonly [
    Uint8Array,
    Uint8Array | null,
    Deno.NetAddr,
    string,
    number,
    string | null,
    number,
  ][] = [
    [QUERY_A, ANSWER_A, CLIENT, "udp", Source.LOCAL, null, 0.0123],
    [QUERY_A, ANSWER_A, CLIENT, "udp", Source.UPSTREAM, "192.0.2.1:53", 12.5],
    [QUERY_ODD, REFUSED_EDE, v6, "tcp", Source.ADMISSION, null, 2],
    [QUERY_NONE, null, CLIENT, "udp", Source.ERROR, null, 0],
    [QUERY_POINTER, REFUSED_EDE, CLIENT, "udp", Source.REFUSED, "[2001:db8::53]:53", 1 / 3],
  ];
  for (const [query, response, client, transport, source, upstream, ms] of cases) {
    const entry = queryLogEntry(query, response, client, transport, source, upstream, arrived, ms);
    const line = queryLogLine(query, response, client, transport, source, upstream, entry.ts, ms);
    equal(line, JSON.stringify(entry));
  }
});

test("http: --metrics addresses, and routes by method and path", async () => {
  const cases: readonly [string, { hostname: string; port: number } | null][] = [
    ["9153", { hostname: "127.0.0.1", port: 9153 }],
    ["0.0.0.0:9153", { hostname: "0.0.0.0", port: 9153 }],
    ["localhost:0", { hostname: "localhost", port: 0 }],
    ["[::1]:9153", { hostname: "::1", port: 9153 }],
    ["192.0.2.53", null],
    ["::1:9153", null],
    [":9153", null],
    ["host:70000", null],
    ["host:", null],
    ["", null],
  ];
  for (const [text, want] of cases) deepEqual(parseHttpAddress(text), want, text);
  const routes = { "GET /health": () => new Response("ok\n") };
  const loopback: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  const at = (method: string, path: string) =>
    route(routes, new Request(`http://x${path}`, { method }), loopback);
  equal(await (await at("GET", "/health?x=1")).text(), "ok\n");
  equal((await at("POST", "/health")).status, 405);
  equal((await at("GET", "/nope")).status, 404);
});
