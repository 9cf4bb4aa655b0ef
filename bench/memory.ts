/**
 * dnsd's resident memory at scale beside its peers', in one sitting, each measured on a real
 * process from /proc/PID/status. Not a test, and not run by CI. Three parts (issue 19):
 *
 * - **cache** (bench/_memory_cache.ts): the same fill of 1,000,000 unique names through the wire
 *   into dnsd and into unbound, both forwarding to a fake upstream inside this script, both with
 *   room for every answer; the fill confirmed by counting what reached the upstream and by asking
 *   a sample again.
 * - **zone** (bench/_memory_zone.ts): one generated 1,000,000-record zone file served by dnsd, NSD
 *   and Knot DNS: load time, then memory once loaded and after each pass over every name.
 * - **idle** (bench/_memory_idle.ts): dnsd with default settings, unbound with its default cache,
 *   and an empty `deno run` script (the floor), beside the 40 MiB target.
 *
 * `deno task bench:memory` (all parts, full size), or smaller and fewer:
 * `deno task bench:memory -- --entries 100000 --records 100000 --only cache,idle`
 *
 * Servers run on CPU 1; dnsperf and this script (the upstream) on CPU 0; all on 127.0.0.1, every
 * process stopped by PID. The report goes to stdout and bench/results/memory.md.
 * @module
 */
import { parseArgs } from "node:util";
import { dnsdCommand, machine, type Run, runBenchmark, say } from "./_harness.ts";
import { cachePart } from "./_memory_cache.ts";
import type { Part, PartSetting } from "./_memory_common.ts";
import { idlePart, startFloor } from "./_memory_idle.ts";
import { zonePart } from "./_memory_zone.ts";
import { delay } from "./_proc.ts";
import { CLIENT_CPU, SERVER_CPU, versions } from "./_servers.ts";

const RESULTS = new URL("./results/memory.md", import.meta.url);
const ROOT = new URL("../", import.meta.url).pathname;
/** The parts, in the order they run and are reported. */
const PARTS = {
  cache: cachePart,
  zone: zonePart,
  idle: idlePart,
} as const satisfies Record<string, (setting: PartSetting) => Promise<Part>>;
type PartName = keyof typeof PARTS;
/** How long `deno run main.ts --help` may take (a cold cache transpiles every module). */
const WARM_UP_MS = 120_000;

interface Flags {
  readonly entries: number;
  readonly records: number;
  readonly only: readonly PartName[];
}

function parseFlags(args: string[]): Flags {
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args, // `deno task bench:memory -- --entries 10` passes "--"
    options: {
      entries: { type: "string", default: "1000000" },
      records: { type: "string", default: "1000000" },
      only: { type: "string", default: Object.keys(PARTS).join(",") },
    },
  });
  const count = (text: string, flag: string) => {
    if (!/^[0-9]+$/.test(text) || Number(text) < 1) {
      throw new Error(`${flag}: "${text}" is not a whole number`);
    }
    return Number(text);
  };
  const isPart = (name: string): name is PartName => Object.hasOwn(PARTS, name);
  const only = values.only.split(",").filter((name) => name !== "");
  const unknown = only.find((name) => !isPart(name));
  if (unknown !== undefined || only.length === 0) {
    throw new Error(`--only: "${unknown ?? ""}" is not one of ${Object.keys(PARTS).join(", ")}`);
  }
  return {
    entries: count(values.entries, "--entries"),
    records: count(values.records, "--records"),
    // In the parts' own order, whatever the order given.
    only: (Object.keys(PARTS) as PartName[]).filter((name) => only.includes(name)),
  };
}

/**
 * Runs dnsd once (`--help`) and the floor script once, so that no measured start transpiles
 * TypeScript: a cold start would count the compiler's memory and time against the first server.
 */
async function warmUp(run: Run): Promise<void> {
  say("Warming Deno's module cache...");
  const child = run.launcher.spawn("dnsd --help", dnsdCommand(0, ["--help"]), { cpu: SERVER_CPU, cwd: ROOT });
  const code = await Promise.race([child.status, delay(WARM_UP_MS).then(() => null)]);
  if (code !== 0) {
    await child.stop();
    throw new Error(`dnsd --help ${code === null ? "did not finish" : `exited ${code}`}:\n${child.tail()}`);
  }
  await (await startFloor({ run, entries: 1, records: 1 })).child.stop();
}

/** The report's first line: the date, the versions, the machine. */
async function header(): Promise<string> {
  const found = await versions();
  const number = (tool: string) => /\d+\.\d+(\.\d+)?/.exec(found[tool] ?? "")?.[0] ?? "not installed";
  const tools = [
    `Deno ${Deno.version.deno}`,
    `unbound ${number("unbound")}`,
    `NSD ${number("nsd")}`,
    `Knot DNS ${number("knot")}`,
    `dnsperf ${number("dnsperf")}`,
  ];
  return `${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, ${tools.join(", ")}; ${await machine()}.`;
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  await runBenchmark(RESULTS, async (run) => {
    await warmUp(run);
    const parts: Part[] = [];
    for (const name of flags.only) {
      run.stopping.throwIfAborted();
      say(`Part: ${name}`);
      parts.push(await PARTS[name]({ run, entries: flags.entries, records: flags.records }));
    }
    return [
      "# dnsd memory, beside its peers",
      "",
      await header(),
      "",
      ...parts.flatMap((part) => [
        `## ${part.title}`,
        "",
        part.table,
        "",
        ...part.notes.map((note) => `- ${note}`),
        "",
      ]),
      "RSS is VmRSS, peak RSS VmHWM, both from /proc/PID/status; Pss from /proc/PID/smaps_rollup. A ratio " +
      "is dnsd's value over the peer's: below 1× dnsd uses less memory or time (for queries per second, " +
      `more is faster). dnsd runs as \`deno task start\` does (\`deno run --allow-net --allow-read --allow-ffi ` +
      `main.ts\`, so batched UDP). Servers pinned to CPU ${SERVER_CPU}; dnsperf (\`-c 4 -T 1\`) and this ` +
      `script, which is also the fake upstream (one A record, TTL 86400, for any name), to CPU ${CLIENT_CPU}; ` +
      `all on 127.0.0.1. \`deno task bench:memory -- --entries ${flags.entries} --records ${flags.records} ` +
      `--only ${flags.only.join(",")}\`.`,
      "",
    ].join("\n");
  });
}
