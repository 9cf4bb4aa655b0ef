/**
 * contrib/grafana/dnsd.json names only metrics dnsd exports: every metric in every panel's query
 * is one that {@link Metrics.render} writes, and the panels the issue lists are there.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, ok } from "node:assert/strict";
import { Metrics, Source, UpstreamResult } from "../../lib/observe/mod.ts";
import { hex } from "../_hex.ts";

interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

test("grafana: the dashboard queries only metrics dnsd exports, in the panels the issue lists", async () => {
  const dashboard = JSON.parse(
    await Deno.readTextFile(new URL("../../contrib/grafana/dnsd.json", import.meta.url)),
  ) as { panels: Panel[] };
  // Everything dnsd can export: one observation and one upstream try make every family appear.
  const metrics = new Metrics();
  const query = hex`0001 0100 0001 0000 0000 0000 01 61 00 0001 0001`;
  metrics.observe(
    query,
    query,
    { transport: "udp", hostname: "127.0.0.1", port: 1 },
    "udp",
    0,
    Source.LOCAL,
    null,
    true,
  );
  metrics.upstreamTry(metrics.upstreamIndex("192.0.2.1:53"), UpstreamResult.OK, 0.01);
  const exported = new Set(
    metrics.render({ cache: () => ({ hits: 1, misses: 1, entries: 1 }) }).split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => line.replace(/[{ ].*$/, "")),
  );
  const used = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      // Metric names: identifiers not followed by "(" (functions) and not label names or keywords.
      for (const match of target.expr.matchAll(/\b(dnsd_[a-z_]+|process_[a-z_]+)\b/g)) used.add(match[1]!);
    }
  }
  ok(used.size > 0);
  deepEqual(
    [...used].filter((name) => !exported.has(name)),
    [],
    "names the dashboard uses but dnsd does not export",
  );
  const titles = dashboard.panels.map((panel) => panel.title);
  for (
    const title of [
      "Queries by type",
      "Responses by rcode",
      "Responses by source",
      "Cache hit ratio",
      "Upstream latency quantiles",
      "Refused and rate limited",
    ]
  ) ok(titles.includes(title), title);
});
