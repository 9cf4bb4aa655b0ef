/**
 * unbound as a validating forwarder for interop tests: started in the foreground on a free loopback
 * port with a temporary configuration, forwarding everything to one upstream and validating under
 * a trust-anchor file; stopped by PID. And {@link queryWith}, one question with DO and CD chosen,
 * reduced to what validation tests compare.
 * @module
 */
import {
  decodeMessage,
  edeOf,
  encodeMessage,
  query,
  type ResourceRecord,
  RRClass,
  RRType,
} from "../lib/proto/mod.ts";
import { spawnForeground } from "./_nsd.ts";
import { findTool } from "./_tools.ts";
import { exchange, freeUdpPort } from "./_udp_client.ts";

const START_TIMEOUT_MS = 10_000;
const PROBE_MS = 200;
/** Long enough for unbound to fetch and validate a chain of DNSKEY and DS records on loopback. */
const QUERY_MS = 5_000;

/** A running unbound. */
export interface Unbound {
  readonly port: number;
  /** unbound's log (with `val-log-level: 2`, why an answer is bogus); for failure messages. */
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL if it lingers; waits for the exit and removes its folder. */
  stop(): Promise<void>;
}

/** Where a validating unbound sends its questions and which anchor it trusts. */
export interface ValidatingOptions {
  /** The upstream's port on 127.0.0.1, asked with RD=1 for every zone (`forward-zone: "."`). */
  readonly upstreamPort: number;
  /** Zone-file lines holding DS or DNSKEY records (`trust-anchor-file`). */
  readonly anchorFile: string;
}

/** The `server:` lines every unbound here has: one thread, no chroot or syslog, its files in `work`. */
function foreground(work: string): string {
  return `do-ip6: no
    num-threads: 1
    username: ""
    chroot: ""
    directory: "${work}"
    pidfile: "${work}/unbound.pid"
    logfile: "${work}/unbound.log"
    use-syslog: no
    verbosity: 1`;
}

function unboundConf(work: string, port: number, options: ValidatingOptions): string {
  return `server:
    interface: 127.0.0.1
    port: ${port}
    ${foreground(work)}
    val-log-level: 2
    ede: yes
    module-config: "validator iterator"
    trust-anchor-file: "${options.anchorFile}"
    do-not-query-localhost: no
    qname-minimisation: no
    aggressive-nsec: no
    prefetch: no
    # the tree's zones have private names: the default reverse and special-use zones must not shadow them
    local-zone: "test." nodefault
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@${options.upstreamPort}
`;
}

/** What a DoT-serving unbound holds and where it serves DNS over TLS. */
export interface DotOptions {
  /** The port of DNS over TLS on 127.0.0.1 (plain DNS stays on the port startUnbound picks). */
  readonly tlsPort: number;
  readonly certFile: string;
  readonly keyFile: string;
  /** `local-data:` records in zone-file presentation; each owner less its first label is a `static` zone. */
  readonly localData: readonly string[];
  /** `tcp-idle-timeout` in ms: how long a quiet connection stays open (unbound's default 30 s). */
  readonly idleMs?: number;
}

/**
 * An unbound configuration serving `localData` itself (nothing is asked of anyone: no internet)
 * over plain DNS on `port` and over TLS on `options.tlsPort` (RFC 7858), for dnsd's DoT upstreams.
 */
export function dotUnboundConf(work: string, port: number, options: DotOptions): string {
  const zones = new Set(options.localData.map((line) => line.split(/\s+/, 1)[0]!.replace(/^[^.]*\./, "")));
  return `server:
    interface: 127.0.0.1@${port}
    interface: 127.0.0.1@${options.tlsPort}
    tls-port: ${options.tlsPort}
    tls-service-key: "${options.keyFile}"
    tls-service-pem: "${options.certFile}"
    tcp-idle-timeout: ${options.idleMs ?? 30_000}
    ${foreground(work)}
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
${[...zones].map((zone) => `    local-zone: "${zone}" static\n`).join("")}${
    options.localData.map((line) => `    local-data: "${line}"\n`).join("")
  }remote-control:
    control-enable: no
`;
}

/** `version.server` CH TXT, which unbound answers itself once it is up: the sign that it serves. */
function probe(): Uint8Array {
  return encodeMessage(query({ name: "version.server", type: RRType.TXT, class: RRClass.CH }, { id: 4242 }));
}

/**
 * Starts unbound (`-d`, foreground) with the configuration `conf(work, port)` makes, in a fresh
 * temporary folder `work` that also holds its log; resolves once it answers. A port taken between
 * picking and binding is retried with another, twice.
 */
export async function startUnbound(conf: (work: string, port: number) => string): Promise<Unbound> {
  const work = await Deno.makeTempDir({ prefix: "dnsd_unbound_" });
  const log = () => Deno.readTextFile(`${work}/unbound.log`).catch(() => "(no log)");
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freeUdpPort();
    const file = `${work}/unbound.conf`;
    await Deno.writeTextFile(file, conf(work, port));
    const unbound = spawnForeground(findTool("unbound") ?? "/usr/sbin/unbound", ["-d", "-c", file]);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let ready = false;
    while (!unbound.exited() && !ready && Date.now() < deadline) {
      ready = (await exchange(port, probe(), PROBE_MS)) !== null;
    }
    const stop = unbound.stop;
    if (ready) {
      return {
        port,
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
    await stop();
    lastError = `unbound on port ${port} ${
      unbound.exited() ? `exited (${await unbound.code})` : "never answered"
    }:\n${await log()}`;
  }
  await Deno.remove(work, { recursive: true });
  throw new Error(`Cannot start unbound: ${lastError}`);
}

/** Starts unbound as a validating forwarder to `options.upstreamPort` (see {@link startUnbound}). */
export function startValidatingUnbound(options: ValidatingOptions): Promise<Unbound> {
  return startUnbound((work, port) => unboundConf(work, port, options));
}

/** What {@link queryWith} sets in the query besides RD=1 and EDNS (1232 octets). */
export interface QueryFlags {
  /** DO (RFC 3225). */
  readonly dnssecOk?: boolean;
  /** CD (RFC 4035 section 3.2.2): the resolver must not validate. */
  readonly checkingDisabled?: boolean;
}

/** A reply reduced to what validation tests compare. */
export interface ValidatedAnswer {
  readonly rcode: number;
  /** The AD bit (RFC 4035 section 3.2.3). */
  readonly ad: boolean;
  readonly answers: readonly ResourceRecord[];
  /** The Extended DNS Error INFO-CODEs (RFC 8914), in the order sent. */
  readonly ede: readonly number[];
}

/** Asks 127.0.0.1:`port` for `name`/`type` once (RD=1, EDNS); fails after a bounded wait. */
export async function queryWith(
  port: number,
  name: string,
  type: number,
  flags: QueryFlags = {},
): Promise<ValidatedAnswer> {
  const bytes = encodeMessage(query({ name, type }, {
    id: Math.floor(Math.random() * 0x10000),
    checkingDisabled: flags.checkingDisabled ?? false,
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: flags.dnssecOk ?? false, flags: 0, options: [] },
  }));
  const reply = await exchange(port, bytes, QUERY_MS);
  if (reply === null) {
    throw new Error(`No reply from 127.0.0.1:${port} for ${name} type ${type} in ${QUERY_MS} ms`);
  }
  const message = decodeMessage(reply);
  return {
    rcode: message.rcode,
    ad: message.authenticData,
    answers: message.answers,
    ede: edeOf(message.edns).map((error) => error.code),
  };
}
