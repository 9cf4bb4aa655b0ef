/**
 * dnsd as the primary of BIND, Knot and NSD, without and with TSIG (hmac-sha256): each secondary
 * takes the zone by AXFR; the zone file saved with a higher serial is reloaded, dnsd's NOTIFY
 * brings each secondary to it by IXFR (dnsd's log says which form it sent), and the secondary's
 * answers then equal dnsd's for every name and type of the zone.
 * @module
 */
import assert from "node:assert/strict";
import { test } from "../_limit.ts";
import { startDnsd } from "../_dnsd_process.ts";
import { needsTools } from "../_nsd.ts";
import { runTool } from "../_tools.ts";
import { freeUdpPort } from "../_udp_client.ts";
import {
  MORE_TYPES,
  moreTypesQuestions,
  type PeerKind,
  peerTools,
  retryOnPortClash,
  startSecondary,
  type TsigKeySpec,
  versionedZone,
  waitForSerial,
  XFR_KEY,
} from "../_xfr_peers.ts";

const ZONE = "xfr.test";
const FOLLOW_MS = 10_000;
/** The first transfer: a secondary that starts before dnsd answers backs off first (BIND's retry is seconds). */
const FIRST_LOAD_MS = 20_000;
const KEY = XFR_KEY;

function zoneText(serial: number): string {
  const moved = serial === 1 ? "old A 192.0.2.50" : "new AAAA 2001:db8::2";
  return versionedZone(ZONE, serial, `mail MX  10 www\n${moved}\n${MORE_TYPES}`);
}

/** The questions whose answers are compared between dnsd and the secondary. */
const QUESTIONS = [
  [ZONE, "SOA"],
  [ZONE, "NS"],
  [`ns1.${ZONE}`, "A"],
  [`www.${ZONE}`, "A"],
  [`mail.${ZONE}`, "MX"],
  [`same.${ZONE}`, "TXT"],
  [`old.${ZONE}`, "A"],
  [`new.${ZONE}`, "AAAA"],
  ...moreTypesQuestions(ZONE),
] as const;

async function answers(port: number): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, type] of QUESTIONS) {
    const text = await runTool("dig", [
      "-r",
      "@127.0.0.1",
      "-p",
      String(port),
      "+time=2",
      "+tries=1",
      "+norecurse",
      "+noall",
      "+answer",
      "+comments",
      name,
      type,
    ]);
    const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? "none";
    const records = text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith(";"))
      .map((line) => line.trim().split(/\s+/).join(" "));
    lines.push(`${name} ${type} ${status}: ${records.sort().join(" | ")}`);
  }
  return lines;
}

async function primaryOf(kind: PeerKind, tsig: TsigKeySpec | undefined): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_xfr_primary_" });
  const zoneFile = `${dir}/${ZONE}.zone`;
  await Deno.writeTextFile(zoneFile, zoneText(1));
  const secondaryPort = freeUdpPort();
  const key = tsig ? ["--tsig-key", `${tsig.name}:${tsig.algorithm}:${tsig.secret}`] : [];
  const dnsd = await startDnsd((port) => [
    "--port",
    String(port),
    "--no-recursion",
    "--zone",
    zoneFile,
    "--reload-settle",
    "100",
    "--notify",
    `127.0.0.1:${secondaryPort}`,
    ...key,
  ]);
  const secondary = await startSecondary(kind, {
    zone: ZONE,
    primaryPort: dnsd.port,
    port: secondaryPort,
    ...(tsig ? { tsig } : {}),
  }).catch(async (error) => {
    await dnsd.stop();
    throw error;
  });
  const context = async () =>
    `${kind} log:\n${await secondary.log()}\ndnsd log:\n${dnsd.stderr.seen.join("\n")}`;
  try {
    await waitForSerial(secondary, 1, FIRST_LOAD_MS).catch(async (error) =>
      assert.fail(`${error}\n${await context()}`)
    );
    assert.deepEqual(await answers(secondary.port), await answers(dnsd.port), await context());
    await Deno.writeTextFile(zoneFile, zoneText(2));
    await waitForSerial(secondary, 2, FOLLOW_MS).catch(async (error) =>
      assert.fail(`${error}\n${await context()}`)
    );
    const now = await answers(dnsd.port);
    assert.ok(now.some((line) => line.startsWith(`new.${ZONE} AAAA NOERROR: new.${ZONE}.`)), now.join("\n"));
    assert.deepEqual(await answers(secondary.port), now, await context());
    // dnsd logged each transfer, and the NOTIFY's acknowledgement.
    const signed = tsig ? " \\(TSIG xfr-key\\)" : "";
    for (
      const line of [
        new RegExp(`INFO - AXFR of ${ZONE} serial 1 to 127\\.0\\.0\\.1:\\d+${signed}:`),
        new RegExp(`INFO - IXFR \\(incremental\\) of ${ZONE} serial 2 to 127\\.0\\.0\\.1:\\d+${signed}:`),
        new RegExp(`INFO - NOTIFY for ${ZONE} serial 2 acknowledged by 127\\.0\\.0\\.1:${secondaryPort}`),
      ]
    ) {
      await dnsd.stderr.waitFor(line, FOLLOW_MS).catch(async () =>
        assert.fail(`no ${line} in\n${await context()}`)
      );
    }
  } finally {
    await secondary.stop();
    await dnsd.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const kind of ["bind", "knot", "nsd"] as const) {
  for (const tsig of [undefined, KEY]) {
    test({
      ...needsTools(
        ["dig", ...peerTools(kind)],
        `xfr interop: ${kind} as dnsd's secondary${tsig ? ", TSIG" : ""}`,
      ),
      timeoutMs: 60_000,
      fn: () => retryOnPortClash(() => primaryOf(kind, tsig)),
    });
  }
}
