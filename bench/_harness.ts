/**
 * What the memory and soak benchmarks share: starting dnsd from this checkout with given flags,
 * reading a process's resident memory from /proc, writing large query files, and the run itself
 * (the script pinned to the client CPU, a temp folder, every child stopped by PID, also on
 * Ctrl-C, and the report written to bench/results/ as `deno fmt` wants it).
 * @module
 */
import { freePort, type Launcher, launcher, waitUntilAnswers } from "./_proc.ts";
import { CLIENT_CPU, type Server, SERVER_CPU } from "./_servers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const encoder = new TextEncoder();

/** Writes a progress line to stderr. */
export function say(text: string): void {
  const bytes = encoder.encode(`${text}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/** A whole number with thousands separators. */
export function whole(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Clock ticks per second (`getconf CLK_TCK`), the unit of CPU time in /proc/PID/stat. */
export async function clockTicks(): Promise<number> {
  const { stdout } = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
  return Number(new TextDecoder().decode(stdout).trim());
}

/** The machine, for a report: CPUs, model, kernel and load average. */
export async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const kernel = (await Deno.readTextFile("/proc/sys/kernel/osrelease")).trim();
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  // nproc alone would count only the CPUs this (pinned) process may use.
  const { stdout } = await new Deno.Command("nproc", { args: ["--all"], stdin: "null", stderr: "null" })
    .output();
  return `${new TextDecoder().decode(stdout).trim()} × ${model}, Linux ${kernel}, load average ${load}`;
}

/** A process's memory, in bytes, from /proc/PID/status. */
export interface Memory {
  /** Resident now (VmRSS). */
  readonly rss: number;
  /** The most it has been resident (VmHWM). */
  readonly peak: number;
}

/** Reads VmRSS and VmHWM of `pid`. */
export function memoryOf(pid: number): Memory {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!match) throw new Error(`No ${field} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** The command line of dnsd from this checkout on 127.0.0.1:`port` with `flags`. */
export function dnsdCommand(port: number, flags: readonly string[]): string[] {
  // As `deno task start` runs it: with FFI, so UDP is read in batches where it can be.
  const command = [Deno.execPath(), "run", "--allow-net", "--allow-read", "--allow-ffi", `${ROOT}main.ts`];
  return [...command, "--port", String(port), ...flags];
}

/**
 * Starts dnsd (`deno run --allow-net --allow-read --allow-ffi main.ts`) on the server CPU with `flags`, and
 * waits until it answers `probe`; tries a few fresh ports in case one is taken meanwhile.
 */
export async function startDnsd(
  processes: Launcher,
  flags: readonly string[],
  options: { readonly probe: string; readonly timeoutMs: number },
): Promise<Server> {
  let failure: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const child = processes.spawn("dnsd", dnsdCommand(port, flags), { cpu: SERVER_CPU, cwd: ROOT });
    try {
      await waitUntilAnswers(child, port, options.probe, options.timeoutMs);
      return { port, child };
    } catch (error) {
      failure = error;
      await child.stop();
    }
  }
  throw failure;
}

/** Writes a dnsperf query file, `NAME A` per line, for `name(0)` .. `name(count - 1)`. */
export async function writeQueryFile(
  path: string,
  count: number,
  name: (n: number) => string,
): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const CHUNK = 100_000;
  for (let from = 0; from < count; from += CHUNK) {
    let text = "";
    for (let n = from; n < Math.min(count, from + CHUNK); n++) text += `${name(n)} A\n`;
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  }
}

/** What a benchmark body gets. */
export interface Run {
  readonly launcher: Launcher;
  /** A temp folder, removed afterwards. */
  readonly work: string;
  /** Aborted on SIGINT or SIGTERM. */
  readonly stopping: AbortSignal;
}

/**
 * Runs `body` and writes the markdown it returns to `results` (and stdout); exits the process.
 * The script is pinned to the client CPU first; every child is stopped by PID whatever happens.
 */
export async function runBenchmark(results: URL, body: (run: Run) => Promise<string>): Promise<never> {
  // This script answers as the upstream, drains output and waits on dnsperf: keep it off dnsd's CPU.
  await new Deno.Command("taskset", {
    args: ["-a", "-c", "-p", String(CLIENT_CPU), String(Deno.pid)],
    stdout: "null",
    stderr: "null",
  }).output();
  const processes = launcher();
  const work = await Deno.makeTempDir({ prefix: "dnsd-bench-" });
  const stopping = new AbortController();
  const interrupt = (signal: Deno.Signal) => () => {
    if (stopping.signal.aborted) return;
    say(`\n${signal}: stopping every process...`);
    stopping.abort();
    processes.stopAll();
    Deno.unrefTimer(setTimeout(() => Deno.exit(130), 30_000)); // in case something still hangs
  };
  Deno.addSignalListener("SIGINT", interrupt("SIGINT"));
  Deno.addSignalListener("SIGTERM", interrupt("SIGTERM"));
  let text: string | undefined;
  try {
    text = await body({ launcher: processes, work, stopping: stopping.signal });
  } catch (error) {
    if (!stopping.signal.aborted) throw error;
  } finally {
    await processes.stopAll();
    await Deno.remove(work, { recursive: true });
  }
  if (text === undefined) Deno.exit(130);
  await Deno.mkdir(new URL(".", results), { recursive: true });
  await Deno.writeTextFile(results, text);
  // The file is checked in: keep it as `deno fmt` (part of `deno task check`) wants it.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", results.pathname],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).output();
  const bytes = encoder.encode(await Deno.readTextFile(results));
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  say(`Written to ${results.pathname}`);
  Deno.exit(0); // the signal listeners would keep the process alive
}
