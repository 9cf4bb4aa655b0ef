/**
 * What the zone-transfer peers (BIND, Knot, NSD) share: the options a test gives, the handle it
 * gets back, and one launcher that runs a peer in the foreground in a fresh temporary folder on a
 * free loopback port, waits until it answers, and stops it by PID. Each peer's own file only
 * writes its configuration and names its control commands.
 * @module
 */
import { decodeMessage, Rcode, RRType } from "../lib/proto/mod.ts";
import { spawnForeground } from "./_nsd.ts";
import { findTool, runTool } from "./_tools.ts";
import { exchange, freeUdpPort, queryBytes } from "./_udp_client.ts";

const START_TIMEOUT_MS = 10_000;
const PROBE_MS = 200;
const CONTROL_MS = 10_000;

/** The DNS servers the transfer tests run beside dnsd. */
export type PeerKind = "bind" | "knot" | "nsd";

/** A TSIG key (RFC 8945), as all three peers spell it in their configuration. */
export interface TsigKeySpec {
  readonly name: string;
  readonly algorithm: "hmac-sha256" | "hmac-sha512" | "hmac-sha1";
  /** Base64. */
  readonly secret: string;
}

/**
 * A peer serving `zone` from `zoneText`, giving transfers (AXFR, and IXFR from the differences
 * between versions it loaded) to 127.0.0.1, only TSIG-signed when `tsig` is given.
 */
export interface PrimaryOptions {
  readonly zone: string;
  readonly zoneText: string;
  /** Ports on 127.0.0.1 to NOTIFY when the zone loads or changes (signed with `tsig`). */
  readonly notify?: readonly number[];
  readonly tsig?: TsigKeySpec;
  /**
   * Listen here (a port from `freeUdpPort()`) rather than on a fresh port: for a pair where each
   * side must know the other's port before it starts. A clash on it is not retried.
   */
  readonly port?: number;
}

/**
 * A peer taking `zone` from 127.0.0.1:`primaryPort` (IXFR preferred, requests signed with `tsig`)
 * and accepting NOTIFY from 127.0.0.1 (signed with `tsig` when given).
 */
export interface SecondaryOptions {
  readonly zone: string;
  readonly primaryPort: number;
  readonly tsig?: TsigKeySpec;
  /** As {@link PrimaryOptions.port}. */
  readonly port?: number;
}

/** A running peer, serving UDP and TCP on 127.0.0.1:`port`. */
export interface RunningPeer {
  readonly kind: PeerKind;
  readonly port: number;
  /** Primary only: writes a new zone text (with a higher serial), makes the peer load it and NOTIFY. */
  updateZone?(zoneText: string): Promise<void>;
  /** Secondary only: makes the peer check the primary's serial now and transfer when it is newer. */
  refresh?(): Promise<void>;
  /** The zone's SOA serial the peer answers over UDP now; null for any other answer or none. */
  serial(): Promise<number | null>;
  /** The peer's log (and whatever it wrote to stderr), for assertion messages. */
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL after a bounded wait; removes the peer's temporary folder. */
  stop(): Promise<void>;
}

/** What a peer's configuration step gives the launcher for one start attempt. */
export interface Prepared {
  /** The daemon's arguments. */
  readonly args: readonly string[];
  /** The control command that reloads the zone file and sends NOTIFY (primary). */
  readonly reload?: () => Promise<void>;
  /** The control command that refreshes the zone from the primary (secondary). */
  readonly refresh?: () => Promise<void>;
}

/** How to run one peer in one role. */
export interface PeerSetup {
  readonly kind: PeerKind;
  readonly zone: string;
  /** The daemon, found on PATH or in the sbin folders. */
  readonly daemon: string;
  /** The daemon's own log file, inside its folder. */
  readonly logFile: string;
  /** The zone text a primary serves, written to `ZONE_FILE` in its folder; none for a secondary. */
  readonly zoneText?: string;
  readonly port?: number;
  /** Writes the configuration into `work` for a daemon listening on `port`. */
  prepare(work: string, port: number): Promise<Prepared>;
}

/** Where a primary's zone file lives in its folder (secondaries keep theirs as `secondary.zone`). */
export const ZONE_FILE = "primary.zone";

/** A random base64 secret of 32 octets, for a control channel's key. */
export function randomSecret(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/** Runs a control tool (rndc, knotc, nsd-control), failing with its output unless it exits 0. */
export async function control(tool: string, args: readonly string[]): Promise<void> {
  await runTool(tool, args, CONTROL_MS);
}

/** The SOA serial 127.0.0.1:`port` answers for `zone` over UDP, or null (no SOA, an error rcode, no reply). */
export async function soaSerial(port: number, zone: string, ms = 1_000): Promise<number | null> {
  const reply = await exchange(port, queryBytes(zone, RRType.SOA, { recursionDesired: false }), ms);
  if (reply === null) return null;
  const message = decodeMessage(reply);
  if (message.rcode !== Rcode.NOERROR) return null;
  const soa = message.answers.find((record) => record.data.type === "SOA");
  return soa?.data.type === "SOA" ? soa.data.serial : null;
}

/**
 * Writes a zone file with a modification time later than any it had before: BIND and NSD reload a
 * zone only when its file looks newer, and two versions may be written within one second.
 */
function zoneWriter(path: string): (text: string) => Promise<void> {
  let last = 0;
  return async function writeZone(text) {
    await Deno.writeTextFile(path, text);
    last = Math.max(Math.floor(Date.now() / 1000) + 1, last + 1);
    await Deno.utime(path, last, last);
  };
}

/** Keeps what a child writes to stderr, until `close()` (which never waits on the child). */
function keepStderr(child: Deno.ChildProcess): { text(): string; close(): Promise<void> } {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const pump = (async () => {
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    } catch {
      // cancelled by close()
    }
  })();
  return {
    text: () => text,
    async close() {
      // A forked child (NSD's xfrd) may hold the pipe after the parent died: cancel, don't wait.
      await reader.cancel().catch(() => {});
      await pump;
    },
  };
}

/**
 * Starts the peer `setup` describes, in the foreground, in a fresh temporary folder; resolves once
 * it answers: a primary with its zone's SOA, a secondary with anything (it may still be
 * transferring). A start that fails (a port taken meanwhile) is retried on another port, twice,
 * unless the caller chose the port.
 */
export async function launchPeer(setup: PeerSetup): Promise<RunningPeer> {
  const work = await Deno.makeTempDir({ prefix: `dnsd_${setup.kind}_` });
  const writeZone = zoneWriter(`${work}/${ZONE_FILE}`);
  if (setup.zoneText !== undefined) await writeZone(setup.zoneText);
  const daemon = findTool(setup.daemon) ?? `/usr/sbin/${setup.daemon}`;
  const primary = setup.zoneText !== undefined;
  let lastError = "";
  for (let attempt = 0; attempt < (setup.port === undefined ? 3 : 1); attempt++) {
    const port = setup.port ?? freeUdpPort();
    const prepared = await setup.prepare(work, port);
    const peer = spawnForeground(daemon, prepared.args, { cwd: work, stderr: "piped" });
    const stderr = keepStderr(peer.child);
    const log = async () => {
      const file = await Deno.readTextFile(`${work}/${setup.logFile}`).catch(() => "(no log file)");
      return `${file}${stderr.text() ? `\n--- stderr ---\n${stderr.text()}` : ""}`;
    };
    const stop = async () => {
      try {
        await peer.stop();
      } finally {
        await stderr.close();
      }
    };
    const deadline = Date.now() + START_TIMEOUT_MS;
    let ready = false;
    while (!peer.exited() && !ready && Date.now() < deadline) {
      ready = primary
        ? (await soaSerial(port, setup.zone, PROBE_MS)) !== null
        : (await exchange(port, queryBytes(setup.zone, RRType.SOA), PROBE_MS)) !== null;
      if (!ready && primary) await new Promise((resolve) => setTimeout(resolve, PROBE_MS));
    }
    if (ready) return running(setup, { port, work, prepared, writeZone, log, stop });
    await stop();
    lastError = `${setup.daemon} on port ${port} ${
      peer.exited() ? `exited (${await peer.code})` : "never answered"
    }:\n${await log()}`;
  }
  await Deno.remove(work, { recursive: true });
  throw new Error(`Cannot start ${setup.kind} for ${setup.zone}: ${lastError}`);
}

interface Started {
  readonly port: number;
  readonly work: string;
  readonly prepared: Prepared;
  readonly writeZone: (text: string) => Promise<void>;
  readonly log: () => Promise<string>;
  readonly stop: () => Promise<void>;
}

function running(setup: PeerSetup, started: Started): RunningPeer {
  const { port, work, prepared, writeZone, log, stop } = started;
  const { reload, refresh } = prepared;
  return {
    kind: setup.kind,
    port,
    ...(reload
      ? {
        async updateZone(zoneText: string) {
          await writeZone(zoneText);
          await reload();
        },
      }
      : {}),
    ...(refresh ? { refresh } : {}),
    serial: () => soaSerial(port, setup.zone),
    log,
    async stop() {
      try {
        await stop();
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    },
  };
}
