/**
 * Knot DNS (knotd) as a zone-transfer peer: its configuration as a primary or a secondary, with
 * its storage, journal and control socket (for knotc) inside the peer's temporary folder. knotd
 * runs in the foreground (no `-d`) as the current user.
 * @module
 */
import {
  control,
  type Prepared,
  type PrimaryOptions,
  type SecondaryOptions,
  type TsigKeySpec,
  ZONE_FILE,
} from "./_xfr_peer_process.ts";

/** The tools a Knot peer needs. */
export const KNOT_TOOLS: readonly string[] = ["knotd", "knotc"];

/** The `key:` section and the `key: K` line of remotes and ACLs, or nothing without a key. */
function keyParts(tsig: TsigKeySpec | undefined): { section: string; use: string } {
  if (!tsig) return { section: "", use: "" };
  return {
    section: `key:\n  - id: ${tsig.name}\n    algorithm: ${tsig.algorithm}\n    secret: ${tsig.secret}\n`,
    use: `    key: ${tsig.name}\n`,
  };
}

function knotConf(work: string, port: number, rest: string): string {
  return `server:
  rundir: "${work}"
  listen: 127.0.0.1@${port}
database:
  storage: "${work}"
control:
  listen: "${work}/knot.sock"
log:
  - target: "${work}/knot.log"
    any: info
${rest}`;
}

/** Writes knot.conf for one start; returns knotd's arguments and knotc for the zone. */
async function prepare(
  work: string,
  port: number,
  zone: string,
  rest: string,
): Promise<{ args: readonly string[]; knotc: (command: string) => Promise<void> }> {
  await Deno.writeTextFile(`${work}/knot.conf`, knotConf(work, port, rest));
  return {
    args: ["-c", `${work}/knot.conf`],
    knotc: (command) => control("knotc", ["-s", `${work}/knot.sock`, command, zone]),
  };
}

/**
 * Configures knotd as the primary of `options.zone`. `zonefile-load: difference` makes a reload
 * store the file's changes in the journal, from which Knot serves IXFR; the file itself is never
 * rewritten (`zonefile-sync: -1`).
 */
export async function prepareKnotPrimary(
  work: string,
  port: number,
  options: PrimaryOptions,
): Promise<Prepared> {
  const { zone, tsig, notify = [] } = options;
  const key = keyParts(tsig);
  const remotes = notify.map((to, i) => `  - id: notify${i}\n    address: 127.0.0.1@${to}\n${key.use}`);
  const rest = `${key.section}${remotes.length > 0 ? `remote:\n${remotes.join("")}` : ""}acl:
  - id: transfer
    address: 127.0.0.1
    action: transfer
${key.use}zone:
  - domain: ${zone}
    file: "${work}/${ZONE_FILE}"
    zonefile-load: difference
    zonefile-sync: -1
    journal-content: changes
    acl: transfer
${remotes.length > 0 ? `    notify: [${notify.map((_, i) => `notify${i}`).join(", ")}]\n` : ""}`;
  const { args, knotc } = await prepare(work, port, zone, rest);
  return { args, reload: () => knotc("zone-reload") };
}

/** Configures knotd as a secondary of `options.zone` (Knot asks for IXFR once it has the zone). */
export async function prepareKnotSecondary(
  work: string,
  port: number,
  options: SecondaryOptions,
): Promise<Prepared> {
  const { zone, tsig, primaryPort } = options;
  const key = keyParts(tsig);
  const rest = `${key.section}remote:
  - id: primary
    address: 127.0.0.1@${primaryPort}
${key.use}acl:
  - id: notify
    address: 127.0.0.1
    action: notify
${key.use}zone:
  - domain: ${zone}
    file: "${work}/secondary.zone"
    master: primary
    acl: notify
`;
  const { args, knotc } = await prepare(work, port, zone, rest);
  return { args, refresh: () => knotc("zone-refresh") };
}
