/**
 * The servers of the load benchmark, configured alike: NSD as the upstream with a generated zone,
 * and dnsd, unbound and dnsmasq answering the mappings.ts names locally and forwarding the rest to
 * NSD with their cache on; plus the raw socket ceiling (ceiling.ts). Each is pinned to one CPU,
 * listens on 127.0.0.1 only, keeps its files in a temp folder and is stopped by PID.
 * @module
 */
import mappings from "../mappings.ts";
import { type Child, freePort, type Launcher, waitUntilAnswers } from "./_proc.ts";

/** The zone NSD serves. */
export const ZONE = "bench.test";
/** How many A names the zone holds: n0 .. n(NAMES-1). */
export const NAMES = 200_000;
/** The CPU each measured server runs on. */
export const SERVER_CPU = 1;
/** The CPU dnsperf and NSD run on. */
export const CLIENT_CPU = 0;

/** Where Debian installs NSD. */
export const NSD = "/usr/sbin/nsd";
/** Where Debian installs Knot DNS's server. */
export const KNOTD = "/usr/sbin/knotd";

const ROOT = new URL("../", import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000; // a cold `deno run` compiles first; NSD parses 200,000 names

/** The `n`th name of the zone. */
export function zoneName(n: number): string {
  return `n${n}.${ZONE}`;
}

/** mappings.ts as name -> IPv4 address; the peers are given the same names. */
export function localNames(): Record<string, string> {
  const local: Record<string, string> = {};
  for (const [name, value] of Object.entries(mappings)) {
    if (typeof value !== "string" || !/^\d+\.\d+\.\d+\.\d+$/.test(value)) {
      throw new Error(`mappings.ts "${name}": the load benchmark expects one IPv4 address per name`);
    }
    local[name.replace(/\.$/, "")] = value;
  }
  return local;
}

/** A running server. */
export interface Server {
  readonly port: number;
  readonly child: Child;
}

/** What starting a server needs. */
export interface Setting {
  readonly launcher: Launcher;
  /** A temp folder of its own. */
  readonly work: string;
  /** NSD's port. */
  readonly upstream: number;
  /** The local names and their IPv4 addresses (mappings.ts). */
  readonly local: Readonly<Record<string, string>>;
  /** With `--signed`: the zone's DS, as a trust-anchor file for the validating contenders. */
  readonly anchorFile?: string;
  /** More arguments for the server (a variant of a contender). */
  readonly extra?: readonly string[];
}

/** A server under test. */
export interface Contender {
  readonly name: string;
  /** Whether it forwards to NSD (the ceiling answers everything itself). */
  readonly forwards: boolean;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  start(setting: Setting): Promise<Server>;
}

/** Whether `path` is a file (an installed server). */
export function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** How {@link startOnPort} picks a port and tells that the server is up. */
export interface Readiness {
  /** A port free a moment ago. */
  port(): number;
  /** Resolves once `child` serves on `port`; throws with its output if it exits or is late. */
  ready(child: Child, port: number): Promise<void>;
}

/** Starts `command(port)` on the server CPU, on a few fresh ports if one is taken meanwhile. */
export async function startOnPort(
  launcher: Launcher,
  name: string,
  command: (port: number) => readonly string[] | Promise<readonly string[]>,
  readiness: Readiness,
): Promise<Server> {
  let failure: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = readiness.port();
    const child = launcher.spawn(name, await command(port), { cpu: SERVER_CPU, cwd: ROOT });
    try {
      await readiness.ready(child, port);
      return { port, child };
    } catch (error) {
      failure = error;
      await child.stop();
    }
  }
  throw failure;
}

/** Starts `command(port)` and waits until it answers over UDP, and has reached NSD when it forwards. */
function startOnFreePort(
  setting: Setting,
  name: string,
  command: (port: number) => readonly string[] | Promise<readonly string[]>,
): Promise<Server> {
  const probe = Object.keys(setting.local)[0] ?? zoneName(0);
  return startOnPort(setting.launcher, name, command, {
    port: freePort,
    async ready(child, port) {
      await waitUntilAnswers(child, port, probe, START_TIMEOUT_MS);
      // A forwarder also has to reach NSD; n0 is later part of the warmed-up set anyway.
      await waitUntilAnswers(child, port, zoneName(0), 5_000);
    },
  });
}

/** Writes the zone: SOA, NS and {@link NAMES} A records with a day-long TTL. */
async function writeZone(path: string): Promise<void> {
  const lines = [
    `$ORIGIN ${ZONE}.`,
    "$TTL 86400",
    "@ SOA ns hostmaster 1 3600 900 604800 86400",
    "@ NS ns",
    "ns A 127.0.0.1",
  ];
  for (let i = 0; i < NAMES; i++) lines.push(`n${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

/** The generated zone signed with one ECDSA P-256 key (NSEC), and its DS written to `anchor.ds`. */
async function signZone(work: string): Promise<string> {
  const run = async (command: string, args: string[]) => {
    const result = await new Deno.Command(command, { args, cwd: work, stdin: "null" }).output();
    if (!result.success) {
      throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(result.stderr)}`);
    }
    return new TextDecoder().decode(result.stdout).trim();
  };
  const key = await run("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", ZONE]);
  await run("ldns-signzone", ["-f", `${ZONE}.signed`, `${ZONE}.zone`, key]);
  await Deno.rename(`${work}/${ZONE}.signed`, `${work}/${ZONE}.zone`);
  await Deno.copyFile(`${work}/${key}.ds`, `${work}/anchor.ds`);
  return `${work}/anchor.ds`;
}

/** nsd.conf: one server process on 127.0.0.1@`port`, its files in `work`, serving one zone. */
export function nsdConf(
  work: string,
  port: number,
  zone: { readonly name: string; readonly file: string },
): string {
  return `server:
    ip-address: 127.0.0.1@${port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "${work}"
    database: ""
    zonelistfile: "${work}/zone.list"
    xfrdfile: "${work}/xfrd.state"
    xfrdir: "${work}"
    pidfile: "${work}/nsd.pid"
    logfile: "${work}/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: "${zone.name}"
    zonefile: "${zone.file}"
`;
}

/**
 * Starts NSD on the client CPU, serving the generated zone (signed, with `signed`: then its DS is
 * in `anchorFile`); resolves once it answers the last name.
 */
export async function startNsd(
  launcher: Launcher,
  work: string,
  signed = false,
): Promise<Server & { readonly anchorFile?: string }> {
  await writeZone(`${work}/${ZONE}.zone`);
  const anchorFile = signed ? await signZone(work) : undefined;
  let failure: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    await Deno.writeTextFile(`${work}/nsd.conf`, nsdConf(work, port, { name: ZONE, file: `${ZONE}.zone` }));
    const child = launcher.spawn("nsd", [NSD, "-d", "-c", `${work}/nsd.conf`], {
      cpu: CLIENT_CPU,
      cwd: work,
    });
    try {
      await waitUntilAnswers(child, port, zoneName(NAMES - 1), START_TIMEOUT_MS);
      return anchorFile ? { port, child, anchorFile } : { port, child };
    } catch (error) {
      failure = new Error(`${error}\n${await Deno.readTextFile(`${work}/nsd.log`).catch(() => "")}`);
      await child.stop();
    }
  }
  throw failure;
}

/**
 * Extra dnsd arguments for a sitting, from the environment (`DNSD_ARGS="--blocklist big.txt"`,
 * split at spaces): the same benchmark with and without a setting.
 */
function extraArgs(): string[] {
  return (Deno.env.get("DNSD_ARGS") ?? "").split(" ").filter((arg) => arg !== "");
}

/** dnsd from this checkout, as the issue runs it. */
export const dnsd: Contender = {
  name: "dnsd",
  forwards: true,
  missing: () => null,
  start: (setting) =>
    startOnFreePort(setting, "dnsd", (port) => [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      `${ROOT}main.ts`,
      "--port",
      String(port),
      "--upstream",
      `127.0.0.1:${setting.upstream}`,
      "--log-level",
      "warning",
      ...extraArgs(),
    ]),
};

/** dnsd reading UDP in batches through FFI (`--udp-io batched`). */
export const dnsdBatched: Contender = {
  name: "dnsd-batched",
  forwards: true,
  missing: () => Deno.build.os === "linux" ? null : "batched UDP is for Linux only",
  start: (setting) =>
    startOnFreePort(setting, "dnsd-batched", (port) => [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-ffi",
      ...(Deno.env.get("DNSD_V8") ? [`--v8-flags=${Deno.env.get("DNSD_V8")}`] : []),
      `${ROOT}main.ts`,
      "--port",
      String(port),
      "--upstream",
      `127.0.0.1:${setting.upstream}`,
      "--udp-io",
      "batched",
      "--log-level",
      "warning",
      ...extraArgs(),
      ...(setting.extra ?? []),
    ]),
};

/** dnsd-batched validating what it forwards under the signed zone's DS (`--trust-anchor`; `--signed`). */
export const dnsdValidating: Contender = {
  name: "dnsd-dnssec",
  forwards: true,
  missing: () => null,
  start: (setting) => {
    if (!setting.anchorFile) throw new Error("dnsd-dnssec needs a signed zone: run with --signed");
    return dnsdBatched.start({ ...setting, extra: ["--trust-anchor", setting.anchorFile] });
  },
};

/** The raw socket ceiling: one fixed answer for every query (ceiling.ts). */
export const ceiling: Contender = {
  name: "ceiling",
  forwards: false,
  missing: () => null,
  start: (setting) =>
    startOnFreePort(setting, "ceiling", (port) => [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--unstable-net",
      `${ROOT}bench/ceiling.ts`,
      "--port",
      String(port),
    ]),
};

/** Where Debian installs unbound. */
export const UNBOUND = "/usr/sbin/unbound";

/** What an unbound configuration needs: its folder, its local names, and where it forwards. */
export interface UnboundSetting {
  readonly work: string;
  readonly local: Readonly<Record<string, string>>;
  /** NSD's port; without it unbound answers its local data only. */
  readonly upstream?: number;
  /** Validate under this trust anchor. */
  readonly anchorFile?: string;
  /** More `server:` lines, indented (for DoT and DoH: `tls-port`, `tls-service-pem`, ...). */
  readonly serverLines?: string;
  /**
   * The message and RRset cache sizes (`1g`); "default" leaves unbound's own (4m each). Unset: the
   * load benchmark's 64m and 128m.
   */
  readonly cache?: { readonly msg: string; readonly rrset: string } | "default";
  /** `num-threads` (default 1); over 1, each thread has its own socket (`so-reuseport: yes`). */
  readonly threads?: number;
}

/** The cache lines of unbound.conf for `cache` (see {@link UnboundSetting}). */
function cacheLines(cache: UnboundSetting["cache"] = { msg: "64m", rrset: "128m" }): string {
  if (cache === "default") return "";
  return `    msg-cache-size: ${cache.msg}\n    rrset-cache-size: ${cache.rrset}\n`;
}

/** unbound.conf: one thread (or `threads`) on 127.0.0.1@`port`, the local names as static local-data. */
function unboundConf(setting: UnboundSetting, port: number): string {
  const { work, upstream, local, anchorFile } = setting;
  const validation = anchorFile
    ? `    module-config: "validator iterator"\n    trust-anchor-file: "${anchorFile}"\n`
    : `    module-config: "iterator"\n`;
  const localData = Object.entries(local).map(([name, address]) =>
    `    local-zone: "${name}." static\n    local-data: "${name}. 300 IN A ${address}"\n`
  );
  const forward = upstream === undefined
    ? ""
    : `forward-zone:\n    name: "."\n    forward-addr: 127.0.0.1@${upstream}\n    forward-first: no\n`;
  return `server:
    interface: 127.0.0.1@${port}
${setting.serverLines ?? ""}    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "${work}"
    pidfile: "${work}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: ${setting.threads ?? 1}
${(setting.threads ?? 1) > 1 ? "    so-reuseport: yes\n" : ""}    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
${validation}    qname-minimisation: no
    prefetch: no
${cacheLines(setting.cache)}    # "test." is one of unbound's default blocked zones (RFC 6761).
    local-zone: "test." nodefault
${localData.join("")}remote-control:
    control-enable: no
${forward}`;
}

/** Writes unbound.conf into the setting's folder and checks it (unbound-checkconf); returns the command. */
export async function unboundCommand(setting: UnboundSetting, port: number): Promise<string[]> {
  const conf = `${setting.work}/unbound.conf`;
  await Deno.writeTextFile(conf, unboundConf(setting, port));
  const check = await new Deno.Command("/usr/sbin/unbound-checkconf", { args: [conf] }).output();
  if (!check.success) {
    throw new Error(`unbound-checkconf ${conf}:\n${new TextDecoder().decode(check.stderr)}`);
  }
  return [UNBOUND, "-d", "-c", conf];
}

/** unbound with one thread, the local names as static local-data, everything else forwarded. */
export const unbound: Contender = {
  name: "unbound",
  forwards: true,
  missing: () => installed(UNBOUND) ? null : `${UNBOUND} is not installed`,
  start: (setting) =>
    startOnFreePort(setting, "unbound", (port) => {
      const { anchorFile: _, ...forwarding } = setting; // this one does not validate, even with --signed
      return unboundCommand(forwarding, port);
    }),
};

/** unbound validating under the signed zone's DS (`trust-anchor-file`; `--signed`). */
export const unboundValidating: Contender = {
  name: "unbound-dnssec",
  forwards: true,
  missing: () => installed(UNBOUND) ? null : `${UNBOUND} is not installed`,
  start: (setting) =>
    startOnFreePort(setting, "unbound-dnssec", (port) => {
      if (!setting.anchorFile) throw new Error("unbound-dnssec needs a signed zone: run with --signed");
      return unboundCommand(setting, port);
    }),
};

const DNSMASQ = "/usr/sbin/dnsmasq";

/** dnsmasq with a 10,000-entry cache, the local names as host records, everything else forwarded. */
export const dnsmasq: Contender = {
  name: "dnsmasq",
  forwards: true,
  missing: () => installed(DNSMASQ) ? null : `${DNSMASQ} is not installed`,
  start: (setting) =>
    startOnFreePort(setting, "dnsmasq", (port) => [
      DNSMASQ,
      "-k",
      "--conf-file=/dev/null",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      `--server=127.0.0.1#${setting.upstream}`,
      // --address=/name/ip would also answer every subdomain; a host record is the name alone.
      ...Object.entries(setting.local).map(([name, address]) => `--host-record=${name},${address}`),
      "--cache-size=10000",
      `--pid-file=${setting.work}/dnsmasq.pid`,
      "--user=root",
      "--log-facility=-",
    ]),
};

/** The first line `command args` prints (stdout, then stderr) that matches `pick`; "?" if none. */
export async function toolVersion(command: string, args: readonly string[], pick = /./): Promise<string> {
  try {
    const { stdout, stderr } = await new Deno.Command(command, { args: [...args], stdin: "null" }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return text.split("\n").find((line) => pick.test(line))?.trim() ?? "?";
  } catch {
    return "not installed";
  }
}

/** The first line each tool prints about its version. */
export async function versions(): Promise<Record<string, string>> {
  return {
    deno: await toolVersion(Deno.execPath(), ["--version"]),
    dnsperf: await toolVersion("dnsperf", ["-h"], /^Version/),
    nsd: await toolVersion(NSD, ["-v"]),
    unbound: await toolVersion(UNBOUND, ["-V"]),
    dnsmasq: await toolVersion(DNSMASQ, ["-v"]),
    knot: await toolVersion(KNOTD, ["-V"]),
  };
}
