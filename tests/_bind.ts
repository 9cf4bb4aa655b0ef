/**
 * BIND (named) as a zone-transfer peer: its configuration as a primary or a secondary, and rndc
 * on a loopback control port (rndc speaks TCP only) with a key of its own, all inside the peer's
 * temporary folder. named runs with `-f` (foreground) and keeps root; `-L` sends its log, from the
 * first line (a configuration error too), to a file there.
 * @module
 */
import {
  control,
  type Prepared,
  type PrimaryOptions,
  randomSecret,
  type SecondaryOptions,
  type TsigKeySpec,
  ZONE_FILE,
} from "./_xfr_peer_process.ts";
import { freeUdpPort } from "./_udp_client.ts";

/** The tools a BIND peer needs. */
export const BIND_TOOLS: readonly string[] = ["named", "rndc"];

function keyClause(key: TsigKeySpec): string {
  return `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };\n`;
}

/** `key "K"` after an address in a server list, when there is a key. */
function signedWith(tsig: TsigKeySpec | undefined): string {
  return tsig ? ` key "${tsig.name}"` : "";
}

/** Who may transfer or NOTIFY: holders of the key, else 127.0.0.1. */
function allowed(tsig: TsigKeySpec | undefined): string {
  return tsig ? `{ key "${tsig.name}"; }` : "{ 127.0.0.1; }";
}

function namedConf(work: string, port: number, controls: string, zone: string): string {
  return `options {
  directory "${work}";
  pid-file "${work}/named.pid";
  session-keyfile "${work}/session.key";
  managed-keys-directory "${work}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify-source 127.0.0.1;
  transfer-source 127.0.0.1;
  // The defaults (5 s delay, 5 and 8 min floors) would outlast a test.
  notify-delay 0;
  min-refresh-time 1;
  min-retry-time 1;
  max-retry-time 2;
};
${controls}${zone}`;
}

/** Writes named.conf and rndc.conf for one start; returns named's arguments and rndc for the zone. */
async function prepare(
  work: string,
  port: number,
  zone: string,
  zoneClause: string,
): Promise<{ args: readonly string[]; rndc: (command: string) => Promise<void> }> {
  const controlPort = freeUdpPort();
  const rndcKey = keyClause({ name: "rndc-key", algorithm: "hmac-sha256", secret: randomSecret() });
  const controls =
    `controls { inet 127.0.0.1 port ${controlPort} allow { 127.0.0.1; } keys { "rndc-key"; }; };\n`;
  await Deno.writeTextFile(`${work}/named.conf`, namedConf(work, port, `${rndcKey}${controls}`, zoneClause));
  await Deno.writeTextFile(
    `${work}/rndc.conf`,
    `${rndcKey}options { default-key "rndc-key"; default-server 127.0.0.1; default-port ${controlPort}; };\n`,
  );
  return {
    args: ["-f", "-L", `${work}/named.log`, "-c", `${work}/named.conf`],
    rndc: (command) => control("rndc", ["-c", `${work}/rndc.conf`, command, zone]),
  };
}

/** Configures named as the primary of `options.zone`, its file diffed on reload to serve IXFR. */
export async function prepareBindPrimary(
  work: string,
  port: number,
  options: PrimaryOptions,
): Promise<Prepared> {
  const { zone, tsig, notify = [] } = options;
  const targets = notify.map((to) => `127.0.0.1 port ${to}${signedWith(tsig)}; `).join("");
  const clause = `${tsig ? keyClause(tsig) : ""}zone "${zone}" {
  type primary;
  file "${work}/${ZONE_FILE}";
  ixfr-from-differences yes;
  // BIND falls back to AXFR when a delta exceeds the zone's size (100%): a test zone is tiny.
  max-ixfr-ratio unlimited;
  notify ${notify.length > 0 ? "explicit" : "no"};
  also-notify { ${targets}};
  allow-transfer ${allowed(tsig)};
};
`;
  const { args, rndc } = await prepare(work, port, zone, clause);
  return { args, reload: () => rndc("reload") };
}

/**
 * Configures named as a secondary of `options.zone` (BIND asks for IXFR by default). With a key,
 * `allow-notify` names only the key, yet BIND still takes an unsigned NOTIFY from an address in
 * `primaries` (127.0.0.1, any port): this secondary cannot tell whether a NOTIFY was signed.
 */
export async function prepareBindSecondary(
  work: string,
  port: number,
  options: SecondaryOptions,
): Promise<Prepared> {
  const { zone, tsig, primaryPort } = options;
  const clause = `${tsig ? keyClause(tsig) : ""}zone "${zone}" {
  type secondary;
  file "${work}/secondary.zone";
  primaries { 127.0.0.1 port ${primaryPort}${signedWith(tsig)}; };
  allow-notify ${allowed(tsig)};
  request-ixfr yes;
};
`;
  const { args, rndc } = await prepare(work, port, zone, clause);
  return { args, refresh: () => rndc("refresh") };
}
