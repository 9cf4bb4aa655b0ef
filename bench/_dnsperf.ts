/**
 * One dnsperf run against a server on 127.0.0.1, pinned to the client CPU, with the CPU time the
 * server used meanwhile (from /proc), and the parsing of dnsperf's statistics.
 * @module
 */
import { cpuTicks, delay, type Launcher } from "./_proc.ts";
import { CLIENT_CPU, type Server } from "./_servers.ts";

/** What one run measured. */
export interface Measure {
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  readonly qps: number;
  readonly latencyMs: number;
  /** dnsperf's "Response codes" line, e.g. `NOERROR 1000 (100.00%)`. */
  readonly rcodes: string;
  /** Server CPU time (user + system) per completed query, in microseconds. */
  readonly cpuUsPerAnswer: number;
}

/** How to run dnsperf. */
export interface PerfOptions {
  /** The query file: `name type` per line. */
  readonly file: string;
  /** The time limit in seconds (`-l`). */
  readonly seconds: number;
  /** A fixed rate in queries per second (`-Q`), or as fast as it can. */
  readonly rate?: number;
  /** Send the file once (`-n 1`) rather than loop over it. */
  readonly once?: boolean;
  /** The transport (`-m`); UDP when unset. */
  readonly mode?: "tcp" | "dot" | "doh";
  /** Long options (`-O name=value`), such as `doh-uri=https://127.0.0.1:8443/dns-query`. */
  readonly long?: readonly string[];
  /** Sockets (`-c`, default 4). */
  readonly clients?: number;
  /** Threads (`-T`, default 1). */
  readonly threads?: number;
  /** The CPU list dnsperf may run on (default the client CPU); `0-1` leaves it unpinned on two. */
  readonly cpu?: number | string;
}

/** How long dnsperf may run past its time limit (`-t` is 5 s) before it is stopped. */
const OVERRUN_MS = 30_000;

function field(text: string, label: string): number {
  const match = new RegExp(`${label.replace(/[()]/g, "\\$&")}:\\s+([0-9.]+)`).exec(text);
  if (!match) throw new Error(`No "${label}" in dnsperf's output:\n${text}`);
  return Number(match[1]);
}

/**
 * Parses the statistics dnsperf prints at the end of a run.
 * @param ticks the server's CPU clock ticks during the run; `hz` ticks per second
 */
export function parseDnsperf(text: string, ticks: number, hz: number): Measure {
  const completed = field(text, "Queries completed");
  return {
    sent: field(text, "Queries sent"),
    completed,
    lost: field(text, "Queries lost"),
    qps: field(text, "Queries per second"),
    latencyMs: field(text, "Average Latency (s)") * 1000,
    rcodes: /Response codes:\s+(.*)/.exec(text)?.[1]?.trim() ?? "",
    cpuUsPerAnswer: completed > 0 ? (ticks / hz) * 1e6 / completed : NaN,
  };
}

/** Runs dnsperf (on the client CPU unless told) against `server`, reading the server's CPU time before and after. */
export async function dnsperf(
  launcher: Launcher,
  server: Server,
  options: PerfOptions & { readonly hz: number },
): Promise<Measure> {
  const args = ["-s", "127.0.0.1", "-p", String(server.port), "-d", options.file];
  args.push(
    "-l",
    String(options.seconds),
    "-c",
    String(options.clients ?? 4),
    "-T",
    String(options.threads ?? 1),
  );
  if (options.rate !== undefined) args.push("-Q", String(options.rate));
  if (options.once) args.push("-n", "1");
  if (options.mode !== undefined) args.push("-m", options.mode);
  for (const option of options.long ?? []) args.push("-O", option);
  const before = cpuTicks(server.child.pid);
  const child = launcher.spawn("dnsperf", ["dnsperf", ...args], {
    cpu: options.cpu ?? CLIENT_CPU,
    collect: true,
  });
  const limit = options.seconds * 1000 + OVERRUN_MS;
  const code = await Promise.race([child.status, delay(limit).then(() => null)]);
  if (code === null) {
    await child.stop();
    throw new Error(`dnsperf ${args.join(" ")} did not finish within ${limit / 1000} s:\n${child.tail()}`);
  }
  const ticks = cpuTicks(server.child.pid) - before;
  const text = await child.output;
  if (code !== 0) throw new Error(`dnsperf ${args.join(" ")} failed (${code}):\n${text}${child.tail()}`);
  if (server.child.exited()) {
    throw new Error(`${server.child.name} exited during the run:\n${server.child.tail()}`);
  }
  return parseDnsperf(text, ticks, options.hz);
}
