/**
 * Command-line parsing, pure: arguments in, a typed configuration or a usage error out.
 * @module
 */
import { parseArgs } from "node:util";
import { parseIPv4, parseIPv6 } from "../proto/mod.ts";
import type { ZoneFileSource } from "../zone/mod.ts";
import { type Upstream, UPSTREAM_STRATEGIES, type UpstreamStrategy } from "../upstream/mod.ts";
import type { CacheOptions } from "../cache/mod.ts";

/** dnsd's version. */
export const VERSION = "0.1.0";

/** Log levels the CLI accepts. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;

/** One of {@link LOG_LEVELS}. */
export type CliLogLevel = typeof LOG_LEVELS[number];

/** A parsed command line. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | {
    readonly kind: "serve";
    readonly host: string;
    readonly port: number;
    readonly upstreams: readonly Upstream[];
    readonly timeoutMs: number;
    readonly logLevel: CliLogLevel;
    readonly zones: readonly ZoneFileSource[];
    readonly hosts: readonly string[];
    readonly strategy: UpstreamStrategy;
    readonly caseRandomization: boolean;
    /** The most queries waiting for upstreams at once. */
    readonly maxOutstanding: number;
    readonly tcp: {
      readonly idleTimeoutMs: number;
      readonly maxConnections: number;
      readonly writeTimeoutMs: number;
    };
    readonly cache: CacheOptions;
    readonly udpIo: "auto" | "deno" | "batched";
    /** How long a changed data file must stay unchanged before it is reloaded, in ms. */
    readonly reloadSettleMs: number;
  };

/** A bad command line; the message is one line for the user. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The text of `--help`. */
export const USAGE = `Usage: dnsd [options]

A DNS server: answers local names, forwards the rest to upstream resolvers.

Options:
  --host HOST          address to listen on (default 127.0.0.1)
  --port PORT          UDP port to listen on, 0-65535 (default 2053)
  --upstream HOST[:PORT]
                       upstream resolver, tried in the order given; repeatable;
                       IPv6 as [addr]:port or a bare addr (default 8.8.8.8:53)
  --timeout MS         deadline for the whole upstream exchange, in ms (default 2000)
  --max-outstanding N  most queries waiting for upstreams at once; more get
                       SERVFAIL at once (default 10000)
  --upstream-strategy sequential|random|fastest
                       order to try healthy upstreams in (default sequential;
                       fastest = lowest smoothed round-trip time)
  --0x20               randomise the case of upstream questions and require
                       replies to echo it exactly (spoofing resistance)
  --tcp-idle-timeout MS  close an idle TCP connection after MS (default 10000)
  --tcp-max-connections N  most TCP connections at once (default 150)
  --tcp-write-timeout MS  close a TCP connection whose answer is not taken
                       within MS (default 5000)
  --cache-size N       most cached answers (default 100000; 0 turns the cache off)
  --min-ttl S          least TTL a cached answer is kept for (default 0)
  --max-ttl S          most TTL a cached answer is kept for (default 86400)
  --servfail-ttl S     how long a failure is remembered, 1-300 (default 5)
  --serve-stale        when every upstream fails, serve an expired answer
                       (TTL 30, Extended DNS Error 3, RFC 8767)
  --stale-max S        how long past expiry an answer may be served (default 86400)
  --allow-cache-snooping  let RD=0 queries read (never fill) the cache
  --zone [ORIGIN=]FILE serve an RFC 1035 zone file authoritatively; repeatable.
                       ORIGIN is the origin before any $ORIGIN in the file
  --hosts FILE         answer the names in a hosts(5) file, with PTR for their
                       addresses; repeatable
  --reload-settle MS   reload a changed data file once it has stayed unchanged
                       for MS (default 2000)
  --udp-io auto|deno|batched
                       how UDP is read: batched (recvmmsg through FFI: Linux,
                       needs --allow-ffi; much faster), deno (one op per datagram,
                       anywhere), or auto (default: batched where it can be)
  --log-level LEVEL    debug, info, warning or error (default info)

Zone files, hosts files and mappings.ts (when run from source) are reloaded
when they change on disk, and on SIGHUP. A zone file changed without a new
SOA serial is reloaded only on SIGHUP.
  --help               show this help and exit
  --version            show the version and exit
`;

function parsePort(text: string, what: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`${what}: "${text}" is not a port number (0-65535)`);
  }
  return Number(text);
}

/** Parses `HOST[:PORT]`, `[V6]:PORT` or a bare IPv6 address; the host must be an IP address. */
export function parseUpstream(text: string): Upstream {
  let host = text;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = parsePort(bracketed[2], `--upstream ${text}`);
    if (!parseIPv6(host)) throw new UsageError(`--upstream ${text}: "${host}" is not an IPv6 address`);
    return { hostname: host, port };
  }
  if (parseIPv6(text)) return { hostname: text, port };
  const colon = text.lastIndexOf(":");
  if (colon >= 0) {
    host = text.slice(0, colon);
    port = parsePort(text.slice(colon + 1), `--upstream ${text}`);
  }
  if (!parseIPv4(host)) throw new UsageError(`--upstream ${text}: "${host}" is not an IP address`);
  return { hostname: host, port };
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag}: "${text}" is not a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

/** Parses `FILE` or `ORIGIN=FILE` (an origin has no "/"; a file name may). */
export function parseZoneSource(text: string): ZoneFileSource {
  const equals = text.indexOf("=");
  if (equals > 0 && !text.slice(0, equals).includes("/")) {
    const file = text.slice(equals + 1);
    if (file === "") throw new UsageError(`--zone ${text}: a file name is needed after "="`);
    return { origin: text.slice(0, equals), file };
  }
  if (text === "") throw new UsageError("--zone: a file name is needed");
  return { file: text };
}

/**
 * Parses the command line.
 * @throws {UsageError} for an unknown flag or a bad value
 */
export function parseCommand(args: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "2053" },
        upstream: { type: "string", multiple: true },
        timeout: { type: "string", default: "2000" },
        "max-outstanding": { type: "string", default: "10000" },
        "log-level": { type: "string", default: "info" },
        zone: { type: "string", multiple: true },
        "upstream-strategy": { type: "string", default: "sequential" },
        "0x20": { type: "boolean", default: false },
        "tcp-idle-timeout": { type: "string", default: "10000" },
        "tcp-max-connections": { type: "string", default: "150" },
        "tcp-write-timeout": { type: "string", default: "5000" },
        "cache-size": { type: "string", default: "100000" },
        "min-ttl": { type: "string", default: "0" },
        "max-ttl": { type: "string", default: "86400" },
        "servfail-ttl": { type: "string", default: "5" },
        "serve-stale": { type: "boolean", default: false },
        "stale-max": { type: "string", default: "86400" },
        "allow-cache-snooping": { type: "boolean", default: false },
        "udp-io": { type: "string", default: "auto" },
        "reload-settle": { type: "string", default: "2000" },
        hosts: { type: "string", multiple: true },
        help: { type: "boolean", default: false },
        version: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split("\n")[0]! : String(error));
  }
  const { values } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  if (values.host === "") throw new UsageError(`--host: an address is needed`);
  const timeout = values.timeout;
  if (!/^[0-9]+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 600_000) {
    throw new UsageError(`--timeout: "${timeout}" is not a whole number of milliseconds (1-600000)`);
  }
  const logLevel = LOG_LEVELS.find((level) => level === values["log-level"]);
  if (!logLevel) {
    throw new UsageError(`--log-level: "${values["log-level"]}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  const strategy = UPSTREAM_STRATEGIES.find((name) => name === values["upstream-strategy"]);
  if (!strategy) {
    throw new UsageError(
      `--upstream-strategy: "${values["upstream-strategy"]}" is not one of ${UPSTREAM_STRATEGIES.join(", ")}`,
    );
  }
  const minTtl = wholeNumber(values["min-ttl"], "--min-ttl", 0, 2_147_483_647);
  const maxTtl = wholeNumber(values["max-ttl"], "--max-ttl", 0, 2_147_483_647);
  if (minTtl > maxTtl) throw new UsageError(`--min-ttl ${minTtl} is above --max-ttl ${maxTtl}`);
  const serveStale = values["serve-stale"];
  const cache: CacheOptions = {
    limits: {
      maxEntries: wholeNumber(values["cache-size"], "--cache-size", 0, 100_000_000),
      minTtl,
      maxTtl,
      servfailTtl: wholeNumber(values["servfail-ttl"], "--servfail-ttl", 1, 300),
      // Expired answers are kept only when they may be served.
      staleMax: serveStale ? wholeNumber(values["stale-max"], "--stale-max", 1, 604_800) : 0,
    },
    serveStale,
    allowSnooping: values["allow-cache-snooping"],
  };
  const udpIo = values["udp-io"];
  if (udpIo !== "auto" && udpIo !== "deno" && udpIo !== "batched") {
    throw new UsageError(`--udp-io: "${udpIo}" is not auto, deno or batched`);
  }
  return {
    kind: "serve",
    udpIo,
    reloadSettleMs: wholeNumber(values["reload-settle"], "--reload-settle", 0, 600_000),
    cache,
    strategy,
    caseRandomization: values["0x20"],
    maxOutstanding: wholeNumber(values["max-outstanding"], "--max-outstanding", 1, 1_000_000),
    tcp: {
      idleTimeoutMs: wholeNumber(values["tcp-idle-timeout"], "--tcp-idle-timeout", 1, 3_600_000),
      maxConnections: wholeNumber(values["tcp-max-connections"], "--tcp-max-connections", 1, 65_535),
      writeTimeoutMs: wholeNumber(values["tcp-write-timeout"], "--tcp-write-timeout", 1, 600_000),
    },
    host: values.host,
    port: parsePort(values.port, "--port"),
    upstreams: (values.upstream ?? ["8.8.8.8:53"]).map(parseUpstream),
    timeoutMs: Number(timeout),
    logLevel,
    zones: (values.zone ?? []).map(parseZoneSource),
    hosts: (values.hosts ?? []).map((file) => {
      if (file === "") throw new UsageError("--hosts: a file name is needed");
      return file;
    }),
  };
}
