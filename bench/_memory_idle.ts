/**
 * The idle part of bench/memory.ts: the resident memory, with no traffic, of dnsd as a user starts
 * it (defaults, only `--port` and an upstream), of unbound with its own default cache sizes and the
 * same forwarding, of a `deno run` script that does nothing (bench/idle_floor.ts): the floor
 * under any Deno program, and of one that holds only the parts dnsd cannot do without (LogTape,
 * FFI, a UDP and a TCP socket: bench/idle_parts.ts). Beside them, the 40 MiB that issue 19 sets as
 * dnsd's target.
 * @module
 */
import { type Memory, memoryOf, mib, say, startDnsd } from "./_harness.ts";
import { measureEach, type Part, type PartSetting, partTable, START_TIMEOUT_MS } from "./_memory_common.ts";
import { delay, freePort, waitUntilAnswers } from "./_proc.ts";
import { startResponder } from "./_responder.ts";
import { installed, type Server, SERVER_CPU, startOnPort, UNBOUND, unboundCommand } from "./_servers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** How long after its first answer (or "ready") a process is read. */
export const IDLE_MS = 10_000;
/** Issue 19's target for dnsd's idle RSS. */
const TARGET_BYTES = 40 * 2 ** 20;
/** Asked once to tell that a forwarder is up: one cached answer in each. */
const PROBE = "probe.idle.test";

/** Starts the do-nothing script on the server CPU and waits until it says "ready". */
export function startFloor(setting: PartSetting): Promise<Server> {
  return startScript(setting, "floor", [`${ROOT}bench/idle_floor.ts`]);
}

/** Starts `deno run` with `args` (a script that says "ready") on the server CPU and waits for it. */
async function startScript(setting: PartSetting, name: string, args: readonly string[]): Promise<Server> {
  const command = [Deno.execPath(), "run", ...args];
  const child = setting.run.launcher.spawn(name, command, { cpu: SERVER_CPU, cwd: ROOT });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!child.tail().includes("ready")) {
    if (child.exited() || Date.now() > deadline) {
      await child.stop();
      throw new Error(`${args.at(-1)} did not get ready:\n${child.tail()}`);
    }
    await delay(10);
  }
  return { port: 0, child };
}

/** An idle process and how to start it. */
interface Idler {
  readonly name: string;
  missing(): string | null;
  /** Resolves once it answers (or is ready), forwarding to 127.0.0.1:`upstream` if it forwards. */
  start(setting: PartSetting, upstream: number): Promise<Server>;
}

const idlers: readonly Idler[] = [
  {
    name: "dnsd",
    missing: () => null,
    start: ({ run }, upstream) =>
      startDnsd(run.launcher, ["--upstream", `127.0.0.1:${upstream}`], {
        probe: PROBE,
        timeoutMs: START_TIMEOUT_MS,
      }),
  },
  {
    name: "unbound",
    missing: () => installed(UNBOUND) ? null : `${UNBOUND} is not installed`,
    async start({ run }, upstream) {
      const work = await Deno.makeTempDir({ dir: run.work, prefix: "unbound-idle-" });
      const setting = { work, local: {}, upstream, cache: "default" } as const;
      return await startOnPort(run.launcher, "unbound", (port) => unboundCommand(setting, port), {
        port: freePort,
        ready: (child, port) => waitUntilAnswers(child, port, PROBE, START_TIMEOUT_MS),
      });
    },
  },
  { name: "Deno floor", missing: () => null, start: (setting) => startFloor(setting) },
  {
    name: "dnsd's parts",
    missing: () => null,
    start: (setting) =>
      startScript(setting, "parts", [
        "--allow-net",
        "--allow-ffi",
        "--unstable-net",
        `${ROOT}bench/idle_parts.ts`,
      ]),
  },
];

async function idle(setting: PartSetting, idler: Idler): Promise<Memory> {
  const upstream = startResponder();
  let server: Server | undefined;
  try {
    server = await idler.start(setting, upstream.port);
    await delay(IDLE_MS);
    const memory = memoryOf(server.child.pid);
    say(`${idler.name} idle: RSS ${mib(memory.rss)} MiB.`);
    return memory;
  } finally {
    await server?.child.stop();
    upstream.close();
  }
}

/** The idle part: dnsd, the target, unbound and the floor. */
export async function idlePart(setting: PartSetting): Promise<Part> {
  const notes: string[] = [];
  const readings = await measureEach(idlers, setting.run.stopping, notes, (idler) => idle(setting, idler));
  const [dnsd, unbound, floor, parts] = readings;
  const names = ["dnsd", "target", "unbound", "Deno floor", "dnsd's parts"];
  const rss = [dnsd?.rss, TARGET_BYTES, unbound?.rss, floor?.rss, parts?.rss];
  const peak = [dnsd?.peak, undefined, unbound?.peak, floor?.peak, parts?.peak];
  if (dnsd && floor) notes.push(`dnsd's own share over the floor: ${mib(dnsd.rss - floor.rss)} MiB.`);
  if (dnsd && parts) notes.push(`dnsd's own share over its parts: ${mib(dnsd.rss - parts.rss)} MiB.`);
  return {
    title: "Idle",
    table: partTable(`idle, ${IDLE_MS / 1000} s after start-up`, names, [
      { what: "RSS, MiB", values: rss, show: mib },
      { what: "peak RSS, MiB", values: peak, show: mib },
    ]),
    notes: [
      `Read ${IDLE_MS / 1000} s after each first answered a query (the floor: after it said "ready"), ` +
      "with no traffic meanwhile. dnsd: `--port` and `--upstream` only, everything else its defaults. " +
      "unbound: one thread, its own default cache sizes (`msg-cache-size` and `rrset-cache-size` 4m), " +
      'forward-zone "." to the same kind of fake upstream. Deno floor: `deno run bench/idle_floor.ts`, ' +
      "a script that only keeps a timer. dnsd's parts: `deno run bench/idle_parts.ts`, LogTape " +
      "configured, libc opened through FFI and one call made, a UDP socket and a TCP listener bound, " +
      "and no code of dnsd's own. Target: issue 19's 40 MiB for dnsd idle.",
      ...notes,
    ],
  };
}
