/**
 * The authoritative servers of the memory benchmark's zone part: dnsd, NSD and Knot DNS, each
 * serving the same zone file from a folder of its own, pinned to the server CPU, on 127.0.0.1, and
 * stopped by PID. Each start is timed the same way: from spawning the process to the first correct
 * answer (the zone's own address) for the zone's last name, asked over UDP every {@link POLL_MS}.
 * @module
 */
import { decodeMessage } from "../lib/proto/mod.ts";
import { dnsdCommand } from "./_harness.ts";
import { type Child, delay, freePort, type Launcher, replyToA } from "./_proc.ts";
import { installed, KNOTD, NSD, nsdConf, type Server, startOnPort } from "./_servers.ts";

/** The pause between two probes of a starting server, in ms. */
export const POLL_MS = 5;
/**
 * How long one probe waits for its answer, in ms: short, since a probe sent before the port is open
 * never gets one; a load time is known to within about this plus {@link POLL_MS}.
 */
export const PROBE_MS = 25;

/** The zone every server is given. */
export interface ZoneFile {
  readonly origin: string;
  /** Absolute. */
  readonly path: string;
  /** The last name of the zone and its address: its answer tells that the whole file is loaded. */
  readonly last: { readonly name: string; readonly address: string };
}

/** What starting one server needs. */
export interface ZoneSetting {
  readonly launcher: Launcher;
  /** A folder of its own. */
  readonly work: string;
  readonly zone: ZoneFile;
  /** A fake upstream's port: dnsd is also a forwarder, and must not need one to answer the zone. */
  readonly upstream: number;
  readonly timeoutMs: number;
}

/** A server that has loaded its zone. */
export interface Loaded extends Server {
  /** Seconds from spawning it to its first correct answer for the zone's last name. */
  readonly loadS: number;
}

/** An authoritative server under test. */
export interface ZoneServer {
  readonly name: string;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  start(setting: ZoneSetting): Promise<Loaded>;
  /** Its own account of the load time, in seconds, read from its output (dnsd's log), if it gives one. */
  loggedLoadS?(output: string): number;
}

/** The first A address 127.0.0.1:`port` answers for `name` within `ms`, or null. */
async function addressOf(port: number, name: string, ms: number): Promise<string | null> {
  const reply = await replyToA(port, name, ms);
  if (!reply) return null;
  try {
    const message = decodeMessage(reply);
    const data = message.response
      ? message.answers.find((record) => record.data.type === "A")?.data
      : undefined;
    return data?.type === "A" ? data.address : null;
  } catch {
    return null; // an undecodable reply
  }
}

/** Waits until `child` answers the zone's last name correctly; throws with its output if it exits or is late. */
async function untilLoaded(child: Child, port: number, setting: ZoneSetting): Promise<void> {
  const { name, address } = setting.zone.last;
  const deadline = Date.now() + setting.timeoutMs;
  while (!child.exited() && Date.now() < deadline) {
    if (await addressOf(port, name, PROBE_MS) === address) return;
    await delay(POLL_MS);
  }
  const why = child.exited() ? `exited (${await child.status})` : `did not answer ${name} with ${address}`;
  throw new Error(`${child.name} on 127.0.0.1:${port} ${why}:\n${child.tail()}`);
}

/** Starts `command(port)` on the server CPU and times it until it has loaded the zone. */
async function startTimed(
  setting: ZoneSetting,
  name: string,
  command: (port: number) => readonly string[] | Promise<readonly string[]>,
): Promise<Loaded> {
  let spawned = 0;
  const server = await startOnPort(setting.launcher, name, async (port) => {
    const line = await command(port); // the configuration is written before the clock starts
    spawned = performance.now();
    return line;
  }, { port: freePort, ready: (child, port) => untilLoaded(child, port, setting) });
  return { ...server, loadS: (performance.now() - spawned) / 1000 };
}

/** The time of the first log line containing `text`, in ms (`2024-09-18 13:58:35,001 - INFO - ...`). */
function loggedAt(log: string, text: string): number {
  const line = log.split("\n").find((line) => line.includes(text));
  const match = line && /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) /.exec(line);
  if (!match) throw new Error(`No log line with "${text}" in dnsd's output:\n${log}`);
  return new Date(`${match[1]}T${match[2]}.${match[3]}`).getTime();
}

/** dnsd from this checkout, `--zone FILE`, logging at info (its own load time is read from the log). */
export const dnsdZone: ZoneServer = {
  name: "dnsd",
  missing: () => null,
  start: (setting) =>
    startTimed(setting, "dnsd", (port) =>
      dnsdCommand(port, [
        "--zone",
        setting.zone.path,
        "--upstream",
        `127.0.0.1:${setting.upstream}`,
        "--log-level",
        "info",
      ])),
  loggedLoadS: (log) => (loggedAt(log, "Loaded local data") - loggedAt(log, "DNS server is starting")) / 1000,
};

/** NSD as the load benchmark configures it (one server process, no database file), in the foreground. */
export const nsdZone: ZoneServer = {
  name: "NSD",
  missing: () => installed(NSD) ? null : `${NSD} is not installed`,
  start: (setting) =>
    startTimed(setting, "nsd", async (port) => {
      const conf = `${setting.work}/nsd.conf`;
      await Deno.writeTextFile(
        conf,
        nsdConf(setting.work, port, { name: setting.zone.origin, file: setting.zone.path }),
      );
      return [NSD, "-d", "-c", conf];
    }),
};

/**
 * knot.conf: one worker of each kind (as NSD and unbound get one), the zone loaded whole from its
 * file, no journal, never written back, not signed; its storage and control socket in `work`.
 */
function knotConf(work: string, port: number, zone: ZoneFile): string {
  return `server:
  rundir: "${work}"
  listen: 127.0.0.1@${port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
database:
  storage: "${work}"
log:
  - target: stderr
    any: notice
zone:
  - domain: ${zone.origin}
    file: "${zone.path}"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
`;
}

/** Knot DNS (knotd), in the foreground. */
export const knotZone: ZoneServer = {
  name: "Knot",
  missing: () => installed(KNOTD) ? null : `${KNOTD} is not installed`,
  start: (setting) =>
    startTimed(setting, "knotd", async (port) => {
      const conf = `${setting.work}/knot.conf`;
      await Deno.writeTextFile(conf, knotConf(setting.work, port, setting.zone));
      return [KNOTD, "-c", conf];
    }),
};
