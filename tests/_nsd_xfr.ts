/**
 * NSD as a zone-transfer peer: its configuration as a primary (IXFR created from the differences
 * between zone files it reads, `create-ixfr`, NSD 4.5 and later) or a secondary, with nsd-control
 * on a unix socket inside the peer's temporary folder (no control keys needed). nsd runs with `-d`.
 * @module
 */
import { nsdServerClause } from "./_nsd.ts";
import {
  control,
  type Prepared,
  type PrimaryOptions,
  type SecondaryOptions,
  type TsigKeySpec,
  ZONE_FILE,
} from "./_xfr_peer_process.ts";

/** The tools an NSD peer needs. */
export const NSD_TOOLS: readonly string[] = ["nsd", "nsd-control"];

/**
 * Log transfers, and reload a transferred zone at once: by default NSD waits a second after its
 * last reload, which would slow every NOTIFY the tests follow.
 */
const XFR_SERVER_LINES = ["verbosity: 2", "xfrd-reload-timeout: 0"];

/** The `key:` clause and the key word of an ACL line (`NOKEY` without a key). */
function keyParts(tsig: TsigKeySpec | undefined): { clause: string; use: string } {
  if (!tsig) return { clause: "", use: "NOKEY" };
  return {
    clause:
      `key:\n    name: "${tsig.name}"\n    algorithm: ${tsig.algorithm}\n    secret: "${tsig.secret}"\n`,
    use: tsig.name,
  };
}

/** Writes nsd.conf for one start; returns nsd's arguments and nsd-control for the zone. */
async function prepare(
  work: string,
  port: number,
  options: { zone: string; tsig: TsigKeySpec | undefined; zoneLines: readonly string[] },
): Promise<{ args: readonly string[]; nsdControl: (command: string) => Promise<void> }> {
  const { zone, tsig, zoneLines } = options;
  const conf = `${work}/nsd.conf`;
  await Deno.writeTextFile(
    conf,
    `${nsdServerClause(work, work, port, XFR_SERVER_LINES)}remote-control:
    control-enable: yes
    control-interface: "${work}/nsd.sock"
${keyParts(tsig).clause}zone:
    name: "${zone}"
${zoneLines.map((line) => `    ${line}\n`).join("")}`,
  );
  return {
    args: ["-d", "-c", conf],
    nsdControl: (command) => control("nsd-control", ["-c", conf, command, zone]),
  };
}

/** Configures NSD as the primary of `options.zone`, storing IXFR from each reload's differences. */
export async function prepareNsdPrimary(
  work: string,
  port: number,
  options: PrimaryOptions,
): Promise<Prepared> {
  const { zone, tsig, notify = [] } = options;
  const key = keyParts(tsig).use;
  const zoneLines = [
    `zonefile: "${ZONE_FILE}"`,
    `provide-xfr: 127.0.0.1 ${key}`,
    "store-ixfr: yes",
    "create-ixfr: yes",
    ...notify.map((to) => `notify: 127.0.0.1@${to} ${key}`),
  ];
  const { args, nsdControl } = await prepare(work, port, { zone, tsig, zoneLines });
  return { args, reload: () => nsdControl("reload") };
}

/**
 * Configures NSD as a secondary of `options.zone`. NSD asks for IXFR (over TCP) once it has a
 * version of the zone; `transfer` checks the primary's serial, where `force_transfer` would AXFR.
 */
export async function prepareNsdSecondary(
  work: string,
  port: number,
  options: SecondaryOptions,
): Promise<Prepared> {
  const { zone, tsig, primaryPort } = options;
  const key = keyParts(tsig).use;
  const zoneLines = [
    `zonefile: "secondary.zone"`,
    `request-xfr: 127.0.0.1@${primaryPort} ${key}`,
    `allow-notify: 127.0.0.1 ${key}`,
  ];
  const { args, nsdControl } = await prepare(work, port, { zone, tsig, zoneLines });
  return { args, refresh: () => nsdControl("transfer") };
}
