/**
 * A bounded soak: dnsd with a full cache keeps a flat resident memory. dnsd (`--cache-size 100000`
 * by default) forwards to a fake upstream that answers any name (bench/_responder.ts, inside this
 * script); dnsperf sends unique names at a fixed, modest rate for `--minutes`; dnsd's VmRSS is read
 * every 10 s. The cache is full once as many queries as its size have reached the upstream (every
 * name is new, so each one does); from then on every new answer evicts the least recently used.
 * Passes when the peak RSS in the second half of the readings after the fill is within `--bound`
 * percent of the peak in the first half (garbage collection makes RSS a sawtooth; a leak raises it).
 * Not a test, and not run by CI.
 *
 * `deno task bench:soak` (or `deno task bench:soak -- --minutes 2 --rate 5000`; `--workers N` is
 * passed to dnsd, each worker with a cache of its own)
 *
 * dnsd runs on CPU 1; dnsperf and this script (the upstream) on CPU 0; all on 127.0.0.1. The report
 * goes to stdout and bench/results/soak.md.
 * @module
 */
import { parseArgs } from "node:util";
import { dnsperf, type Measure } from "./_dnsperf.ts";
import {
  clockTicks,
  memoryOf,
  mib,
  type Run,
  runBenchmark,
  say,
  startDnsd,
  whole,
  writeQueryFile,
} from "./_harness.ts";
import { delay } from "./_proc.ts";
import { type Responder, startResponder } from "./_responder.ts";
import { CLIENT_CPU, type Server, SERVER_CPU } from "./_servers.ts";

const RESULTS = new URL("./results/soak.md", import.meta.url);
const SAMPLE_EVERY_MS = 10_000;
/** How often the upstream count is read, to time the fill. */
const POLL_MS = 250;
const START_TIMEOUT_MS = 120_000;
/** How long past the dnsperf time limit the run may last before it is called stuck. */
const GRACE_MS = 60_000;

interface Flags {
  readonly minutes: number;
  readonly rate: number;
  readonly cacheSize: number;
  /** dnsd's `--workers`. */
  readonly workers: number;
  /** The most RSS may grow after the fill, in percent. */
  readonly bound: number;
}

interface Sample {
  /** Seconds since dnsperf started. */
  readonly t: number;
  /** Queries that reached the upstream since dnsperf started. */
  readonly fetched: number;
  readonly rss: number;
}

function soakName(n: number): string {
  return `s${n}.soak.test`;
}

/** The least-squares slope of RSS over time, in bytes per minute. */
function slope(samples: readonly Sample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mt = samples.reduce((sum, s) => sum + s.t, 0) / n;
  const mr = samples.reduce((sum, s) => sum + s.rss, 0) / n;
  const num = samples.reduce((sum, s) => sum + (s.t - mt) * (s.rss - mr), 0);
  const den = samples.reduce((sum, s) => sum + (s.t - mt) ** 2, 0);
  return den > 0 ? (num / den) * 60 : 0;
}

/** Runs dnsperf for the soak, reading RSS every 10 s and the upstream count every 250 ms. */
async function soak(run: Run, server: Server, upstream: Responder, flags: Flags, file: string) {
  const samples: Sample[] = [];
  const base = upstream.queries();
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const sample = () => {
    samples.push({ t: elapsed(), fetched: upstream.queries() - base, rss: memoryOf(server.child.pid).rss });
    const last = samples.at(-1)!;
    say(`  ${last.t.toFixed(0)} s: ${whole(last.fetched)} fetched, RSS ${mib(last.rss)} MiB`);
  };
  let done = false;
  const perf = dnsperf(run.launcher, server, {
    file,
    seconds: flags.minutes * 60,
    rate: flags.rate,
    hz: await clockTicks(),
  }).finally(() => (done = true));
  perf.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
  sample();
  let fillS: number | undefined;
  let next = SAMPLE_EVERY_MS;
  const deadline = flags.minutes * 60_000 + GRACE_MS;
  while (!done) {
    run.stopping.throwIfAborted();
    if (performance.now() - started > deadline) throw new Error(`dnsperf still running after ${deadline} ms`);
    await delay(POLL_MS);
    if (fillS === undefined && upstream.queries() - base >= flags.cacheSize) fillS = elapsed();
    if (!done && performance.now() - started >= next) {
      sample();
      next += SAMPLE_EVERY_MS;
    }
  }
  const measure: Measure = await perf;
  sample();
  return { samples, fillS, measure };
}

function signed(percent: number): string {
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}

function peak(samples: readonly Sample[]): Sample {
  return samples.reduce((a, b) => (b.rss > a.rss ? b : a));
}

/**
 * The verdict. Garbage collection makes RSS a sawtooth, so two single readings differ by where
 * each falls on a tooth: the verdict compares the peaks of the first and second halves of the
 * readings after the fill, which a leak would raise. The readings the issue names are given too.
 */
function judge(flags: Flags, samples: readonly Sample[], fillS: number | undefined): string {
  const after = fillS === undefined ? [] : samples.filter((s) => s.t >= fillS);
  if (after.length < 4) {
    return `**FAIL**: the cache did not fill with ${whole(flags.cacheSize)} entries, or too few ` +
      "readings were taken after it did.";
  }
  const halves = [after.slice(0, after.length >> 1), after.slice(after.length >> 1)] as const;
  const [early, late] = halves.map(peak) as [Sample, Sample];
  const growth = (late.rss - early.rss) / early.rss * 100;
  const floors = halves.map((half) => mib(Math.min(...half.map((s) => s.rss))));
  const first = after[0]!;
  const last = after.at(-1)!;
  const max = peak(after);
  const pct = (s: Sample) => signed((s.rss - first.rss) / first.rss * 100);
  return [
    `**${growth < flags.bound ? "PASS" : "FAIL"}**: the cache was full (${whole(flags.cacheSize)} entries) ` +
    `after ${fillS!.toFixed(1)} s. Peak RSS in the second half of the run after the fill ` +
    `(${late.t.toFixed(0)} s: ${mib(late.rss)} MiB) against the first half (${early.t.toFixed(0)} s: ` +
    `${mib(early.rss)} MiB): ${signed(growth)}; the bound is +${flags.bound}%. Lowest reading in each ` +
    `half: ${floors.join(" and ")} MiB. Least-squares trend after the fill: ` +
    `${(slope(after) / 2 ** 20).toFixed(2)} MiB/min; over the second half: ` +
    `${(slope(halves[1]) / 2 ** 20).toFixed(2)} MiB/min.`,
    "",
    `The first reading after the fill against the last, and the highest: ${mib(first.rss)} MiB at ` +
    `${first.t.toFixed(0)} s, ${mib(last.rss)} MiB at ${last.t.toFixed(0)} s (${pct(last)}), at most ` +
    `${mib(max.rss)} MiB at ${max.t.toFixed(0)} s (${pct(max)}). These depend on where each reading falls ` +
    "in a garbage-collection cycle, and the first comes before the heap has grown to its working size, " +
    "so they are not the verdict.",
  ].join("\n");
}

function report(flags: Flags, result: Awaited<ReturnType<typeof soak>>, idle: number): string {
  const { samples, fillS, measure } = result;
  const rows = samples.map((s) => {
    const full = fillS !== undefined && s.t >= fillS;
    const entries = Math.min(s.fetched + 1, flags.cacheSize); // + 1: the start-up probe
    return `| ${s.t.toFixed(0)} | ${whole(s.fetched)} | ${whole(entries)}${full ? " (full)" : ""} | ` +
      `${mib(s.rss)} |`;
  });
  const lines = [
    "# dnsd soak",
    "",
    `${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, Deno ${Deno.version.deno}: ` +
    `${flags.minutes} minute${flags.minutes === 1 ? "" : "s"} of unique names at ${
      whole(flags.rate)
    } QPS, \`--cache-size ` +
    `${flags.cacheSize}\`.`,
    "",
  ];
  const verdict = judge(flags, samples, fillS);
  lines.push(verdict, "");
  lines.push(
    `dnsperf: ${whole(measure.sent)} sent, ${whole(measure.completed)} completed, ${whole(measure.lost)} ` +
      `lost, ${whole(measure.qps)} QPS, ${measure.latencyMs.toFixed(3)} ms average latency; response codes ` +
      `${measure.rcodes}; dnsd CPU ${measure.cpuUsPerAnswer.toFixed(1)} µs per answer. RSS before the ` +
      `soak (cache empty): ${mib(idle)} MiB.`,
    "",
    "| t (s) | fetched upstream | cache entries | RSS MiB |",
    "| ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    "RSS is VmRSS of the dnsd process (`deno run --allow-net --allow-read --allow-ffi main.ts`, so batched UDP where it can be) from /proc/PID/status.",
    "Every name is sent once, so every query reaches the upstream; cache entries are min(fetched + 1, the",
    "cache size), the 1 being the start-up probe, and every answer after the fill evicts one.",
    "",
    `dnsd pinned to CPU ${SERVER_CPU}; dnsperf (\`-c 4 -T 1 -Q ${flags.rate}\`) and this script, which is ` +
      `also the fake upstream (one A record, TTL 86400, for any name), to CPU ${CLIENT_CPU}; all on ` +
      "127.0.0.1. `deno task bench:soak`.",
    "",
  );
  return lines.join("\n");
}

function parseFlags(args: string[]): Flags {
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args, // `deno task bench:soak -- --minutes 2` passes "--"
    options: {
      minutes: { type: "string", default: "10" },
      rate: { type: "string", default: "5000" },
      "cache-size": { type: "string", default: "100000" },
      workers: { type: "string", default: "1" },
      bound: { type: "string", default: "10" },
    },
  });
  const count = (text: string, flag: string, max: number) => {
    if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > max) {
      throw new Error(`${flag}: "${text}" is not a whole number from 1 to ${max}`);
    }
    return Number(text);
  };
  return {
    minutes: count(values.minutes, "--minutes", 24 * 60),
    rate: count(values.rate, "--rate", 100_000),
    cacheSize: count(values["cache-size"], "--cache-size", 100_000_000),
    workers: count(values.workers, "--workers", 256),
    bound: count(values.bound, "--bound", 1000),
  };
}

async function main(run: Run, flags: Flags): Promise<string> {
  // Enough names that dnsperf never loops back to ones it sent (5% over, for a fast clock).
  const names = Math.ceil(flags.minutes * 60 * flags.rate * 1.05) + 10_000;
  const file = `${run.work}/names.txt`;
  say(`Writing ${whole(names)} names...`);
  await writeQueryFile(file, names, soakName);
  const upstream = startResponder();
  let server: Server | undefined;
  try {
    const args = [
      "--cache-size",
      String(flags.cacheSize),
      "--upstream",
      `127.0.0.1:${upstream.port}`,
      "--workers",
      String(flags.workers),
    ];
    server = await startDnsd(run.launcher, [...args, "--log-level", "warning"], {
      probe: "probe.soak.test",
      timeoutMs: START_TIMEOUT_MS,
    });
    await delay(5_000);
    const idle = memoryOf(server.child.pid).rss;
    say(`Soaking for ${flags.minutes} min at ${whole(flags.rate)} QPS (RSS ${mib(idle)} MiB)...`);
    return report(flags, await soak(run, server, upstream, flags, file), idle);
  } finally {
    await server?.child.stop();
    upstream.close();
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  await runBenchmark(RESULTS, (run) => main(run, flags));
}
