/**
 * What the parts of the memory benchmark (bench/memory.ts) share: their time bounds, one pass of
 * dnsperf that must be answered in full, and the markdown of a part: a table of rows, each with a
 * value per server and dnsd's ratio to each peer.
 * @module
 */
import { dnsperf, type Measure } from "./_dnsperf.ts";
import { clockTicks, type Run, say } from "./_harness.ts";
import type { Launcher } from "./_proc.ts";
import type { Server } from "./_servers.ts";

/** A bound on each dnsperf run, in seconds. */
export const RUN_LIMIT_S = 900;
/** How long a server may take to start (a cold `deno run` compiles first; a zone is parsed first). */
export const START_TIMEOUT_MS = 300_000;
/** How long memory is left to settle before a reading. */
export const SETTLE_MS = 10_000;

/** What a part gets: the run, and how many cached entries or zone records to measure. */
export interface PartSetting {
  readonly run: Run;
  readonly entries: number;
  readonly records: number;
}

/** What a part reports. */
export interface Part {
  readonly title: string;
  readonly table: string;
  /** Lines said under the table: how it was measured, and what was checked. */
  readonly notes: readonly string[];
}

/** Sends `file` once through dnsperf; throws unless every query got NOERROR. */
export async function sendOnce(processes: Launcher, server: Server, file: string): Promise<Measure> {
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

/** One row of a part's table: a value per server (in the table's order), or none where it has none. */
export interface Row {
  readonly what: string;
  readonly values: readonly (number | undefined)[];
  /** How a value is written (MiB, seconds, a count); a note after it, such as which process. */
  readonly show: (value: number, server: number) => string;
}

/** `a / b` as `1.23×`, or empty where either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || !(b > 0) ? "" : `${(a / b).toFixed(2)}×`;
}

/**
 * A markdown table: the first server is dnsd, then a column per peer, then dnsd's ratio to each
 * peer (for memory and time, below 1 is dnsd using less).
 */
export function partTable(corner: string, servers: readonly string[], rows: readonly Row[]): string {
  const [first, ...peers] = servers;
  const head = [corner, ...servers, ...peers.map((peer) => `${first} / ${peer}`)];
  const lines = [`| ${head.join(" | ")} |`, `| --- |${" ---: |".repeat(head.length - 1)}`];
  for (const { what, values, show } of rows) {
    const cells = servers.map((_, i) => {
      const value = values[i];
      return value === undefined ? "" : show(value, i);
    });
    const ratios = peers.map((_, i) => ratio(values[0], values[i + 1]));
    lines.push(`| ${[what, ...cells, ...ratios].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** A server a part measures: its name, and why it cannot run here (or null). */
export interface Measurable {
  readonly name: string;
  missing(): string | null;
}

/**
 * Measures each of `servers` in turn, in order: a server that cannot run here, or whose
 * measurement fails, has no result (undefined) and a line saying why in `notes`; `measure` adds its
 * own lines for the rest.
 */
export async function measureEach<S extends Measurable, R>(
  servers: readonly S[],
  stopping: AbortSignal,
  notes: string[],
  measure: (server: S) => Promise<R>,
): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = [];
  for (const server of servers) {
    const missing = server.missing();
    if (missing !== null) {
      notes.push(`${server.name} not measured: ${missing}.`);
      results.push(undefined);
      continue;
    }
    try {
      results.push(await measure(server));
    } catch (error) {
      stopping.throwIfAborted(); // the failure was the interruption
      notes.push(`${server.name} failed: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
      say(String(error));
      results.push(undefined);
    }
  }
  return results;
}
