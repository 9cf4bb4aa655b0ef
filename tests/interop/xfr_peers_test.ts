/**
 * The zone-transfer peer launchers (tests/_xfr_peers.ts) proved among themselves, without dnsd:
 * each kind is a primary once and a secondary of an NSD or BIND primary at least once, without and
 * with TSIG. The secondary must take the zone, the primary must answer an IXFR for the previous
 * serial incrementally once it has loaded a new version (and, with a key, refuse an unsigned
 * AXFR), and its NOTIFY must bring the secondary to that version.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { needsTools } from "../_nsd.ts";
import { runTool } from "../_tools.ts";
import { freeUdpPort } from "../_udp_client.ts";
import {
  type PeerKind,
  peerTools,
  retryOnPortClash,
  type RunningPeer,
  startPrimary,
  startSecondary,
  type TsigKeySpec,
  versionedZone,
  waitForSerial,
  XFR_KEY,
} from "../_xfr_peers.ts";

const ZONE = "xfr.test.";
/** How long a secondary may take to follow a NOTIFY (or to take the zone at its start). */
const FOLLOW_MS = 10_000;
const KEY = XFR_KEY;

function zoneText(serial: number): string {
  return versionedZone(ZONE, serial);
}

/**
 * The answer of `dig <type>` at the primary (signed with `tsig`), one record a line. An incremental
 * answer's second record is the SOA of the version it starts from (RFC 1995 section 4); an
 * AXFR-style one's is not. A refused transfer has none.
 */
async function transferAnswer(port: number, type: string, tsig: TsigKeySpec | undefined): Promise<string[]> {
  const key = tsig ? ["-y", `${tsig.algorithm}:${tsig.name}:${tsig.secret}`] : [];
  const text = await runTool("dig", [
    "-r",
    "@127.0.0.1",
    "-p",
    String(port),
    "+time=2",
    "+tries=1",
    "+noall",
    "+answer",
    ...key,
    ZONE,
    type,
  ]);
  // dig's own notes (`; Transfer failed.`) are comments, not records.
  const records = text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith(";"));
  return records.map((line) => line.trim().split(/\s+/).join(" "));
}

async function stopAll(peers: readonly (RunningPeer | undefined)[]): Promise<void> {
  await Promise.allSettled(peers.map((peer) => peer?.stop()));
}

/** One primary/secondary pair through a first transfer and one NOTIFY-driven update. */
async function transferPair(
  primaryKind: PeerKind,
  secondaryKind: PeerKind,
  tsig?: TsigKeySpec,
): Promise<void> {
  // The primary must know where to NOTIFY before the secondary exists: the secondary's port is picked first.
  const secondaryPort = freeUdpPort();
  let primary: RunningPeer | undefined;
  let secondary: RunningPeer | undefined;
  try {
    primary = await startPrimary(primaryKind, {
      zone: ZONE,
      zoneText: zoneText(1),
      notify: [secondaryPort],
      ...(tsig ? { tsig } : {}),
    });
    secondary = await startSecondary(secondaryKind, {
      zone: ZONE,
      primaryPort: primary.port,
      port: secondaryPort,
      ...(tsig ? { tsig } : {}),
    });
    await waitForSerial(secondary, 1, FOLLOW_MS);

    await primary.updateZone!(zoneText(2));
    await waitForSerial(primary, 2, FOLLOW_MS);
    const ixfr = await transferAnswer(primary.port, "IXFR=1", tsig);
    assert.match(
      ixfr[1] ?? "",
      / SOA .* 1 60 5 3600 60$/,
      `${primaryKind} answered IXFR=1 with:\n${ixfr.join("\n")}`,
    );
    if (tsig) {
      const unsigned = await transferAnswer(primary.port, "AXFR", undefined);
      assert.deepEqual(unsigned, [], `${primaryKind} gave an unsigned AXFR:\n${unsigned.join("\n")}`);
    }
    await waitForSerial(secondary, 2, FOLLOW_MS);
  } catch (error) {
    const logs = await Promise.all([primary, secondary].map((peer) => peer?.log() ?? "(not started)"));
    throw new Error(
      `${primaryKind} -> ${secondaryKind}: ${error instanceof Error ? error.message : error}\n` +
        `--- primary log ---\n${logs[0]}\n--- secondary log ---\n${logs[1]}`,
    );
  } finally {
    await stopAll([secondary, primary]);
  }
}

const PAIRS: readonly (readonly [PeerKind, PeerKind])[] = [
  ["nsd", "bind"],
  ["bind", "knot"],
  ["knot", "nsd"],
  ["bind", "nsd"],
];

for (const [primaryKind, secondaryKind] of PAIRS) {
  for (const tsig of [undefined, KEY]) {
    const name = `${primaryKind} primary -> ${secondaryKind} secondary${
      tsig ? " (TSIG hmac-sha256)" : ""
    }: AXFR at start, IXFR served, NOTIFY brings the next serial`;
    test({
      ...needsTools([...peerTools(primaryKind), ...peerTools(secondaryKind), "dig"], name),
      timeoutMs: 30_000,
      fn: () => retryOnPortClash(() => transferPair(primaryKind, secondaryKind, tsig)),
    });
  }
}
