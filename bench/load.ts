/**
 * The load benchmark: dnsd beside unbound, dnsmasq and a raw Deno socket ceiling, driven by
 * dnsperf, with NSD as the upstream serving 200,000 generated names. Not a test, and not run by CI.
 *
 * `deno task bench:load` (or `deno task bench:load -- --seconds 5 --rate 60000 --servers dnsd,unbound
 * --scenarios cached,fixed-rate-cached`)
 *
 * With `--signed`, NSD's zone is signed (ldns-signzone, ECDSA P-256, NSEC) and the contenders
 * `dnsd-dnssec` and `unbound-dnssec` validate under its DS: DNSSEC's cost beside the same servers
 * forwarding the same signed zone without validating.
 *
 * Servers are pinned to CPU 1, dnsperf, NSD and this script to CPU 0. Each server runs alone:
 * local, a warm-up pass and cached, the fixed rate, then a restart and uncached. Every process is
 * started and stopped by PID, also on Ctrl-C; all traffic stays on 127.0.0.1. The report goes to
 * stdout and to bench/results/latest.md.
 * @module
 */
import { parseArgs } from "node:util";
import { dnsperf, type Measure, type PerfOptions } from "./_dnsperf.ts";
import type { Launcher } from "./_proc.ts";
import { clockTicks, machine, runBenchmark, say } from "./_harness.ts";
import { report, type Results, type Scenario, SCENARIOS } from "./_report.ts";
import {
  ceiling,
  CLIENT_CPU,
  type Contender,
  dnsd,
  dnsdBatched,
  dnsdValidating,
  dnsmasq,
  localNames,
  NAMES,
  type Server,
  SERVER_CPU,
  type Setting,
  startNsd,
  unbound,
  unboundValidating,
  versions,
  zoneName,
} from "./_servers.ts";

const CACHED_NAMES = 1_000;
const RESULTS = new URL("./results/latest.md", import.meta.url);

async function queryFile(path: string, names: Iterable<string>): Promise<string> {
  await Deno.writeTextFile(path, [...names].map((name) => `${name} A\n`).join(""));
  return path;
}

function* range(from: number, to: number): Generator<string> {
  for (let n = from; n < to; n++) yield zoneName(n);
}

interface Plan {
  readonly seconds: number;
  readonly rate: number;
  readonly hz: number;
  readonly files: Readonly<Record<"local" | "cached" | "uncached", string>>;
  /** The scenarios to run, by name; all of them when empty. */
  readonly scenarios: readonly string[];
  readonly stopping: AbortSignal;
}

/** Runs every scenario against one contender, each run on a server it has to itself. */
async function measure(
  contender: Contender,
  setting: Setting,
  plan: Plan,
  record: (scenario: Scenario | "warm-up", measure: Measure) => void,
): Promise<void> {
  const run = async (server: Server, scenario: Scenario | "warm-up", options: PerfOptions) => {
    plan.stopping.throwIfAborted();
    say(`  ${contender.name}: ${scenario}`);
    record(scenario, await dnsperf(setting.launcher, server, { ...options, hz: plan.hz }));
  };
  const { seconds, files } = plan;
  const wanted = (scenario: Scenario) => plan.scenarios.length === 0 || plan.scenarios.includes(scenario);
  let server = await contender.start(setting);
  try {
    if (wanted("local")) await run(server, "local", { file: files.local, seconds });
    if (contender.forwards) await run(server, "warm-up", { file: files.cached, seconds, once: true });
    if (wanted("cached")) await run(server, "cached", { file: files.cached, seconds });
    if (wanted("fixed-rate")) {
      await run(server, "fixed-rate", { file: files.local, seconds, rate: plan.rate });
    }
    if (wanted("fixed-rate-cached")) {
      await run(server, "fixed-rate-cached", { file: files.cached, seconds, rate: plan.rate });
    }
    if (!contender.forwards || !wanted("uncached")) return;
    await server.child.stop();
    server = await contender.start(setting); // a cold cache
    await run(server, "uncached", { file: files.uncached, seconds, once: true });
  } finally {
    await server.child.stop();
  }
}

interface Flags {
  readonly seconds: number;
  readonly rate: number;
  /** The contenders to run, by name; all of them when empty. */
  readonly servers: readonly string[];
  /** Sign NSD's zone (ldns-signzone); the `-dnssec` contenders validate under its DS. */
  readonly signed: boolean;
  /** The scenarios to run, by name; all of them when empty. */
  readonly scenarios: readonly string[];
}

/** Runs every contender in turn and returns the report; `stopping` aborts between steps (Ctrl-C). */
async function sitting(launcher: Launcher, work: string, args: Flags & { stopping: AbortSignal }) {
  const contenders = [dnsd, dnsdBatched, dnsdValidating, ceiling, unbound, unboundValidating, dnsmasq]
    .filter((contender) => args.servers.length === 0 || args.servers.includes(contender.name));
  const notes: string[] = [];
  const results: Results = new Map();
  const record = (server: string) => (scenario: Scenario | "warm-up", measure: Measure) => {
    if (!/^NOERROR \d+ \(100\.00%\)$/.test(measure.rcodes) || (scenario === "warm-up" && measure.lost > 0)) {
      notes.push(`${server} ${scenario}: ${measure.lost} lost, response codes ${measure.rcodes}`);
    }
    if (scenario === "warm-up") return;
    if (!results.has(scenario)) results.set(scenario, new Map());
    results.get(scenario)!.set(server, measure);
  };
  const plan: Plan = {
    ...args,
    hz: await clockTicks(),
    files: {
      local: await queryFile(`${work}/local.txt`, Object.keys(localNames())),
      cached: await queryFile(`${work}/cached.txt`, range(0, CACHED_NAMES)),
      uncached: await queryFile(`${work}/uncached.txt`, range(CACHED_NAMES, NAMES)),
    },
  };
  say(`Starting NSD with ${NAMES.toLocaleString("en-US")} names${args.signed ? ", signed" : ""}...`);
  await Deno.mkdir(`${work}/nsd`);
  const nsd = await startNsd(launcher, `${work}/nsd`, args.signed);
  const measured: string[] = [];
  try {
    for (const contender of contenders) {
      args.stopping.throwIfAborted();
      const missing = contender.missing();
      if (missing) {
        notes.push(`${contender.name} skipped: ${missing}`);
        continue;
      }
      say(`${contender.name}:`);
      const own = `${work}/${contender.name}`;
      await Deno.mkdir(own);
      try {
        await measure(
          contender,
          {
            launcher,
            work: own,
            upstream: nsd.port,
            local: localNames(),
            ...(nsd.anchorFile ? { anchorFile: nsd.anchorFile } : {}),
          },
          plan,
          record(contender.name),
        );
      } catch (error) {
        args.stopping.throwIfAborted(); // the failure was the interruption
        notes.push(
          `${contender.name} failed: ${error instanceof Error ? error.message.split("\n")[0] : error}`,
        );
        say(String(error));
      }
      measured.push(contender.name);
    }
  } finally {
    await nsd.child.stop();
  }
  const text = report(results, measured, {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine: await machine(),
    versions: await versions(),
    settings: `Each run: \`dnsperf -c 4 -T 1 -l ${args.seconds}\` (uncached and warm-up with \`-n 1\`; ` +
      `fixed-rate and fixed-rate-cached with \`-Q ${args.rate}\`), on 127.0.0.1. Servers pinned to CPU ${SERVER_CPU}; ` +
      `dnsperf, NSD and the runner to CPU ${CLIENT_CPU}. Server CPU is utime + stime from /proc/PID/stat ` +
      `(${plan.hz} ticks/s) over the run, divided by completed queries.`,
    notes,
  });
  return text;
}

function parseFlags(args: string[]): Flags {
  const { values } = parseArgs({
    // `deno task bench:load -- --seconds 5` passes the "--" on.
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      seconds: { type: "string", default: "10" },
      rate: { type: "string", default: "60000" },
      servers: { type: "string", default: "" },
      signed: { type: "boolean", default: false },
      scenarios: { type: "string", default: "" },
    },
  });
  const scenarios = values.scenarios.split(",").filter((name) => name !== "");
  const unknownScenario = scenarios.find((name) => !(name in SCENARIOS));
  if (unknownScenario) {
    throw new Error(`--scenarios: "${unknownScenario}" is not one of ${Object.keys(SCENARIOS).join(", ")}`);
  }
  const known = ["dnsd", "dnsd-batched", "dnsd-dnssec", "ceiling", "unbound", "unbound-dnssec", "dnsmasq"];
  const servers = values.servers.split(",").filter((name) => name !== "");
  const unknown = servers.find((name) => !known.includes(name));
  if (unknown) throw new Error(`--servers: "${unknown}" is not one of ${known.join(", ")}`);
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(`--seconds: "${values.seconds}" is not a whole number`);
  }
  if (!Number.isInteger(rate) || rate < 1) throw new Error(`--rate: "${values.rate}" is not a whole number`);
  const validating = servers.filter((name) => name.endsWith("-dnssec"));
  if (servers.length === 0 && !values.signed) {
    servers.push(...known.filter((name) => !name.endsWith("-dnssec")));
  }
  if (validating.length > 0 && !values.signed) throw new Error(`--servers ${validating[0]}: needs --signed`);
  return { seconds, rate, servers, signed: values.signed, scenarios };
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args);
  await runBenchmark(
    RESULTS,
    ({ launcher, work, stopping }) => sitting(launcher, work, { ...flags, stopping }),
  );
}

if (import.meta.main) await main();
