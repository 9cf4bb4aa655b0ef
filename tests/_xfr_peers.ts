/**
 * BIND, Knot and NSD as zone-transfer peers of dnsd, behind one interface: each as a primary that
 * serves a zone (AXFR, IXFR from the differences between versions, NOTIFY on change) or as a
 * secondary that takes one, with or without TSIG. Each runs in the foreground on a free loopback
 * port with everything in a temporary folder, and is stopped by PID.
 *
 * @example
 * ```ts
 * const secondaryPort = freeUdpPort();
 * const primary = await startPrimary("nsd", { zone: "example.", zoneText, notify: [secondaryPort] });
 * const secondary = await startSecondary("bind", { zone: "example.", primaryPort: primary.port, port: secondaryPort });
 * await waitForSerial(secondary, 1, 10_000);
 * ```
 * @module
 */
import { BIND_TOOLS, prepareBindPrimary, prepareBindSecondary } from "./_bind.ts";
import { KNOT_TOOLS, prepareKnotPrimary, prepareKnotSecondary } from "./_knot.ts";
import { NSD_TOOLS, prepareNsdPrimary, prepareNsdSecondary } from "./_nsd_xfr.ts";
import {
  launchPeer,
  type PeerKind,
  type Prepared,
  type PrimaryOptions,
  type RunningPeer,
  type SecondaryOptions,
  type TsigKeySpec,
} from "./_xfr_peer_process.ts";

export type {
  PeerKind,
  PrimaryOptions,
  RunningPeer,
  SecondaryOptions,
  TsigKeySpec,
} from "./_xfr_peer_process.ts";

const POLL_MS = 100;

interface Peer {
  readonly daemon: string;
  readonly logFile: string;
  readonly tools: readonly string[];
  primary(work: string, port: number, options: PrimaryOptions): Promise<Prepared>;
  secondary(work: string, port: number, options: SecondaryOptions): Promise<Prepared>;
}

const PEERS: { readonly [K in PeerKind]: Peer } = {
  bind: {
    daemon: "named",
    logFile: "named.log",
    tools: BIND_TOOLS,
    primary: prepareBindPrimary,
    secondary: prepareBindSecondary,
  },
  knot: {
    daemon: "knotd",
    logFile: "knot.log",
    tools: KNOT_TOOLS,
    primary: prepareKnotPrimary,
    secondary: prepareKnotSecondary,
  },
  nsd: {
    daemon: "nsd",
    logFile: "nsd.log",
    tools: NSD_TOOLS,
    primary: prepareNsdPrimary,
    secondary: prepareNsdSecondary,
  },
};

/** The tools a peer of `kind` needs, for `needsTools` (e.g. `["named", "rndc"]`). */
export function peerTools(kind: PeerKind): readonly string[] {
  return PEERS[kind].tools;
}

/** Starts a `kind` primary of `options.zone`; resolves once it answers the zone's SOA. */
export function startPrimary(kind: PeerKind, options: PrimaryOptions): Promise<RunningPeer> {
  const { daemon, logFile, primary } = PEERS[kind];
  return launchPeer({
    kind,
    zone: options.zone,
    daemon,
    logFile,
    zoneText: options.zoneText,
    ...(options.port === undefined ? {} : { port: options.port }),
    prepare: (work, port) => primary(work, port, options),
  });
}

/** Starts a `kind` secondary of `options.zone`; resolves once it answers at all (it may still be transferring). */
export function startSecondary(kind: PeerKind, options: SecondaryOptions): Promise<RunningPeer> {
  const { daemon, logFile, secondary } = PEERS[kind];
  return launchPeer({
    kind,
    zone: options.zone,
    daemon,
    logFile,
    ...(options.port === undefined ? {} : { port: options.port }),
    prepare: (work, port) => secondary(work, port, options),
  });
}

/** Polls `peer` until it serves `serial` for its zone; fails after `ms` with the peer's log. */
export async function waitForSerial(peer: RunningPeer, serial: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let seen: number | null = null;
  while (Date.now() < deadline) {
    seen = await peer.serial();
    if (seen === serial) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(
    `${peer.kind} on port ${peer.port} serves serial ${seen} after ${ms} ms, not ${serial}; its log:\n${await peer
      .log()}`,
  );
}

/**
 * Runs a pair's test again, once, when a port picked for it before its first daemon started was taken
 * by the time another bound it ("address already in use"): a pair needs each other's ports up front.
 */
export async function retryOnPortClash<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // Knot says "address already in use", NSD "Address already in use", BIND "address in use".
    const message = String(error instanceof Error ? error.message : error).toLowerCase();
    if (!/address (already )?in use/.test(message)) throw error;
    return await run();
  }
}

/** The TSIG key the transfer interop tests sign with (hmac-sha256). */
export const XFR_KEY: TsigKeySpec = {
  name: "xfr-key",
  algorithm: "hmac-sha256",
  secret: "kxHhTuxg5qLbC6IgbUCVdZgCOvt5c8ENH8+p9rlo1s8=",
};

/** Records of types newer than RFC 1035 for a transferred zone: peers must keep them as sent. */
export const MORE_TYPES = `hinfo HINFO "PC-Intel-700mhz" "Linux 2.4"
naptr NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .
_443._tcp.www TLSA 3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6
sshfp SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
_ftp._tcp URI 10 1 "ftp://ftp1.example.com/public"
moved DNAME example.net.
`;

/** Questions for the {@link MORE_TYPES} records of `zone`, a name below its DNAME included. */
export function moreTypesQuestions(zone: string): readonly (readonly [string, string])[] {
  return [
    [`hinfo.${zone}`, "HINFO"],
    [`naptr.${zone}`, "NAPTR"],
    [`_443._tcp.www.${zone}`, "TLSA"],
    [`sshfp.${zone}`, "SSHFP"],
    [`_ftp._tcp.${zone}`, "URI"],
    [`moved.${zone}`, "DNAME"],
    [`host.moved.${zone}`, "A"],
  ];
}

/**
 * A test zone at `serial`: its A record changes with each version, so an IXFR has a change to carry;
 * `extra` lines (a record that comes and goes, a delegation) end it.
 */
export function versionedZone(zone: string, serial: number, extra = ""): string {
  return `$ORIGIN ${zone.endsWith(".") ? zone : `${zone}.`}
$TTL 300
@    SOA ns1 hostmaster ${serial} 60 5 3600 60
@    NS  ns1
ns1  A   127.0.0.1
www  A   192.0.2.${serial}
${extra}same TXT "kept in every version"
`;
}
