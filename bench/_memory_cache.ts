/**
 * The cache part of bench/memory.ts: the same fill of unique names through the wire (`dnsperf -n 1`)
 * into dnsd and into unbound, each forwarding every name to a fake upstream of its own that answers
 * any name (bench/_responder.ts, inside the benchmark script), each with a cache big enough to hold
 * every answer. The fill is confirmed the same way for both: the queries that reached the upstream
 * are counted, then a sample of the names is asked again and none may reach it.
 * @module
 */
import { type Memory, memoryOf, mib, say, startDnsd, whole, writeQueryFile } from "./_harness.ts";
import {
  measureEach,
  type Part,
  type PartSetting,
  partTable,
  type Row,
  sendOnce,
  SETTLE_MS,
  START_TIMEOUT_MS,
} from "./_memory_common.ts";
import { delay, freePort, waitUntilAnswers } from "./_proc.ts";
import { startResponder } from "./_responder.ts";
import { installed, type Server, startOnPort, UNBOUND, unboundCommand } from "./_servers.ts";

/** How many of the cached names are asked again to confirm they are still cached. */
const SAMPLE = 10_000;
/** Asked once at start-up, so it is one more cached answer, the same for both. */
const PROBE = "probe.mem.test";
/** unbound's message and RRset caches: far more than 1,000,000 answers need, so none is evicted. */
const UNBOUND_CACHE = { msg: "1g", rrset: "1g" } as const;

function cachedName(n: number): string {
  return `m${n}.mem.test`;
}

/** A server whose cache is filled. */
interface Cacher {
  readonly name: string;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  /** Starts it forwarding everything to 127.0.0.1:`upstream`, with room for `entries` answers. */
  start(setting: PartSetting, upstream: number): Promise<Server>;
}

const dnsd: Cacher = {
  name: "dnsd",
  missing: () => null,
  start: ({ run, entries }, upstream) =>
    startDnsd(
      run.launcher,
      ["--cache-size", String(entries), "--upstream", `127.0.0.1:${upstream}`, "--log-level", "warning"],
      { probe: PROBE, timeoutMs: START_TIMEOUT_MS },
    ),
};

const unbound: Cacher = {
  name: "unbound",
  missing: () => installed(UNBOUND) ? null : `${UNBOUND} is not installed`,
  async start({ run }, upstream) {
    const work = await Deno.makeTempDir({ dir: run.work, prefix: "unbound-cache-" });
    // serve-expired is off by default; said here so that nothing is answered past its TTL either way.
    const setting = {
      work,
      local: {},
      upstream,
      cache: UNBOUND_CACHE,
      serverLines: "    serve-expired: no\n",
    };
    return await startOnPort(run.launcher, "unbound", (port) => unboundCommand(setting, port), {
      port: freePort,
      ready: (child, port) => waitUntilAnswers(child, port, PROBE, START_TIMEOUT_MS),
    });
  },
};

/** What one server's fill measured. */
interface Filled {
  readonly empty: Memory;
  readonly filled: Memory;
  readonly settled: Memory;
  readonly fillS: number;
  readonly qps: number;
  /** Queries that reached the upstream during the fill. */
  readonly fetched: number;
}

/** The query files: every name, and the sample asked again. */
interface Files {
  readonly fill: string;
  readonly sample: string;
}

async function fill(setting: PartSetting, cacher: Cacher, files: Files): Promise<Filled> {
  const { run, entries } = setting;
  const upstream = startResponder();
  let server: Server | undefined;
  try {
    server = await cacher.start(setting, upstream.port);
    await delay(SETTLE_MS);
    const empty = memoryOf(server.child.pid);
    say(`${cacher.name} empty: RSS ${mib(empty.rss)} MiB. Filling with ${whole(entries)} names...`);
    run.stopping.throwIfAborted();
    const before = upstream.queries();
    const started = performance.now();
    const measure = await sendOnce(run.launcher, server, files.fill);
    const fillS = (performance.now() - started) / 1000;
    const fetched = upstream.queries() - before;
    const filled = memoryOf(server.child.pid);
    // Fewer would mean some names were answered without their answer being fetched, so not cached.
    if (fetched < entries) throw new Error(`${whole(fetched)} queries reached the upstream, not ${entries}`);
    say(`${cacher.name} filled in ${fillS.toFixed(1)} s: RSS ${mib(filled.rss)} MiB. Asking a sample...`);
    run.stopping.throwIfAborted();
    const again = upstream.queries();
    await sendOnce(run.launcher, server, files.sample);
    const missed = upstream.queries() - again;
    if (missed !== 0) throw new Error(`${missed} of the sample reached the upstream: not cached`);
    await delay(SETTLE_MS);
    const settled = memoryOf(server.child.pid);
    return { empty, filled, settled, fillS, qps: measure.qps, fetched };
  } finally {
    await server?.child.stop();
    upstream.close();
  }
}

/** The cache part: dnsd and unbound filled alike. */
export async function cachePart(setting: PartSetting): Promise<Part> {
  const { run, entries } = setting;
  const files = { fill: `${run.work}/fill.txt`, sample: `${run.work}/sample.txt` };
  const step = Math.max(1, Math.floor(entries / SAMPLE));
  const sampled = Math.ceil(entries / step);
  say(`Writing ${whole(entries)} names...`);
  await writeQueryFile(files.fill, entries, cachedName);
  await writeQueryFile(files.sample, sampled, (n) => cachedName(n * step));
  const cachers = [dnsd, unbound];
  const notes: string[] = [];
  const results = await measureEach(cachers, run.stopping, notes, async (cacher) => {
    const filled = await fill(setting, cacher, files);
    const perName = filled.fetched === entries ? "one per name" : "more than one for some names";
    notes.push(
      `${cacher.name}: ${whole(entries)} unique names through \`dnsperf -n 1\` in ${
        filled.fillS.toFixed(1)
      } s; ` +
        `${whole(filled.fetched)} queries reached the upstream (${perName}). Then ${whole(sampled)} of the ` +
        `names (1 in ${whole(step)}, the oldest included) asked again: all NOERROR, none reached the ` +
        "upstream, so all were still cached.",
    );
    return filled;
  });
  const each = (pick: (filled: Filled) => number) => results.map((filled) => filled && pick(filled));
  const rows: Row[] = [
    { what: "RSS before the fill, MiB", values: each((f) => f.empty.rss), show: mib },
    { what: "RSS right after the fill, MiB", values: each((f) => f.filled.rss), show: mib },
    { what: "peak RSS right after the fill, MiB", values: each((f) => f.filled.peak), show: mib },
    {
      what: `RSS after the sample, ${SETTLE_MS / 1000} s later, MiB`,
      values: each((f) => f.settled.rss),
      show: mib,
    },
    {
      what: `peak RSS after the sample, ${SETTLE_MS / 1000} s later, MiB`,
      values: each((f) => f.settled.peak),
      show: mib,
    },
    {
      what: "bytes per entry over before the fill, after the sample",
      values: each((f) => (f.settled.rss - f.empty.rss) / entries),
      show: whole,
    },
    { what: "fill, queries per second", values: each((f) => f.qps), show: whole },
  ];
  return {
    title: `Cache: ${whole(entries)} entries`,
    table: partTable(`${whole(entries)} cached entries`, cachers.map((c) => c.name), rows),
    notes: [
      `dnsd: \`--cache-size ${entries}\`. unbound: one thread, \`msg-cache-size: ${UNBOUND_CACHE.msg}\`, ` +
      `\`rrset-cache-size: ${UNBOUND_CACHE.rrset}\`, no prefetch, no serve-expired, forward-zone "." to the ` +
      "fake upstream. Each has an upstream of its own that answers every name with one A record (TTL 86400).",
      `"Before the fill" is ${SETTLE_MS / 1000} s after the server first answered (one entry cached, the ` +
      "start-up probe).",
      ...notes,
    ],
  };
}
