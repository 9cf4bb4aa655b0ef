/**
 * The load benchmark for encrypted DNS: dnsperf `-m dot` and `-m doh` against dnsd, unbound and
 * dnsdist in one sitting, every server answering the mappings.ts names from its own data (no
 * upstream anywhere). Not a test, and not run by CI.
 *
 * `deno task bench:encrypted` (or `deno task bench:encrypted -- --seconds 5 --servers unbound,dnsdist
 * --out /tmp/encrypted.md`)
 *
 * A throwaway CA and a leaf certificate for 127.0.0.1 (openssl, ECDSA P-256) serve every server.
 * Servers are pinned to CPU 1, dnsperf and this script to CPU 0; each run has its server to itself,
 * started once it answers over the transport measured (a probe that checks the certificate against
 * the CA) and stopped by PID afterwards, also on Ctrl-C. All traffic stays on 127.0.0.1. The report
 * goes to stdout and to bench/results/encrypted.md or `--out FILE`.
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { dnsperf, type Measure } from "./_dnsperf.ts";
import { h2load, h2loadMissing } from "./_h2load.ts";
import { clockTicks, machine, runBenchmark, say, startDnsd } from "./_harness.ts";
import { type Child, delay, freePort, type Launcher } from "./_proc.ts";
import { table } from "./_report.ts";
import {
  CLIENT_CPU,
  installed,
  localNames,
  type Server,
  SERVER_CPU,
  startOnPort,
  toolVersion,
  UNBOUND,
  unboundCommand,
} from "./_servers.ts";
import {
  answersOverHttps,
  answersOverTls,
  type Certificates,
  freeTcpPort,
  makeCertificates,
} from "./_tls.ts";

/** The scenarios, in table order, with what each measures. */
const TRANSPORTS = {
  DoT: "DNS over TLS (RFC 7858): `dnsperf -m dot`, one TLS connection per client, queries pipelined",
  DoH: "DNS over HTTPS (RFC 8484) at /dns-query: `dnsperf -m doh`, HTTP/2, one connection per client",
  "DoH h2load":
    "the same DoH servers under `h2load -c 4 -m 10` (nghttp2), POSTing one query: dnsperf 2.10's DoH client " +
    "loses most answers of servers that send a response's HEADERS and DATA in separate TLS records",
} as const;
type Transport = keyof typeof TRANSPORTS;

const RESULTS = new URL("./results/encrypted.md", import.meta.url);
const DNSDIST = "/usr/bin/dnsdist";
/** A cold `deno run` compiles first. */
const START_TIMEOUT_MS = 60_000;
/** How long a server that answers over UDP has to answer over the encrypted transport too. */
const SERVE_TIMEOUT_MS = 10_000;

/** What starting a server needs. */
interface Setting {
  readonly launcher: Launcher;
  /** A temp folder of its own. */
  readonly work: string;
  /** The local names and their IPv4 addresses (mappings.ts). */
  readonly local: Readonly<Record<string, string>>;
  readonly tls: Certificates;
  readonly transport: Transport;
}

/** A server under test. */
interface Contender {
  readonly name: string;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  /** Starts it serving `setting.transport`; resolves once it answers over it. */
  start(setting: Setting): Promise<Server>;
}

/** Waits until `child` answers a local name over the setting's transport on `port`. */
async function waitUntilServes(child: Child, setting: Setting, port: number, ms: number): Promise<void> {
  const name = Object.keys(setting.local)[0]!;
  const probe = setting.transport === "DoT" ? answersOverTls : answersOverHttps;
  const deadline = Date.now() + ms;
  while (!child.exited() && Date.now() < deadline) {
    if (await probe(port, name, setting.tls.caPem)) return;
    await delay(100);
  }
  const why = child.exited()
    ? `exited (${await child.status})`
    : `did not answer ${name} over ${setting.transport} within ${ms} ms`;
  const tail = child.tail().trim();
  throw new Error(
    `${child.name} on 127.0.0.1:${port} ${why}${
      tail ? `; its output ends:\n${tail}` : ", and wrote nothing"
    }`,
  );
}

/** Starts `command(port)` on the server CPU and waits until it answers over the setting's transport. */
function startOnFreePort(
  setting: Setting,
  name: string,
  command: (port: number) => readonly string[] | Promise<readonly string[]>,
): Promise<Server> {
  return startOnPort(setting.launcher, name, command, {
    port: freeTcpPort,
    ready: (child, port) => waitUntilServes(child, setting, port, START_TIMEOUT_MS),
  });
}

/**
 * dnsd from this checkout as `deno task start` runs it, answering mappings.ts only
 * (`--no-recursion`), with `--tls-port` or `--https-port`.
 */
const dnsd: Contender = {
  name: "dnsd",
  missing: () => null,
  async start(setting) {
    const port = freeTcpPort();
    const { certFile, keyFile } = setting.tls;
    const flags = ["--no-recursion", "--log-level", "warning", "--tls-cert", certFile, "--tls-key", keyFile];
    flags.push(setting.transport === "DoT" ? "--tls-port" : "--https-port", String(port));
    let server: Server;
    try {
      const probe = Object.keys(setting.local)[0]!;
      server = await startDnsd(setting.launcher, flags, { probe, timeoutMs: START_TIMEOUT_MS });
    } catch (error) {
      throw new Error(`dnsd did not start: ${error instanceof Error ? error.message : error}`);
    }
    try {
      await waitUntilServes(server.child, setting, port, SERVE_TIMEOUT_MS);
    } catch (error) {
      await server.child.stop();
      throw new Error(
        `dnsd did not start ${setting.transport}: ${error instanceof Error ? error.message : error}`,
      );
    }
    return { port, child: server.child };
  },
};

/** unbound with one thread, the local names as static local-data, `tls-port` or `https-port`. */
const unbound: Contender = {
  name: "unbound",
  missing: () => installed(UNBOUND) ? null : `${UNBOUND} is not installed`,
  start: (setting) =>
    startOnFreePort(setting, "unbound", (port) => {
      const { certFile, keyFile } = setting.tls;
      const transport = setting.transport === "DoT"
        ? `    tls-port: ${port}\n`
        : `    https-port: ${port}\n    http-endpoint: "/dns-query"\n`;
      const serverLines =
        `${transport}    tls-service-pem: "${certFile}"\n    tls-service-key: "${keyFile}"\n`;
      return unboundCommand({ work: setting.work, local: setting.local, serverLines }, port);
    }),
};

/**
 * dnsdist answering the local names itself (a SpoofAction per name, REFUSED for the rest), so no
 * backend's work goes uncounted; `addTLSLocal` or `addDOHLocal`.
 */
const dnsdist: Contender = {
  name: "dnsdist",
  missing: () => installed(DNSDIST) ? null : `${DNSDIST} is not installed`,
  start: (setting) =>
    startOnFreePort(setting, "dnsdist", async (port) => {
      const { certFile, keyFile } = setting.tls;
      const listen = setting.transport === "DoT"
        ? `addTLSLocal("127.0.0.1:${port}", "${certFile}", "${keyFile}")`
        : `addDOHLocal("127.0.0.1:${port}", "${certFile}", "${keyFile}", "/dns-query")`;
      const spoof = Object.entries(setting.local).map(([name, address]) =>
        `addAction(QNameRule("${name}."), SpoofAction("${address}"))`
      );
      const conf = `${setting.work}/dnsdist.conf`;
      await Deno.writeTextFile(
        conf,
        [
          'setSecurityPollSuffix("")', // no status lookup over DNS
          `setLocal("127.0.0.1:${freePort()}")`, // not the default 127.0.0.1:53
          listen,
          ...spoof,
          "addAction(AllRule(), RCodeAction(DNSRCode.REFUSED))",
          "",
        ].join("\n"),
      );
      return [DNSDIST, "--supervised", "--disable-syslog", "-C", conf];
    }),
};

const CONTENDERS = [dnsd, unbound, dnsdist] as const;

interface Flags {
  readonly seconds: number;
  /** The contenders to run, by name; all of them when empty. */
  readonly servers: readonly string[];
  readonly out: URL;
  readonly dohMethod: "GET" | "POST";
}

/** dnsperf's `-m` and `-O` options for a transport on `port` (unused by the h2load run). */
function transportOptions(transport: Transport, port: number, flags: Flags) {
  if (transport === "DoT") return { mode: "dot" as const };
  const long = [`doh-uri=https://127.0.0.1:${port}/dns-query`, `doh-method=${flags.dohMethod}`];
  return { mode: "doh" as const, long };
}

/** A run that lost more than this share of its queries measured something else than the server. */
const LOSS_LIMIT = 0.01;

/** What the report says about a run whose answers were not all NOERROR, or null. */
function anomaly(server: string, transport: Transport, m: Measure): string | null {
  const allGood = /^NOERROR \d+ \(100\.00%\)$/.test(m.rcodes) ||
    /^\d+ 2xx, 0 3xx, 0 4xx, 0 5xx$/.test(m.rcodes);
  if (allGood && m.lost === 0) return null;
  const shown = m.lost <= m.sent * LOSS_LIMIT ? "" : ", so it is not in the table";
  let note = `${server} ${transport}: ${m.lost} lost of ${m.sent}, response codes ${
    m.rcodes || "none"
  }${shown}`;
  if (server === "dnsdist" && transport === "DoH" && shown) {
    // Seen with dnsdist 1.7.3 and dnsperf 2.10.0.
    note += ". kdig and curl get every answer from dnsdist's DoH at once; with dnsperf the HTTP/2 " +
      "200 headers arrive but most DNS messages are never matched, and strace shows dnsperf " +
      "waiting 40 ms between small TLS records (Nagle against delayed ACKs on h2o's writes)";
  }
  return note;
}

/** A failure as a note: its first line, then the last lines of the rest as a code block. */
function failure(message: string): string {
  const [first, ...rest] = message.trimEnd().split("\n");
  if (rest.length === 0) return first!;
  return [`${first}`, "", "  ```", ...rest.slice(-10).map((line) => `  ${line}`), "  ```"].join("\n");
}

/** Runs every transport against every contender, each run on a server it has to itself. */
async function sitting(launcher: Launcher, work: string, flags: Flags & { stopping: AbortSignal }) {
  const contenders = CONTENDERS.filter((c) => flags.servers.length === 0 || flags.servers.includes(c.name));
  const notes: string[] = [];
  const results = new Map<Transport, Map<string, Measure>>();
  const measured = new Set<string>();
  const hz = await clockTicks();
  const local = localNames();
  const file = `${work}/local.txt`;
  await Deno.writeTextFile(file, Object.keys(local).map((name) => `${name} A\n`).join(""));
  await Deno.mkdir(`${work}/tls`);
  const tls = await makeCertificates(`${work}/tls`);
  for (const transport of Object.keys(TRANSPORTS) as Transport[]) {
    results.set(transport, new Map());
    for (const contender of contenders) {
      flags.stopping.throwIfAborted();
      const missing = contender.missing() ?? (transport === "DoH h2load" ? h2loadMissing() : null);
      if (missing) {
        notes.push(`${contender.name} ${transport} skipped: ${missing}`);
        continue;
      }
      say(`${contender.name}: ${transport}`);
      const own = `${work}/${contender.name}-${transport}`;
      await Deno.mkdir(own);
      measured.add(contender.name);
      let server: Server | undefined;
      try {
        server = await contender.start({ launcher, work: own, local, tls, transport });
        const options = {
          file,
          seconds: flags.seconds,
          hz,
          ...transportOptions(transport, server.port, flags),
        };
        const measure = transport === "DoH h2load"
          ? await h2load(launcher, server, {
            work: own,
            name: Object.keys(local)[0]!,
            seconds: flags.seconds,
            hz,
          })
          : await dnsperf(launcher, server, options);
        if (measure.lost <= measure.sent * LOSS_LIMIT) results.get(transport)!.set(contender.name, measure);
        const note = anomaly(contender.name, transport, measure);
        if (note) notes.push(note);
      } catch (error) {
        flags.stopping.throwIfAborted(); // the failure was the interruption
        const message = error instanceof Error ? error.message : String(error);
        notes.push(failure(`${contender.name} ${transport} failed: ${message}`));
        say(message);
      } finally {
        await server?.child.stop();
      }
    }
  }
  return report(results, [...measured], { notes, flags, hz });
}

async function report(
  results: ReadonlyMap<Transport, ReadonlyMap<string, Measure>>,
  servers: readonly string[],
  { notes, flags, hz }: { notes: readonly string[]; flags: Flags; hz: number },
): Promise<string> {
  const versions = {
    deno: await toolVersion(Deno.execPath(), ["--version"]),
    dnsperf: await toolVersion("dnsperf", ["-h"], /^Version/),
    unbound: await toolVersion(UNBOUND, ["-V"]),
    dnsdist: await toolVersion(DNSDIST, ["--version"]),
    openssl: await toolVersion("openssl", ["version"]),
  };
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return [
    "# dnsd encrypted DNS load benchmark",
    "",
    `${date} on ${await machine()}.`,
    "",
    table(results, servers, Object.keys(TRANSPORTS)),
    "",
    "Every server answers the mappings.ts names (A) from its own data, with no upstream: dnsd with",
    "`--no-recursion`, unbound with local-data, dnsdist with a SpoofAction per name (no backend, so no",
    "work of its goes to another process). Ratios are dnsd over the other server: for QPS, higher is",
    "better for dnsd; for latency and CPU, lower. dnsperf keeps its connections for the whole run, so the",
    "figures are of queries on open connections; TLS handshakes are not part of them.",
    "",
    ...Object.entries(TRANSPORTS).map(([name, what]) => `- **${name}**: ${what}`),
    "",
    `Each run: \`dnsperf -m dot|doh -c 4 -T 1 -l ${flags.seconds}\` on the local names, DoH with ` +
    `\`-O doh-uri=https://127.0.0.1:PORT/dns-query -O doh-method=${flags.dohMethod}\`; dnsperf does not ` +
    "check certificates. The certificate: ECDSA P-256 for IP 127.0.0.1, from a throwaway CA (openssl). " +
    `Servers pinned to CPU ${SERVER_CPU}, every thread of theirs; dnsperf and the runner to CPU ` +
    `${CLIENT_CPU}. Server CPU is utime + stime from /proc/PID/stat (${hz} ticks/s) over the run, ` +
    "divided by completed queries.",
    "",
    ...Object.entries(versions).map(([tool, version]) => `- ${tool}: ${version}`),
    ...(notes.length > 0 ? ["", "Notes:", "", ...notes.map((note) => `- ${note}`)] : []),
    "",
  ].join("\n");
}

function parseFlags(args: string[]): Flags {
  const { values } = parseArgs({
    // `deno task bench:encrypted -- --seconds 5` passes the "--" on.
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      seconds: { type: "string", default: "10" },
      servers: { type: "string", default: "" },
      out: { type: "string" },
      "doh-method": { type: "string", default: "POST" },
    },
  });
  const known = CONTENDERS.map((contender) => contender.name);
  const servers = values.servers.split(",").filter((name) => name !== "");
  const unknown = servers.find((name) => !known.includes(name));
  if (unknown) throw new Error(`--servers: "${unknown}" is not one of ${known.join(", ")}`);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(`--seconds: "${values.seconds}" is not a whole number`);
  }
  const dohMethod = values["doh-method"];
  if (dohMethod !== "GET" && dohMethod !== "POST") {
    throw new Error(`--doh-method: "${dohMethod}" is not GET or POST`);
  }
  const out = values.out === undefined ? RESULTS : pathToFileURL(resolve(values.out));
  return { seconds, servers, out, dohMethod };
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args);
  await runBenchmark(
    flags.out,
    ({ launcher, work, stopping }) => sitting(launcher, work, { ...flags, stopping }),
  );
}

if (import.meta.main) await main();
