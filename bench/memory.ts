/**
 * dnsd's resident memory at scale, measured on a real process (`deno run main.ts`) from
 * /proc/PID/status. Not a test, and not run by CI.
 *
 * - **Cache:** dnsd with `--cache-size 1000000` forwarding to a fake upstream that answers any name
 *   (bench/_responder.ts, inside this script), filled with 1,000,000 unique names by dnsperf
 *   (`-n 1`). The fill is confirmed by counting the queries that reached the upstream, then by
 *   asking a sample of 10,000 of the names again: none may reach the upstream.
 * - **Zone:** dnsd serving a generated zone of 1,000,000 A records (`--zone FILE`): the load time
 *   from its log lines, the memory once loaded and after each of 3 passes asking every name.
 *
 * `deno task bench:memory` (or `deno task bench:memory -- --entries 100000 --records 100000`)
 *
 * dnsd runs on CPU 1; dnsperf and this script (the upstream) on CPU 0; all on 127.0.0.1. The report
 * goes to stdout and bench/results/memory.md.
 * @module
 */
import { parseArgs } from "node:util";
import { dnsperf, type Measure } from "./_dnsperf.ts";
import {
  clockTicks,
  type Memory,
  memoryOf,
  mib,
  type Run,
  runBenchmark,
  say,
  startDnsd,
  whole,
  writeQueryFile,
} from "./_harness.ts";
import { delay, type Launcher } from "./_proc.ts";
import { startResponder } from "./_responder.ts";
import { CLIENT_CPU, type Server, SERVER_CPU } from "./_servers.ts";

const RESULTS = new URL("./results/memory.md", import.meta.url);
/** How many of the cached names are asked again to confirm they are still cached. */
const SAMPLE = 10_000;
/** A bound on each dnsperf run, in seconds. */
const RUN_LIMIT_S = 900;
/** How long dnsd may take to start (a cold `deno run` compiles first; the zone is parsed first). */
const START_TIMEOUT_MS = 300_000;
/** How long memory is left to settle before a reading. */
const SETTLE_MS = 10_000;
/** How many times every name of the zone is asked. */
const ZONE_PASSES = 3;

function cachedName(n: number): string {
  return `m${n}.mem.test`;
}

function zoneName(n: number): string {
  return `host${n}.big.test`;
}

/** Sends `file` once through dnsperf; throws unless every query got NOERROR. */
async function sendOnce(processes: Launcher, server: Server, file: string): Promise<Measure> {
  const measure = await dnsperf(processes, server, {
    file,
    seconds: RUN_LIMIT_S,
    once: true,
    hz: await clockTicks(),
  });
  if (measure.lost > 0 || !/^NOERROR \d+ \(100\.00%\)$/.test(measure.rcodes)) {
    throw new Error(`dnsperf ${file}: ${measure.lost} lost, response codes ${measure.rcodes}`);
  }
  return measure;
}

interface Row {
  readonly what: string;
  readonly memory: Memory;
  /** Bytes per entry or record over the baseline, if this row has one. */
  readonly perItem?: number;
}

function table(rows: readonly Row[]): string {
  const lines = [
    "| dnsd | RSS MiB | peak RSS MiB | bytes per entry (or record) over empty |",
    "| --- | ---: | ---: | ---: |",
  ];
  for (const { what, memory, perItem } of rows) {
    const per = perItem === undefined ? "" : whole(perItem);
    lines.push(`| ${what} | ${mib(memory.rss)} | ${mib(memory.peak)} | ${per} |`);
  }
  return lines.join("\n");
}

/** Part (a): the cache with `entries` answers in it. */
async function cacheMemory(run: Run, entries: number): Promise<{ rows: Row[]; notes: string[] }> {
  const fill = `${run.work}/fill.txt`;
  const sample = `${run.work}/sample.txt`;
  const step = Math.max(1, Math.floor(entries / SAMPLE));
  say(`Writing ${whole(entries)} names...`);
  await writeQueryFile(fill, entries, cachedName);
  await writeQueryFile(sample, Math.ceil(entries / step), (n) => cachedName(n * step));
  const upstream = startResponder();
  let server: Server | undefined;
  try {
    const flags = ["--cache-size", String(entries), "--upstream", `127.0.0.1:${upstream.port}`];
    server = await startDnsd(run.launcher, [...flags, "--log-level", "warning"], {
      probe: "probe.mem.test",
      timeoutMs: START_TIMEOUT_MS,
    });
    await delay(SETTLE_MS);
    const empty = memoryOf(server.child.pid);
    say(`Empty: RSS ${mib(empty.rss)} MiB. Filling with ${whole(entries)} names...`);
    run.stopping.throwIfAborted();
    const before = upstream.queries();
    const started = performance.now();
    const measure = await sendOnce(run.launcher, server, fill);
    const fillS = (performance.now() - started) / 1000;
    const fetched = upstream.queries() - before;
    const filled = memoryOf(server.child.pid);
    if (fetched !== entries) {
      throw new Error(`${whole(fetched)} queries reached the upstream, not ${entries}`);
    }
    say(`Filled in ${fillS.toFixed(1)} s: RSS ${mib(filled.rss)} MiB. Asking a sample again...`);
    run.stopping.throwIfAborted();
    const again = upstream.queries();
    await sendOnce(run.launcher, server, sample);
    const missed = upstream.queries() - again;
    if (missed !== 0) throw new Error(`${missed} of the sample reached the upstream: not cached`);
    await delay(SETTLE_MS);
    const settled = memoryOf(server.child.pid);
    const per = (memory: Memory) => (memory.rss - empty.rss) / entries;
    return {
      rows: [
        { what: "empty cache (one entry, the start-up probe)", memory: empty },
        {
          what: `${whole(entries)} cached entries, right after the fill`,
          memory: filled,
          perItem: per(filled),
        },
        {
          what: `${whole(entries)} cached entries, after the sample, ${SETTLE_MS / 1000} s later`,
          memory: settled,
          perItem: per(settled),
        },
      ],
      notes: [
        `Fill: ${whole(entries)} unique names through \`dnsperf -n 1\` in ${fillS.toFixed(1)} s ` +
        `(${whole(measure.qps)} QPS); ${whole(fetched)} queries reached the upstream, one per name. ` +
        `Then ${whole(Math.ceil(entries / step))} of the names (1 in ${whole(step)}, the oldest ` +
        `included) asked again: all NOERROR, ${missed} reached the upstream, so all were still cached.`,
      ],
    };
  } finally {
    await server?.child.stop();
    upstream.close();
  }
}

/** Writes a zone of `records` A records (and SOA, NS), as bench/zone_bench.ts generates it. */
async function writeZone(path: string, records: number): Promise<void> {
  const head = "$ORIGIN big.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n";
  await Deno.writeTextFile(path, head);
  using file = await Deno.open(path, { append: true });
  const encoder = new TextEncoder();
  for (let from = 0; from < records; from += 100_000) {
    let text = "";
    for (let i = from; i < Math.min(records, from + 100_000); i++) {
      text += `host${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
    }
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  }
}

/** The time of the first log line containing `text`, in ms (`2024-09-18 13:58:35,001 - INFO - ...`). */
function loggedAt(log: string, text: string): number {
  const line = log.split("\n").find((line) => line.includes(text));
  const match = line && /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) /.exec(line);
  if (!match) throw new Error(`No log line with "${text}" in dnsd's output:\n${log}`);
  return new Date(`${match[1]}T${match[2]}.${match[3]}`).getTime();
}

/** Part (b): a zone of `records` records. */
async function zoneMemory(
  run: Run,
  records: number,
  empty: Memory,
): Promise<{ rows: Row[]; notes: string[] }> {
  const zone = `${run.work}/big.test.zone`;
  const queries = `${run.work}/zone.txt`;
  say(`Writing a zone of ${whole(records)} records...`);
  await writeZone(zone, records);
  await writeQueryFile(queries, records, zoneName);
  const upstream = startResponder(); // unused: every name asked is in the zone
  let server: Server | undefined;
  try {
    const started = performance.now();
    server = await startDnsd(
      run.launcher,
      ["--zone", zone, "--upstream", `127.0.0.1:${upstream.port}`, "--log-level", "info"],
      { probe: zoneName(records - 1), timeoutMs: START_TIMEOUT_MS },
    );
    const readyS = (performance.now() - started) / 1000;
    const log = server.child.tail();
    const loadS = (loggedAt(log, "Loaded local data") - loggedAt(log, "DNS server is starting")) / 1000;
    await delay(SETTLE_MS);
    const loaded = memoryOf(server.child.pid);
    say(`Loaded in ${loadS.toFixed(1)} s: RSS ${mib(loaded.rss)} MiB.`);
    const per = (memory: Memory) => (memory.rss - empty.rss) / records;
    const rows: Row[] = [
      { what: `zone of ${whole(records)} records, loaded`, memory: loaded, perItem: per(loaded) },
    ];
    // More than one pass: whether answering grows the memory for good or only until garbage collection.
    const rates: string[] = [];
    for (let pass = 1; pass <= ZONE_PASSES; pass++) {
      run.stopping.throwIfAborted();
      say(`Asking every name of the zone, pass ${pass} of ${ZONE_PASSES}...`);
      rates.push(whole((await sendOnce(run.launcher, server, queries)).qps));
      await delay(SETTLE_MS);
      const served = memoryOf(server.child.pid);
      const times = ["once", "twice"][pass - 1] ?? `${pass} times`;
      rows.push({
        what: `zone of ${whole(records)} records, after answering each name ${times}`,
        memory: served,
        perItem: per(served),
      });
    }
    if (upstream.queries() !== 0) throw new Error(`${upstream.queries()} zone queries reached the upstream`);
    return {
      rows,
      notes: [
        `Zone load: ${loadS.toFixed(1)} s from "DNS server is starting..." to "Loaded local data" in ` +
        `dnsd's log (${readyS.toFixed(1)} s from spawning \`deno run\` to the first answer for the ` +
        `last name). Then every name, ${ZONE_PASSES} passes of \`dnsperf -n 1\`: ${rates.join(", ")} QPS, ` +
        "all NOERROR, none forwarded.",
      ],
    };
  } finally {
    await server?.child.stop();
    upstream.close();
  }
}

function parseFlags(args: string[]): { entries: number; records: number } {
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args, // `deno task bench:memory -- --entries 10` passes "--"
    options: {
      entries: { type: "string", default: "1000000" },
      records: { type: "string", default: "1000000" },
    },
  });
  const count = (text: string, flag: string) => {
    if (!/^[0-9]+$/.test(text) || Number(text) < 1) {
      throw new Error(`${flag}: "${text}" is not a whole number`);
    }
    return Number(text);
  };
  return { entries: count(values.entries, "--entries"), records: count(values.records, "--records") };
}

if (import.meta.main) {
  const { entries, records } = parseFlags(Deno.args);
  await runBenchmark(RESULTS, async (run) => {
    const cache = await cacheMemory(run, entries);
    run.stopping.throwIfAborted();
    const zone = await zoneMemory(run, records, cache.rows[0]!.memory);
    const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
    return [
      "# dnsd memory",
      "",
      `${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, Deno ${Deno.version.deno}, load average ${load}.`,
      "",
      table([...cache.rows, ...zone.rows]),
      "",
      "RSS is VmRSS of the dnsd process (`deno run --allow-net --allow-read --allow-ffi main.ts`, so batched UDP where it can be), peak RSS its VmHWM,",
      `both from /proc/PID/status, read ${SETTLE_MS / 1000} s after start-up and after each step unless`,
      "the row says otherwise. Bytes per entry (or per record) are over the empty-cache row.",
      "",
      ...[...cache.notes, ...zone.notes].map((note) => `- ${note}`),
      "",
      `dnsd pinned to CPU ${SERVER_CPU}; dnsperf (\`-c 4 -T 1\`) and this script, which is also the fake ` +
      `upstream (one A record, TTL 86400, for any name), to CPU ${CLIENT_CPU}; all on 127.0.0.1. ` +
      "`deno task bench:memory`.",
      "",
    ].join("\n");
  });
}
