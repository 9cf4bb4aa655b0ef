/**
 * Cache memory as a user sees it: the resident memory (RSS, from /proc/PID/status) of a dnsd
 * process started as `deno task start` starts it, with the default cache (100,000 entries), filled
 * through the wire by dnsperf (`-n 1`, one query per unique name) from a fake upstream that answers
 * every name with one A record (bench/_responder.ts, inside this script). It reports RSS empty, the
 * peak (the highest of RSS sampled every 100 ms during the fill, and the kernel's VmHWM), right after
 * the fill, and idle (no traffic) after 10, 30 and 60 s. The fill is confirmed by the count of
 * queries that reached the upstream (at least one per name), then by asking 1,000 of the names
 * again: none may reach it.
 * Not a test, and not run by CI.
 *
 * `deno task bench:cache-memory` (or `... -- --entries 100000 --log-level info`)
 *
 * dnsd runs on CPU 1; dnsperf and this script (the upstream) on CPU 0; all on 127.0.0.1. The
 * report goes to stdout and bench/results/cache_memory.md.
 * @module
 */
import { parseArgs } from "node:util";
import {
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
import { delay } from "./_proc.ts";
import { startResponder } from "./_responder.ts";
import { sendOnce } from "./_memory_common.ts";
import type { Server } from "./_servers.ts";

const RESULTS = new URL("./results/cache_memory.md", import.meta.url);
/** How many of the cached names are asked again to confirm they are still cached. */
const SAMPLE = 1_000;
/** How long dnsd may take to start (a cold `deno run` compiles first). */
const START_TIMEOUT_MS = 120_000;
/** How long dnsd is left alone after start-up before the empty reading. */
const SETTLE_MS = 5_000;
/** When idle readings are taken, in ms after the fill ends. */
const IDLE_AT_MS = [10_000, 30_000, 60_000];

const name = (n: number) => `c${n}.cachemem.test`;

/** Runs `work`, reading the RSS of `pid` every 100 ms meanwhile; returns its result and the highest. */
async function sampled<T>(pid: number, work: Promise<T>): Promise<{ result: T; highest: number }> {
  let highest = memoryOf(pid).rss;
  const timer = setInterval(() => (highest = Math.max(highest, memoryOf(pid).rss)), 100);
  try {
    return { result: await work, highest: Math.max(highest, memoryOf(pid).rss) };
  } finally {
    clearInterval(timer);
  }
}

async function measure(run: Run, entries: number, logLevel: string): Promise<string> {
  const fill = `${run.work}/fill.txt`;
  const sample = `${run.work}/sample.txt`;
  const step = Math.max(1, Math.floor(entries / SAMPLE));
  await writeQueryFile(fill, entries, name);
  await writeQueryFile(sample, Math.ceil(entries / step), (n) => name(n * step));
  const upstream = startResponder();
  let server: Server | undefined;
  try {
    // The default --cache-size is 100,000: passed only when another size is asked for.
    const size = entries === 100_000 ? [] : ["--cache-size", String(entries)];
    server = await startDnsd(
      run.launcher,
      [...size, "--upstream", `127.0.0.1:${upstream.port}`, "--log-level", logLevel],
      { probe: "probe.cachemem.test", timeoutMs: START_TIMEOUT_MS },
    );
    const pid = server.child.pid;
    await delay(SETTLE_MS);
    const empty = memoryOf(pid);
    say(`Empty: RSS ${mib(empty.rss)} MiB. Filling with ${whole(entries)} names...`);
    const before = upstream.queries();
    const started = performance.now();
    const { result: perf, highest } = await sampled(pid, sendOnce(run.launcher, server, fill));
    const fillS = (performance.now() - started) / 1000;
    const filled = memoryOf(pid);
    const fetched = upstream.queries() - before;
    // More than one per name when dnsd retransmitted to a busy upstream; fewer means some were not fetched.
    if (fetched < entries) {
      throw new Error(`Only ${whole(fetched)} queries reached the upstream, not ${entries}`);
    }
    const again = upstream.queries();
    await sendOnce(run.launcher, server, sample);
    const missed = upstream.queries() - again;
    if (missed !== 0) throw new Error(`${missed} of the sample reached the upstream: not cached`);
    const done = performance.now();
    const idle: { at: number; memory: Memory }[] = [];
    for (const at of IDLE_AT_MS) {
      await delay(at - (performance.now() - done));
      run.stopping.throwIfAborted();
      idle.push({ at, memory: memoryOf(pid) });
      say(`Idle ${at / 1000} s: RSS ${mib(idle.at(-1)!.memory.rss)} MiB`);
    }
    const per = (rss: number) => whole((rss - empty.rss) / entries);
    const rows = [
      `| empty (one entry, the start-up probe), ${SETTLE_MS / 1000} s after start | ${mib(empty.rss)} | |`,
      `| peak during the fill (sampled every 100 ms) | ${mib(highest)} | ${per(highest)} |`,
      `| peak (VmHWM, the kernel's high-water mark) | ${mib(filled.peak)} | ${per(filled.peak)} |`,
      `| right after the fill | ${mib(filled.rss)} | ${per(filled.rss)} |`,
      ...idle.map(({ at, memory }) =>
        `| idle, ${at / 1000} s after the fill | ${mib(memory.rss)} | ${per(memory.rss)} |`
      ),
    ];
    return [
      `# Cache memory: ${whole(entries)} entries, RSS of the dnsd process`,
      "",
      `\`deno task bench:cache-memory\` on ${
        new Date().toISOString().slice(0, 10)
      }: dnsd as \`deno task start\` ` +
      `runs it, \`--log-level ${logLevel}\`, the default cache.`,
      "",
      "| dnsd | RSS MiB | bytes per entry over empty |",
      "| --- | ---: | ---: |",
      ...rows,
      "",
      `Fill: ${whole(entries)} unique names (one A record each) through \`dnsperf -n 1\` in ${
        fillS.toFixed(1)
      } s ` +
      `(${whole(perf.qps)} QPS); ${
        whole(fetched)
      } queries reached the upstream (at least one per name). Then ` +
      `${whole(Math.ceil(entries / step))} of the names asked again: ${missed} reached the upstream.`,
      "",
    ].join("\n");
  } finally {
    await server?.child.stop();
    upstream.close();
  }
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    entries: { type: "string", default: "100000" },
    "log-level": { type: "string", default: "info" },
  },
});
await runBenchmark(RESULTS, (run) => measure(run, Number(values.entries), values["log-level"]));
