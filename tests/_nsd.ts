/**
 * Real DNS software for interop tests: NSD started in the foreground on a free loopback port and
 * stopped by PID, and dig and kdig driven with one try and a bounded wait.
 * @module
 */
import assert from "node:assert/strict";
import { RRType } from "../lib/proto/types.ts";
import { findTool, needsTool, runTool } from "./_tools.ts";
import { exchange, freeUdpPort, queryBytes } from "./_udp_client.ts";

const NSD_START_TIMEOUT_MS = 10_000;
const NSD_STOP_TIMEOUT_MS = 5_000;

/** Test fields for a test needing every tool in `tools` (see {@link needsTool}). */
export function needsTools(tools: readonly string[], name: string): { name: string; ignore: boolean } {
  for (const tool of tools) {
    const fields = needsTool(tool, name);
    if (fields.name !== name) return fields;
  }
  return { name, ignore: false };
}

/** A zone NSD serves: its name and its file, relative to the zones folder. */
export interface NsdZone {
  readonly name: string;
  readonly file: string;
  /** The zone's text, written to `file` first; without it the file must already be there. */
  readonly text?: string;
}

/** A running NSD. */
export interface Nsd {
  readonly port: number;
  /** SIGTERM, then SIGKILL if it lingers; waits for the exit. */
  stop(): Promise<void>;
}

/**
 * NSD's `server:` clause for a daemon on 127.0.0.1:`port`, as the current user, with no database
 * and its state, pid and log in `work` (plus the `extra` lines, one a line).
 */
export function nsdServerClause(
  work: string,
  zonesDir: string,
  port: number,
  extra: readonly string[] = [],
): string {
  return `server:
    ip-address: 127.0.0.1@${port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "${zonesDir}"
    database: ""
    zonelistfile: "${work}/zone.list"
    xfrdfile: "${work}/xfrd.state"
    xfrdir: "${work}"
    pidfile: "${work}/nsd.pid"
    logfile: "${work}/nsd.log"
    server-count: 1
    verbosity: 1
    hide-version: yes
${extra.map((line) => `    ${line}\n`).join("")}`;
}

function nsdConf(work: string, zonesDir: string, port: number, options: NsdOptions): string {
  return `${nsdServerClause(work, zonesDir, port, options.server)}remote-control:
    control-enable: no
${options.zones.map(({ name, file }) => `zone:\n    name: "${name}"\n    zonefile: "${file}"\n`).join("")}`;
}

/** Stops `child` by PID: SIGTERM, then SIGKILL after a bounded wait. */
export async function stopProcess(child: Deno.ChildProcess, exited: () => boolean): Promise<void> {
  if (exited()) return;
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((
    resolve,
  ) => (timer = setTimeout(() => resolve("late"), NSD_STOP_TIMEOUT_MS)));
  try {
    if ((await Promise.race([child.status, late])) === "late") {
      child.kill("SIGKILL");
      await child.status;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A daemon running in the foreground, its exit tracked. */
export interface Foreground {
  readonly child: Deno.ChildProcess;
  /** Whether it has exited yet. */
  exited(): boolean;
  /** Its exit code, once it exits. */
  readonly code: Promise<number>;
  /** See {@link stopProcess}. */
  stop(): Promise<void>;
}

/** Spawns `path` with `args` in `cwd`, stdin and stdout closed, stderr closed unless piped. */
export function spawnForeground(
  path: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly stderr?: "null" | "piped" } = {},
): Foreground {
  const child = new Deno.Command(path, {
    args: [...args],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: "null",
    stdout: "null",
    stderr: options.stderr ?? "null",
  }).spawn();
  let exited = false;
  const code = child.status.then((status) => {
    exited = true;
    return status.code;
  });
  return { child, exited: () => exited, code, stop: () => stopProcess(child, () => exited) };
}

/**
 * Starts NSD in the foreground on a free loopback port, serving `zones` from `zonesDir`, with its
 * configuration, log and state in `work`; resolves once it answers the first zone's SOA.
 * NSD reads a zone file's relative `$INCLUDE` from its working directory, which it sets to
 * `zonesdir` (NSD 4.6); it is also started there, for versions that do not. The caller stops it
 * (prefer {@link withNsd}, which also cleans up, when the NSD lives within one function).
 */
export async function startNsd(work: string, zonesDir: string, options: NsdOptions): Promise<Nsd> {
  const probe = queryBytes(options.zones[0]!.name, RRType.SOA, { recursionDesired: false });
  let lastError = "";
  // A port free for UDP a moment ago may be taken (for TCP too) by now: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freeUdpPort();
    const conf = `${work}/nsd.conf`;
    await Deno.writeTextFile(conf, nsdConf(work, zonesDir, port, options));
    const nsd = spawnForeground(findTool("nsd") ?? "/usr/sbin/nsd", ["-d", "-c", conf], { cwd: zonesDir });
    const deadline = Date.now() + NSD_START_TIMEOUT_MS;
    let ready = false;
    while (!nsd.exited() && !ready && Date.now() < deadline) {
      ready = (await exchange(port, probe, 200)) !== null;
    }
    if (ready) return { port, stop: nsd.stop };
    await nsd.stop();
    const log = await Deno.readTextFile(`${work}/nsd.log`).catch(() => "(no log)");
    lastError = `nsd on port ${port} ${
      nsd.exited() ? `exited (${await nsd.code})` : "never answered"
    }:\n${log}`;
  }
  throw new Error(`Cannot start NSD: ${lastError}`);
}

/** Where {@link withNsd} finds its zones. */
export interface NsdOptions {
  readonly zones: readonly NsdZone[];
  /** The zones folder (default: NSD's own temporary folder, where zones with a `text` are written). */
  readonly zonesDir?: string;
  /** More `server:` clauses, one a line (`minimal-responses: yes`). */
  readonly server?: readonly string[];
}

/**
 * Runs `fn` against an NSD (see {@link startNsd}) whose configuration, log and state live in a
 * fresh temporary folder; always stops NSD and removes that folder.
 */
export async function withNsd(options: NsdOptions, fn: (nsd: Nsd) => Promise<void>): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "dnsd_nsd_" });
  try {
    const zonesDir = options.zonesDir ?? work;
    for (const { file, text } of options.zones) {
      if (text !== undefined) await Deno.writeTextFile(`${zonesDir}/${file}`, text);
    }
    const nsd = await startNsd(work, zonesDir, options);
    try {
      await fn(nsd);
    } finally {
      await nsd.stop();
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// dig and kdig

/** What dig and kdig print, reduced to what the tests compare. */
export interface ToolAnswer {
  readonly status: string;
  readonly flags: string;
  /** Records with single spaces between fields: `example.com. 300 IN A 8.8.8.8`. */
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  /** Whether the reply had an OPT record. */
  readonly edns: boolean;
  readonly text: string;
}

function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line === `;; ${title} SECTION:`);
  if (start < 0) return [];
  const records: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    records.push(line.trim().split(/\s+/).join(" "));
  }
  return records;
}

/** Parses dig's or kdig's default output (`status: X` and `flags: ...;` / `Flags: ...;`). */
export function parseToolOutput(text: string): ToolAnswer {
  const status = /status: ([A-Z]+)/.exec(text)?.[1];
  const flags = /^;; [Ff]lags: ([a-z ]*);/m.exec(text)?.[1];
  assert.ok(status !== undefined && flags !== undefined, `no header in:\n${text}`);
  return {
    status,
    flags: flags.trim(),
    answer: section(text, "ANSWER"),
    authority: section(text, "AUTHORITY"),
    additional: section(text, "ADDITIONAL"),
    edns: /^;; (OPT|EDNS) PSEUDOSECTION:/m.test(text),
    text,
  };
}

/** `dig` at 127.0.0.1:`port` with one try and a short wait, ignoring any ~/.digrc. */
export async function dig(port: number, ...args: string[]): Promise<ToolAnswer> {
  return parseToolOutput(
    await runTool("dig", ["-r", "@127.0.0.1", "-p", String(port), "+time=2", "+tries=1", ...args]),
  );
}

/** `kdig` at 127.0.0.1:`port` with one try and a short wait. */
export async function kdig(port: number, ...args: string[]): Promise<ToolAnswer> {
  return parseToolOutput(
    await runTool("kdig", ["@127.0.0.1", "-p", String(port), "+timeout=2", "+retry=0", ...args]),
  );
}
