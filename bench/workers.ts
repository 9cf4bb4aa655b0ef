/**
 * The workers benchmark (issue 19, target 6): the same dnsd with `--workers 1` and `--workers N`,
 * and beside it unbound with `num-threads: 1` and `N` (`so-reuseport: yes`), in alternating
 * rounds, each run at a fixed rate (server CPU per answer) and as fast as dnsperf goes (total
 * QPS), for the mapped names (local) and for names cached from NSD. dnsd, dnsperf and
 * NSD are not pinned: every process may use every CPU, so the kernel and the workers share them as
 * they would in production. The spread over the workers is read from `/metrics`
 * (`dnsd_worker_queries_total`). Not a test, and not run by CI.
 *
 * `deno task bench:workers` (or `deno task bench:workers -- --seconds 10 --rate 40000 --rounds 3
 * --workers 1,2 --clients 64 --max-threads 2 --servers dnsd,unbound --workers-busy 70`)
 *
 * dnsperf uses `--clients` sockets (`-c`): the kernel picks a worker by each socket's address and
 * port, so a handful of sockets could land unevenly; 64 spread them well. The report goes to
 * stdout and to bench/results/workers_latest.md.
 * @module
 */
import { parseArgs } from "node:util";
import { dnsperf, type Measure } from "./_dnsperf.ts";
import { clockTicks, dnsdCommand, machine, runBenchmark, say, whole, writeQueryFile } from "./_harness.ts";
import { freePort, type Launcher, waitUntilAnswers } from "./_proc.ts";
import {
  installed,
  localNames,
  NAMES,
  startNsd,
  UNBOUND,
  unboundCommand,
  versions,
  zoneName,
} from "./_servers.ts";

const CACHED_NAMES = 1_000;
const RESULTS = new URL("./results/workers_latest.md", import.meta.url);
const ROOT = new URL("../", import.meta.url).pathname;
/** Every CPU this machine has, as a `taskset` list: no process of the sitting is pinned. */
const ALL_CPUS = `0-${navigator.hardwareConcurrency - 1}`;

interface Flags {
  readonly seconds: number;
  readonly rate: number;
  readonly rounds: number;
  readonly workers: readonly number[];
  readonly clients: number;
  /** dnsperf's threads (`-T`) in the runs as fast as it goes. */
  readonly maxThreads: number;
  /** `dnsd` and, when installed, `unbound`. */
  readonly servers: readonly ("dnsd" | "unbound")[];
  /** dnsd's `--workers-busy` (70: more loops take queries as the load calls for them; 0: all from the start). */
  readonly workersBusy: number;
}

/** One dnsd run's figures, by measurement name. */
type Figures = Map<string, Measure & { readonly spread?: string }>;

const MEASUREMENTS = ["fixed-rate local", "fixed-rate cached", "max local", "max cached"] as const;

/** Each worker's share of the queries so far, from `/metrics`: "52% / 48%". */
async function spreadOf(metricsPort: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts = [...text.matchAll(/^dnsd_worker_queries_total\{worker="\d+"\} (\S+)$/gm)].map((m) =>
    Number(m[1])
  );
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.length === 0
    ? "one"
    : counts.map((count) => `${Math.round((100 * count) / total)}%`).join(" / ");
}

/** The command line of `server` with `workers` workers (threads) on `port`, forwarding to NSD. */
async function commandOf(
  server: "dnsd" | "unbound",
  workers: number,
  port: number,
  metricsPort: number,
  nsdPort: number,
  work: string,
  workersBusy: number,
): Promise<string[]> {
  if (server === "unbound") {
    const dir = await Deno.makeTempDir({ dir: work, prefix: "unbound-" });
    return unboundCommand({ work: dir, local: localNames(), upstream: nsdPort, threads: workers }, port);
  }
  return dnsdCommand(port, [
    "--upstream",
    `127.0.0.1:${nsdPort}`,
    "--workers",
    String(workers),
    "--workers-busy",
    String(workersBusy),
    "--udp-io",
    "batched",
    "--metrics",
    `127.0.0.1:${metricsPort}`,
    "--log-level",
    "warning",
  ]);
}

async function runOne(
  launcher: Launcher,
  server: "dnsd" | "unbound",
  workers: number,
  setting: { nsdPort: number; work: string; files: { local: string; cached: string }; hz: number },
  flags: Flags,
): Promise<Figures> {
  const { files, hz } = setting;
  const port = freePort();
  const metricsPort = freePort();
  const command = await commandOf(
    server,
    workers,
    port,
    metricsPort,
    setting.nsdPort,
    setting.work,
    flags.workersBusy,
  );
  const child = launcher.spawn(`${server}-${workers}`, command, { cpu: ALL_CPUS, cwd: ROOT });
  const figures: Figures = new Map();
  try {
    const running = { port, child };
    await waitUntilAnswers(child, port, zoneName(0), 20_000);
    const base = { seconds: flags.seconds, clients: flags.clients, cpu: ALL_CPUS, hz };
    // As fast as it goes: dnsperf with more threads, so that the client is not what limits the rate.
    const max = { ...base, threads: flags.maxThreads };
    // Every worker keeps its own cache: the names are asked over and over first, at the fixed
    // rate (each name reaches the worker that will answer it; with --workers-busy, a rate one
    // event loop carries leaves the others idle, as in the runs at that rate).
    await dnsperf(launcher, running, { ...base, seconds: 3, file: files.cached, rate: flags.rate });
    figures.set(
      "fixed-rate local",
      await dnsperf(launcher, running, { ...base, file: files.local, rate: flags.rate }),
    );
    figures.set(
      "fixed-rate cached",
      await dnsperf(launcher, running, { ...base, file: files.cached, rate: flags.rate }),
    );
    // Full load for a few seconds first: with --workers-busy, every event loop it calls for takes
    // queries (and fills its cache) before the measurement starts.
    await dnsperf(launcher, running, { ...max, seconds: 4, file: files.cached });
    figures.set("max local", await dnsperf(launcher, running, { ...max, file: files.local }));
    figures.set("max cached", await dnsperf(launcher, running, { ...max, file: files.cached }));
    const spread = server === "dnsd" ? await spreadOf(metricsPort) : "";
    for (const [name, measure] of figures) figures.set(name, { ...measure, spread });
  } finally {
    await child.stop();
  }
  return figures;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function report(byServer: Map<string, Figures[]>, flags: Flags, header: string): string {
  const lines = [header, ""];
  const first = flags.workers[0]!;
  lines.push(
    `| measurement | server | workers | QPS (median) | server CPU µs/answer (median) | runs (µs/answer) | lost | ` +
      `spread | QPS × | CPU × |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const name of MEASUREMENTS) {
    for (const server of flags.servers) {
      const baseline = byServer.get(`${server} ${first}`)!.map((figures) => figures.get(name)!);
      const baseQps = median(baseline.map((m) => m.qps));
      const baseCpu = median(baseline.map((m) => m.cpuUsPerAnswer));
      for (const workers of flags.workers) {
        const runs = byServer.get(`${server} ${workers}`)!.map((figures) => figures.get(name)!);
        const qps = median(runs.map((m) => m.qps));
        const cpu = median(runs.map((m) => m.cpuUsPerAnswer));
        lines.push(
          `| ${name} | ${server} | ${workers} | ${whole(qps)} | ${cpu.toFixed(2)} | ` +
            `${runs.map((m) => m.cpuUsPerAnswer.toFixed(2)).join(", ")} | ` +
            `${runs.reduce((sum, m) => sum + m.lost, 0)} | ${runs.at(-1)!.spread ?? ""} | ` +
            `${(qps / baseQps).toFixed(2)} | ${(cpu / baseCpu).toFixed(2)} |`,
        );
      }
    }
  }
  lines.push(
    "",
    `× is the median against the same server with ${first} worker (unbound: \`num-threads\`) in this sitting; ` +
      "unbound's threads each have a socket of their own on the port (`so-reuseport: yes`), as dnsd's workers do. " +
      `Fixed rate: \`dnsperf -Q ${flags.rate}\`; ` +
      `max: as fast as dnsperf with \`-T ${flags.maxThreads}\` sends. Every run \`-c ${flags.clients} -l ${flags.seconds}\` ` +
      "(`-T 1` at the fixed rate), " +
      `${flags.rounds} rounds, the order of the worker counts alternating. Server CPU is utime + stime of the ` +
      "whole process (every worker) over the run, divided by completed queries.",
  );
  return lines.join("\n") + "\n";
}

function parseFlags(args: string[]): Flags {
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      seconds: { type: "string", default: "10" },
      rate: { type: "string", default: "40000" },
      rounds: { type: "string", default: "3" },
      workers: { type: "string", default: "1,2" },
      clients: { type: "string", default: "64" },
      "max-threads": { type: "string", default: "2" },
      servers: { type: "string", default: installed(UNBOUND) ? "dnsd,unbound" : "dnsd" },
      "workers-busy": { type: "string", default: "70" },
    },
  });
  const positive = (flag: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag}: "${text}" is not a whole number`);
    return value;
  };
  return {
    seconds: positive("seconds", values.seconds),
    rate: positive("rate", values.rate),
    rounds: positive("rounds", values.rounds),
    workers: values.workers.split(",").map((text) => positive("workers", text)),
    clients: positive("clients", values.clients),
    maxThreads: positive("max-threads", values["max-threads"]),
    workersBusy: Number(values["workers-busy"]),
    servers: values.servers.split(",").map((name) => {
      if (name !== "dnsd" && name !== "unbound") {
        throw new Error(`--servers: "${name}" is not dnsd or unbound`);
      }
      return name;
    }),
  };
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  await runBenchmark(RESULTS, async ({ launcher, work, stopping }) => {
    const hz = await clockTicks();
    await Deno.writeTextFile(
      `${work}/local.txt`,
      Object.keys(localNames()).map((name) => `${name} A\n`).join(""),
    );
    await writeQueryFile(`${work}/cached.txt`, CACHED_NAMES, zoneName);
    const files = { local: `${work}/local.txt`, cached: `${work}/cached.txt` };
    say(`Starting NSD with ${NAMES.toLocaleString("en-US")} names...`);
    await Deno.mkdir(`${work}/nsd`);
    const nsd = await startNsd(launcher, `${work}/nsd`);
    const byServer = new Map<string, Figures[]>();
    for (const server of flags.servers) {
      for (const workers of flags.workers) byServer.set(`${server} ${workers}`, []);
    }
    try {
      for (let round = 0; round < flags.rounds; round++) {
        const order = round % 2 === 0 ? flags.workers : [...flags.workers].reverse();
        for (const server of flags.servers) {
          for (const workers of order) {
            stopping.throwIfAborted();
            say(`round ${round + 1}: ${server} with ${workers}`);
            const figures = await runOne(
              launcher,
              server,
              workers,
              { nsdPort: nsd.port, work, files, hz },
              flags,
            );
            for (const [name, m] of figures) {
              say(
                `  ${name}: ${Math.round(m.qps)} QPS, ${m.cpuUsPerAnswer.toFixed(2)} µs/answer ${m.spread}`,
              );
            }
            byServer.get(`${server} ${workers}`)!.push(figures);
          }
        }
      }
    } finally {
      await nsd.child.stop();
    }
    const header = `# dnsd --workers, ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}\n\n` +
      `${await machine()}; ${Object.entries(await versions()).map(([k, v]) => `${k} ${v}`).join(", ")}. ` +
      `No process pinned (CPUs ${ALL_CPUS}). dnsd with --workers-busy ${flags.workersBusy}.`;
    return report(byServer, flags, header);
  });
}
