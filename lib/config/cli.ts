/**
 * Command-line parsing, pure: arguments in, a typed configuration or a usage error out.
 * @module
 */
import { parseArgs } from "node:util";
import { checkName, nameKey, parseIPv4, parseIPv6 } from "../proto/mod.ts";
import type { ZoneFileSource } from "../zone/mod.ts";
import { BLOCK_MODES, type BlockMode } from "../block/mod.ts";
import { type AccessRules, parsePrefix, PrefixError, type RecursionRules } from "../policy/mod.ts";
import {
  type ForwardZone,
  type Upstream,
  UPSTREAM_STRATEGIES,
  type UpstreamStrategy,
} from "../upstream/mod.ts";
import type { CacheOptions } from "../cache/mod.ts";
import type { CookieOptions, RateLimitOptions } from "../policy/mod.ts";
import { ConfigFileError, UsageError } from "./errors.ts";
import type { ConfigFileReader, ConfigFileSettings, LocatedAssertion } from "./file.ts";
import { optionByFlag, OPTIONS } from "./options.ts";
import { parseHttpAddress } from "../observe/mod.ts";
import { type DnssecSettings, dnssecSettings } from "./trust_anchors.ts";
import { type ExplainCommand, parseExplain } from "./explain_command.ts";
import { parseTsigKey, type TsigKey, TsigKeyError } from "../tsig/mod.ts";

export type { ExplainCommand };

export { ConfigFileError, UsageError };

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
  | ExplainCommand
  | {
    readonly kind: "serve";
    /** The first address of `listen` (as given: a name is looked up at start-up). */
    readonly host: string;
    /** The port `--host` items without one listen on. */
    readonly port: number;
    /** Every address to listen on, UDP and TCP, each with its port (`--host`, repeatable). */
    readonly listen: readonly ListenAddress[];
    readonly upstreams: readonly Upstream[];
    readonly timeoutMs: number;
    readonly logLevel: CliLogLevel;
    readonly zones: readonly ZoneFileSource[];
    readonly hosts: readonly string[];
    /** `--blocklist` files: their domains, and the names below them, are blocked. */
    readonly blocklists: readonly string[];
    /** `--allowlist` files: their domains, and the names below them, are not blocked. */
    readonly allowlists: readonly string[];
    /** How a blocked name is answered. */
    readonly blockMode: BlockMode;
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
    /** `--udp-coalesce`: the longest pause for UDP queries to gather under load (µs; 0: never). */
    readonly udpCoalesceUs: number;
    /** `--workers`: event loops sharing the UDP ports (0: one per CPU the process may use). */
    readonly workers: number;
    /**
     * `--workers-spread`: which worker takes a UDP query: the one its name hashes to (each name
     * cached in one worker), or the kernel's choice by the client's address and port.
     */
    readonly workersSpread: "name" | "client";
    /**
     * `--workers-busy`: with name spread, the share of a second (percent) the busiest event loop
     * taking queries spends on the CPU before one more takes them (workers start when first
     * needed); 0: every worker takes its names from the start.
     */
    readonly workersBusy: number;
    /** How long a changed data file must stay unchanged before it is reloaded, in ms. */
    readonly reloadSettleMs: number;
    /** The config file's own parts (`[mappings]`, `[[assert]]`); null without `--config`. */
    readonly config: ConfigParts | null;
    /** `--check`: check the config, data and assertions, and exit. */
    readonly check: boolean;
    /** Where the built-in names come from: mappings.ts, the file's `[mappings]`, or nowhere. */
    readonly mappings: "builtin" | "file" | "none";
    /** `--forward-zone`: names at or below each domain go to its upstreams. */
    readonly forwardZones: readonly ForwardZone[];
    /** Answer the RFC 6761, 6303 and 8375 zones locally (off with `--no-default-zones`). */
    readonly defaultZones: boolean;
    /** `--forward-single-label`: forward A and AAAA queries for single-label names. */
    readonly forwardSingleLabel: boolean;
    /** `--hide-version`: refuse CHAOS version.bind and version.server. */
    readonly hideVersion: boolean;
    /** `--identity`: the CHAOS hostname.bind and id.server answer; null when unset. */
    readonly identity: string | null;
    /** `--allow` and `--deny`: who may ask at all (CIDRs, checked here). */
    readonly access: AccessRules;
    /** `--allow-recursion` and `--no-recursion`: who may have cached and forwarded answers. */
    readonly recursion: RecursionRules;
    /** `--rate-limit` and its companions: UDP responses a second per client prefix (0: off). */
    readonly rateLimit: RateLimitOptions;
    /** `--cookie-secret` (first makes, all accepted; none: drawn at start) and `--require-cookies`. */
    readonly cookies: CookieOptions;
    /** `--metrics`: where /metrics, /health and /ready are served; null when off. */
    readonly metrics: { readonly hostname: string; readonly port: number } | null;
    /** `--query-log`: the query log's file, or `-` for stdout; null when off. */
    readonly queryLog: string | null;
    /** `--admin-token`: the bearer token of the admin API's POST endpoints; null: loopback only. */
    readonly adminToken: string | null;
    /** `--dnssec` and `--trust-anchor`: validate forwarded answers, under which anchors; null when off. */
    readonly validation: DnssecSettings | null;
    /** Zone transfers: who may transfer, NOTIFY targets, TSIG keys, secondary zones. */
    readonly transfers: TransferSettings;
    /** DoT and DoH served, and the CAs of encrypted upstreams. */
    readonly encrypted: EncryptedSettings;
  };

/** `--tls-port`, `--https-port`, `--tls-cert`, `--tls-key`, `--upstream-ca`. */
export interface EncryptedSettings {
  /** DoT's port; null: not served. */
  readonly tlsPort: number | null;
  /** DoH's port; null: not served. */
  readonly httpsPort: number | null;
  /** The certificate chain's file (PEM); null without DoT and DoH. */
  readonly certFile: string | null;
  /** The private key's file (PEM). */
  readonly keyFile: string | null;
  /** More CA files for encrypted upstreams. */
  readonly upstreamCa: readonly string[];
}

/** `--allow-transfer`, `--notify`, `--tsig-key`, `--secondary`, `--secondary-dir`, `--journal-size`. */
export interface TransferSettings {
  readonly allowTransfer: readonly string[];
  readonly notify: readonly { readonly hostname: string; readonly port: number }[];
  readonly keys: readonly TsigKey[];
  readonly secondaries: readonly SecondarySetting[];
  readonly secondaryDir: string | null;
  readonly journalSize: number;
}

/** One `--secondary ZONE=HOST:PORT[@KEY]`. */
export interface SecondarySetting {
  /** The zone's apex, as given (no trailing dot). */
  readonly zone: string;
  readonly primary: { readonly hostname: string; readonly port: number };
  /** The key its requests are signed with; none: unsigned. */
  readonly key: TsigKey | null;
}

/** One address to listen on: an IP address or a host name (looked up at start-up), and a port. */
export interface ListenAddress {
  /** An IPv4 or IPv6 address (no brackets), or a host name such as `localhost`. */
  readonly hostname: string;
  /** The UDP and TCP port (0 picks a free one). */
  readonly port: number;
}

/** What a config file holds besides settings. */
export interface ConfigParts {
  /** The file's path, as given. */
  readonly path: string;
  /** Its `[mappings]` table, unchecked (the local data loader checks it as it checks mappings.ts). */
  readonly mappings: Readonly<Record<string, unknown>> | null;
  /** Its `[[assert]]` tables. */
  readonly assertions: readonly LocatedAssertion[];
}

/** The text of `--help`. */
export const USAGE = `Usage: dnsd [options]

A DNS server: answers local names, forwards the rest to upstream resolvers.

Options:
  --config FILE        read settings from a TOML file (keys are the long flags
                       with - written _); a flag given here replaces the file's
  --check              check the config, data and [[assert]]s, print each
                       failure, and exit 0 or 1 without serving
  --host HOST[:PORT]   address to listen on, UDP and TCP; repeatable; IPv6 as
                       [addr]:port or a bare addr; a name (localhost) is looked
                       up in /etc/hosts at start-up (default 127.0.0.1)
  --listen HOST[:PORT] the same as --host, in its place when given (the config
                       file's listen = [...])
  --port PORT          UDP and TCP port to listen on where --host gives none,
                       0-65535 (default 2053)
  --upstream HOST[:PORT]
                       upstream resolver; repeatable; tried in the order that
                       --upstream-strategy sets (sequential: as given); IPv6 as
                       [addr]:port or a bare addr (default 8.8.8.8:53); DNS over
                       TLS as tls://IP[:PORT][#NAME], DNS over HTTPS as
                       https://NAME[:PORT]/PATH[#IP]
  --timeout MS         deadline for the whole upstream exchange, in ms (default 2000)
  --max-outstanding N  most queries waiting for upstreams at once; more get
                       SERVFAIL at once (default 10000)
  --upstream-strategy sequential|random|fastest
                       order to try healthy upstreams in (default sequential;
                       fastest = lowest smoothed round-trip time)
  --0x20               randomise the case of upstream questions and require
                       replies to echo it exactly (spoofing resistance)
  --forward-zone DOMAIN=HOST[:PORT][,HOST[:PORT]...]
                       forward names at or below DOMAIN to these upstreams
                       instead (the longest matching DOMAIN wins; reverse
                       zones too: 168.192.in-addr.arpa=192.168.1.1); repeatable
  --dnssec             validate forwarded answers (RFC 4033-4035) under the root
                       trust anchors: secure ones get AD=1, bogus ones SERVFAIL
                       with the Extended DNS Error that says why
  --trust-anchor FILE  validate under the DS or DNSKEY records in FILE (zone-file
                       lines, as unbound's trust-anchor-file) instead; repeatable;
                       implies --dnssec
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
  --blocklist FILE     block the domains a list names, and every name below them;
                       hosts lines, plain domains and ||domain^ rules; repeatable
  --allowlist FILE     unblock the domains a list names (same formats); the most
                       specific entry wins, the allowlist a tie; repeatable
  --block-mode null|nxdomain|refused
                       answer a blocked name with 0.0.0.0 and :: (TTL 60),
                       NXDOMAIN or REFUSED (default null); with EDNS, EDE 15
  --no-mappings        start without the names of mappings.ts
  --no-default-zones   forward localhost, invalid, onion, local, home.arpa and
                       the private and special reverse zones instead of
                       answering them here (NXDOMAIN; localhost is 127.0.0.1)
  --forward-single-label
                       forward A and AAAA queries for names without a dot
                       (nas) instead of answering NXDOMAIN
  --hide-version       refuse the CHAOS version.bind and version.server queries
  --identity TEXT      answer the CHAOS hostname.bind and id.server queries with
                       TEXT (refused when unset)
  --allow CIDR         answer only clients inside this prefix (IPv4 or IPv6, a
                       bare address is one host); repeatable (default: everyone)
  --deny CIDR          refuse clients inside this prefix (REFUSED, EDE 18), even
                       where an --allow is more specific; repeatable
  --allow-recursion CIDR
                       clients that may have cached and forwarded answers;
                       others get local data only; repeatable (default
                       127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12,
                       192.168.0.0/16, fc00::/7)
  --no-recursion       authoritative only: no upstreams, RA=0, names outside
                       local data REFUSED
  --tls-port PORT      serve DNS over TLS on PORT of every listen address (853 is
                       usual; default 0: off); needs --tls-cert and --tls-key
  --https-port PORT    serve DNS over HTTPS at /dns-query on PORT (HTTP/2 and
                       HTTP/1.1; default 0: off); needs --tls-cert and --tls-key
  --tls-cert FILE      the certificate chain (PEM) for DoT and DoH; read again on
                       SIGHUP and when it changes
  --tls-key FILE       its private key (PEM)
  --upstream-ca FILE   a CA certificate (PEM) to trust for tls:// and https://
                       upstreams besides Deno's bundled roots; repeatable
  --allow-transfer CIDR
                       clients that may transfer zones (AXFR, IXFR over TCP);
                       repeatable (default 127.0.0.0/8, ::1)
  --notify HOST:PORT   send NOTIFY there when a zone's serial changes; repeatable
  --tsig-key NAME:ALGORITHM:BASE64
                       a TSIG key (hmac-sha256, hmac-sha512, hmac-sha1, ...);
                       with any, transfers and NOTIFY must be signed; repeatable
  --secondary ZONE=HOST:PORT[@KEY]
                       take ZONE from that primary by AXFR/IXFR, follow its SOA
                       timers and NOTIFY, sign with KEY; repeatable
  --secondary-dir DIR  write secondary zones there; serve them from there at start
  --journal-size N     records of differences kept per zone for IXFR
                       (default 100000; 0: AXFR only)
  --rate-limit N       UDP responses a second per client prefix, and the burst,
                       per UDP event loop; over it a response is dropped or
                       slipped (default 0: off; TCP is never limited)
  --rate-limit-prefix P  IPv4 prefix length clients are limited by (default 24)
  --rate-limit-prefix6 P  IPv6 prefix length clients are limited by (default 56)
  --rate-limit-slip K  send every K-th response over the limit truncated (TC=1)
                       so a real client retries over TCP; drop the rest (default
                       2; 0 drops all, 1 slips all)
  --cookie-secret HEX  128-bit DNS cookie secret (32 hex digits), to share server
                       cookies across instances; repeatable: the first makes
                       cookies, all are accepted (list the old one second while
                       rolling over; default: drawn at start, renewed daily)
  --require-cookies    over UDP, answer BADCOOKIE to a client cookie without a
                       valid server cookie, and TC=1 to a query with no cookie
  --reload-settle MS   reload a changed data file once it has stayed unchanged
                       for MS (default 2000)
  --udp-io auto|deno|batched
                       how UDP is read: batched (recvmmsg through FFI: Linux,
                       needs --allow-ffi; much faster), deno (one op per datagram,
                       anywhere), or auto (default: batched where it can be)
  --udp-coalesce US    batched UDP: while queries come faster than one at a time,
                       pause up to US microseconds before each read so that more
                       are read and answered together: less CPU per answer, up
                       to US more latency under load (default 100); 0: never
  --workers N          answer UDP on up to N event loops sharing the ports through
                       SO_REUSEPORT (batched UDP only), each with a cache of its
                       own; 0: one per CPU this process may use (default 0)
  --workers-spread name|client
                       which worker takes a UDP query: the one its name hashes
                       to, so each name is cached once (default), or the
                       kernel's choice by the client's address and port
  --workers-busy PCT   with name spread, the main thread alone takes queries
                       until it is PCT% busy, then one more worker at a time,
                       and fewer again as the load falls (default 70); 0: all
                       workers take queries from the start
  --metrics HOST:PORT  serve /metrics (Prometheus), /health and /ready over HTTP;
                       a bare PORT listens on 127.0.0.1 (default: off)
  --query-log FILE     write one JSON line per query to FILE, or - for stdout;
                       reopened on SIGHUP (default: off)
  --admin-token TOKEN  the bearer token POST /cache/flush and POST /reload need
                       (Authorization: Bearer TOKEN); unset, they are served to
                       loopback clients only
  --log-level LEVEL    debug, info, warning or error (default info)

Zone files, hosts files and mappings.ts (when run from source) are reloaded
when they change on disk, and on SIGHUP. A zone file changed without a new
SOA serial is reloaded only on SIGHUP.
  -h, --help           show this help and exit
  --version            show the version and exit

dnsd explain NAME [TYPE] [--metrics HOST:PORT] [--client IP] [--do]
                       print how the running server would answer NAME (type A
                       by default) now, as JSON, from its GET /explain (default
                       --metrics 127.0.0.1:9153)
`;

/** A `--cookie-secret`: 32 hex digits, 128 bits. */
function parseSecret(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(text)) {
    throw new UsageError(`--cookie-secret: "${text}" is not 32 hex digits (a 128-bit secret)`);
  }
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}

function parsePort(text: string, what: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`${what}: "${text}" is not a port number (0-65535)`);
  }
  return Number(text);
}

/** A host name as RFC 1123 writes one: letters, digits and hyphens in dot-separated labels. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Parses one listen item: `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 address, where
 * HOST is an IP address or a host name (looked up at start-up, not here). Pure.
 * @param defaultPort the port of an item that gives none (`--port`)
 * @param what how an error names the item (default `--host TEXT`)
 * @throws {UsageError} for a bad address or port
 * @example parseListen("[::1]:5300", 2053) // { hostname: "::1", port: 5300 }
 */
export function parseListen(text: string, defaultPort: number, what = `--host ${text}`): ListenAddress {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1]!;
    if (!parseIPv6(host)) throw new UsageError(`${what}: "${host}" is not an IPv6 address`);
    return { hostname: host, port: bracketed[2] !== undefined ? parsePort(bracketed[2], what) : defaultPort };
  }
  if (parseIPv6(text)) return { hostname: text, port: defaultPort };
  const colon = text.lastIndexOf(":");
  const host = colon >= 0 ? text.slice(0, colon) : text;
  const port = colon >= 0 ? parsePort(text.slice(colon + 1), what) : defaultPort;
  if (host === "") throw new UsageError(`${what}: an address is needed`);
  if (!parseIPv4(host) && (/^[0-9.]+$/.test(host) || !HOST_NAME.test(host))) {
    throw new UsageError(`${what}: "${host}" is not an IP address or a host name`);
  }
  return { hostname: host, port };
}

/** Parses `tls://IP[:PORT][#NAME]`: DNS over TLS, port 853 by default, NAME checked in the certificate. */
function parseTlsUpstream(text: string): Upstream {
  const rest = text.slice("tls://".length);
  const hash = rest.indexOf("#");
  const address = hash < 0 ? rest : rest.slice(0, hash);
  const name = hash < 0 ? null : rest.slice(hash + 1).replace(/\.$/, "");
  if (name !== null && !HOST_NAME.test(name)) {
    throw new UsageError(`--upstream ${text}: "${name}" is not a host name to check the certificate against`);
  }
  const plain = parsePlainUpstream(address, text, 853);
  return { ...plain, tls: { name } };
}

/** Parses `https://NAME[:PORT]/PATH[#IP]`: DNS over HTTPS, port 443 by default, IP skipping the lookup of NAME. */
function parseHttpsUpstream(text: string): Upstream {
  const hash = text.indexOf("#");
  const urlText = hash < 0 ? text : text.slice(0, hash);
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new UsageError(`--upstream ${text}: not a URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError(`--upstream ${text}: a DoH URL has a host, a port and a path only`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port === "" ? 443 : Number(url.port);
  if (hash < 0) return { hostname: host, port, https: { url: url.href, addressGiven: false } };
  const address = text.slice(hash + 1);
  if (!parseIPv4(address) && !parseIPv6(address)) {
    throw new UsageError(`--upstream ${text}: "${address}" after # is not an IP address`);
  }
  return { hostname: address, port, https: { url: url.href, addressGiven: true } };
}

/**
 * Parses an upstream: `HOST[:PORT]`, `[V6]:PORT` or a bare IPv6 address (the host an IP address);
 * `tls://IP[:PORT][#NAME]` (DNS over TLS); `https://NAME[:PORT]/PATH[#IP]` (DNS over HTTPS).
 */
export function parseUpstream(text: string): Upstream {
  if (text.startsWith("tls://")) return parseTlsUpstream(text);
  if (text.startsWith("https://")) return parseHttpsUpstream(text);
  return parsePlainUpstream(text, text, 53);
}

/** Parses `HOST[:PORT]`, `[V6]:PORT` or a bare IPv6 address; the host must be an IP address. */
function parsePlainUpstream(text: string, given: string, defaultPort: number): Upstream {
  const whole = `--upstream ${given}`;
  let host = text;
  let port = defaultPort;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = parsePort(bracketed[2], whole);
    if (!parseIPv6(host)) throw new UsageError(`${whole}: "${host}" is not an IPv6 address`);
    return { hostname: host, port };
  }
  if (parseIPv6(text)) return { hostname: text, port };
  const colon = text.lastIndexOf(":");
  if (colon >= 0) {
    host = text.slice(0, colon);
    port = parsePort(text.slice(colon + 1), whole);
  }
  if (!parseIPv4(host)) throw new UsageError(`${whole}: "${host}" is not an IP address`);
  return { hostname: host, port };
}

/** Parses `--tsig-key NAME:ALGORITHM:BASE64`. */
function parseKey(text: string): TsigKey {
  try {
    return parseTsigKey(text);
  } catch (error) {
    if (!(error instanceof TsigKeyError)) throw error;
    throw new UsageError(`--tsig-key: ${error.message}`);
  }
}

/** Parses `--secondary ZONE=HOST:PORT[@KEY]`, KEY one of `keys`. */
export function parseSecondary(text: string, keys: readonly TsigKey[]): SecondarySetting {
  const what = `--secondary ${text}`;
  const match = /^([^=]+)=([^@]+)(?:@(.+))?$/.exec(text);
  if (!match) throw new UsageError(`${what}: expected ZONE=HOST:PORT[@KEY]`);
  const zone = match[1]!.trim().replace(/\.$/, "");
  try {
    checkName(zone);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${what}: "${zone}" is not a domain name (${reason})`);
  }
  let primary: Upstream;
  try {
    primary = parseUpstream(match[2]!.trim());
    if (primary.tls || primary.https) throw new UsageError("a primary is asked over TCP");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`${what}: "${match[2]}" is not an IP address with an optional port`);
  }
  const keyName = match[3]?.trim().replace(/\.$/, "").toLowerCase();
  if (keyName === undefined) return { zone, primary, key: null };
  const key = keys.find((each) => each.name === keyName);
  if (!key) throw new UsageError(`${what}: no --tsig-key named "${keyName}"`);
  return { zone, primary, key };
}

/** The encrypted transports' settings from `values`: a port without a certificate and key is an error. */
function encryptedSettings(values: Settings): EncryptedSettings {
  const tlsPort = values.integer("tls-port") || null;
  const httpsPort = values.integer("https-port") || null;
  const certFile = values.text("tls-cert") || null;
  const keyFile = values.text("tls-key") || null;
  if ((tlsPort !== null || httpsPort !== null) && (certFile === null || keyFile === null)) {
    const flag = tlsPort !== null ? "--tls-port" : "--https-port";
    throw new UsageError(`${flag} needs --tls-cert and --tls-key (PEM files)`);
  }
  if ((certFile === null) !== (keyFile === null)) {
    throw new UsageError(certFile === null ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
  }
  return {
    tlsPort,
    httpsPort,
    certFile,
    keyFile,
    upstreamCa: values.list("upstream-ca", (file) => listFile("upstream-ca", file)),
  };
}

/** The transfer settings from `values`. */
function transferSettings(
  values: Settings,
  cidr: (flag: string) => (text: string) => string,
): TransferSettings {
  const keys = values.list("tsig-key", parseKey);
  const names = new Set<string>();
  for (const key of keys) {
    if (names.has(key.name)) throw new UsageError(`--tsig-key: the key "${key.name}" is given twice`);
    names.add(key.name);
  }
  const secondaries = values.list("secondary", (text) => parseSecondary(text, keys));
  const zones = new Set<string>();
  for (const { zone } of secondaries) {
    if (zones.has(nameKey(zone))) throw new UsageError(`--secondary: the zone "${zone}" is given twice`);
    zones.add(nameKey(zone));
  }
  return {
    allowTransfer: values.list("allow-transfer", cidr("allow-transfer")),
    notify: values.list("notify", (text) => {
      try {
        const target = parseUpstream(text);
        if (target.tls || target.https) throw new UsageError("NOTIFY goes over UDP");
        return target;
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        throw new UsageError(`--notify ${text}: expected an IP address with an optional port`);
      }
    }),
    keys,
    secondaries,
    secondaryDir: values.text("secondary-dir") || null,
    journalSize: values.integer("journal-size"),
  };
}

/** The most forward zones: each holds its own upstream sockets. */
export const MAX_FORWARD_ZONES = 1000;

/** Parses `DOMAIN=HOST[:PORT][,HOST[:PORT]...]`: a forward zone and its upstreams, in order. */
export function parseForwardZone(text: string): ForwardZone {
  const equals = text.indexOf("=");
  const domain = equals < 0 ? "" : text.slice(0, equals).trim();
  if (equals < 0 || domain === "") {
    throw new UsageError(`--forward-zone ${text}: expected DOMAIN=HOST[:PORT][,HOST[:PORT]...]`);
  }
  if (nameKey(domain) === "") {
    throw new UsageError(`--forward-zone ${text}: the root is every name: use --upstream for it`);
  }
  try {
    checkName(domain);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`--forward-zone ${text}: "${domain}" is not a domain name (${reason})`);
  }
  const hosts = text.slice(equals + 1).split(",").map((host) => host.trim());
  if (hosts.some((host) => host === "")) {
    throw new UsageError(`--forward-zone ${text}: an upstream HOST[:PORT] is needed after "=" and each ","`);
  }
  const upstreams = hosts.map((host) => {
    try {
      return parseUpstream(host);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      throw new UsageError(`--forward-zone ${text}: ${error.message.replace(/^--upstream \S+: /, "")}`);
    }
  });
  return { domain: nameKey(domain), upstreams };
}

/** Each domain once: a second forward zone for one domain is a mistake, not a merge. */
function distinctZones(zones: readonly ForwardZone[]): readonly ForwardZone[] {
  if (zones.length > MAX_FORWARD_ZONES) {
    throw new UsageError(`--forward-zone: at most ${MAX_FORWARD_ZONES} forward zones, not ${zones.length}`);
  }
  const seen = new Set<string>();
  for (const zone of zones) {
    if (seen.has(zone.domain)) throw new UsageError(`--forward-zone: "${zone.domain}" is given twice`);
    seen.add(zone.domain);
  }
  return zones;
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

/** A list file's name, which must not be empty. */
function listFile(flag: string, name: string): string {
  if (name === "") throw new UsageError(`--${flag}: a file name is needed`);
  return name;
}

/** A value as the command line gives it: text, on/off, or the texts of a repeated flag. */
type CliValue = string | boolean | string[];

/** Options for {@link parseCommand}. */
export interface ParseOptions {
  /** Reads the file `--config` names (default `Deno.readTextFileSync`); injected by tests. */
  readonly readFile?: (path: string) => string;
  /**
   * Parses and checks the config file's text: what `loadConfigFileReader()` gives. Needed only with
   * `--config`; it is loaded only then, because the TOML parser and the schema library it checks
   * with cost an idle dnsd several MiB of memory (issue 19).
   */
  readonly configFile?: ConfigFileReader;
}

/**
 * The settings of one start or reload: each from the command line when given there (a repeatable
 * flag's whole list too), else from the config file, else its default. A value from the file that
 * the parsing below rejects is reported at its line, under its key.
 */
class Settings {
  readonly #cli: ReadonlyMap<string, CliValue>;
  readonly #file: ConfigFileSettings | null;

  constructor(cli: ReadonlyMap<string, CliValue>, file: ConfigFileSettings | null) {
    this.#cli = cli;
    this.#file = file;
  }

  /** The value of `flag`, as the command line writes it (numbers from the file as text). */
  #raw(flag: string): CliValue | undefined {
    const given = this.#cli.get(flag) ?? this.#file?.settings.get(flag)?.value;
    const value = given ?? optionByFlag(flag)?.default;
    if (value === undefined) return undefined;
    if (typeof value === "number") return String(value);
    return Array.isArray(value) ? [...value] : value as string | boolean;
  }

  /** Runs `parse` on `flag`'s text; an error about a file value is told at the file's line. */
  #at<T>(flag: string, parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      const fromFile = this.#cli.has(flag) ? undefined : this.#file?.settings.get(flag);
      if (!(error instanceof UsageError) || !fromFile || !this.#file) throw error;
      // "--upstream 1.2.3: ..." becomes "dnsd.toml:4: upstream: ..."
      const what = error.message.replace(/^--[\w-]+(?: [^:]*)?: /, "");
      throw new ConfigFileError(`${this.#file.path}:${fromFile.line}: ${flag.replaceAll("-", "_")}: ${what}`);
    }
  }

  text(flag: string, parse: (text: string) => string = (text) => text): string {
    return this.#at(flag, () => parse(String(this.#raw(flag) ?? "")));
  }

  flag(flag: string): boolean {
    return this.#raw(flag) === true;
  }

  list<T>(flag: string, parse: (text: string) => T): T[] {
    const value = this.#raw(flag);
    return this.#at(flag, () => (Array.isArray(value) ? value : []).map(parse));
  }

  /** A whole number within the option's range; the message says the range. */
  integer(flag: string, parse?: (text: string) => number): number {
    const type = optionByFlag(flag)?.type;
    const [min, max] = type?.kind === "integer" ? [type.min, type.max] : [0, Number.MAX_SAFE_INTEGER];
    return this.#at(
      flag,
      () => (parse ?? ((text) => wholeNumber(text, `--${flag}`, min, max)))(this.text(flag)),
    );
  }

  /** One of the option's choices. */
  choice<T extends string>(flag: string, choices: readonly T[]): T {
    return this.#at(flag, () => {
      const text = this.text(flag);
      const found = choices.find((choice) => choice === text);
      if (!found) throw new UsageError(`--${flag}: "${text}" is not one of ${choices.join(", ")}`);
      return found;
    });
  }
}

/**
 * `--port -1` as `--port=-1`: parseArgs takes a value that starts with "-" for a flag ("argument is
 * ambiguous"), so a negative number would never reach the check that says what is allowed.
 */
function joinDashValues(args: readonly string[], options: Record<string, { type: string }>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const flag = arg.startsWith("--") ? arg.slice(2) : "";
    if (options[flag]?.type === "string" && next !== undefined && /^-[0-9.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** The command line's own flags, with only what was given (defaults come later, after the file). */
function readArgs(args: readonly string[]): Map<string, CliValue> {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const spec of OPTIONS) {
    options[spec.flag] = spec.type.kind === "flag"
      ? { type: "boolean", ...(spec.flag === "help" ? { short: "h" } : {}) }
      : { type: "string", ...(spec.type.kind === "list" ? { multiple: true } : {}) };
  }
  try {
    const { values } = parseArgs({
      args: joinDashValues(args, options),
      strict: true,
      allowPositionals: false,
      options,
    });
    return new Map(Object.entries(values).filter(([, value]) => value !== undefined) as [string, CliValue][]);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split("\n")[0]! : String(error));
  }
}

/** The text of a file that could not be read, as one line. */
function unreadable(path: string, error: unknown): ConfigFileError {
  if (error instanceof Deno.errors.NotFound) return new ConfigFileError(`--config ${path}: no such file`);
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new ConfigFileError(`--config ${path}: cannot read it: ${reason}`);
}

/**
 * Parses the command line, and the config file it names (`--config`): a flag given on the command
 * line replaces the file's value for that key (for a repeatable flag, the file's whole list).
 * @throws {UsageError} for an unknown flag or key, or a bad value (at the file's line for the file's)
 */
export function parseCommand(args: readonly string[], options: ParseOptions = {}): Command {
  // `deno task start -- --port 53` passes the "--" on, as the usual end of its own options.
  if (args[0] === "--") args = args.slice(1);
  if (args[0] === "explain") return parseExplain(args.slice(1));
  const cli = readArgs(args);
  if (cli.get("help") === true) return { kind: "help" };
  if (cli.get("version") === true) return { kind: "version" };
  const configPath = cli.get("config");
  let file: ConfigFileSettings | null = null;
  if (typeof configPath === "string") {
    if (configPath === "") throw new UsageError("--config: a file name is needed");
    let text: string;
    try {
      text = (options.readFile ?? Deno.readTextFileSync)(configPath);
    } catch (error) {
      throw unreadable(configPath, error);
    }
    if (!options.configFile) throw new Error("parseCommand(): --config needs options.configFile");
    file = options.configFile(configPath, text);
  }
  const values = new Settings(cli, file);
  const port = values.integer("port", (text) => parsePort(text, "--port"));
  // `listen` (the config file's usual name for it) in place of `host` when given.
  const listenItems = values.list("listen", (text) => parseListen(text, port));
  const listen = listenItems.length > 0
    ? listenItems
    : values.list("host", (text) => parseListen(text, port));
  if (listen.length === 0) throw new UsageError("--host: an address is needed");
  const timeoutMs = values.integer("timeout", (text) => {
    if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 600_000) {
      throw new UsageError(`--timeout: "${text}" is not a whole number of milliseconds (1-600000)`);
    }
    return Number(text);
  });
  const logLevel = values.choice("log-level", LOG_LEVELS);
  const strategy = values.choice("upstream-strategy", UPSTREAM_STRATEGIES);
  const minTtl = values.integer("min-ttl");
  const maxTtl = values.integer("max-ttl");
  if (minTtl > maxTtl) throw new UsageError(`--min-ttl ${minTtl} is above --max-ttl ${maxTtl}`);
  const serveStale = values.flag("serve-stale");
  const cache: CacheOptions = {
    limits: {
      maxEntries: values.integer("cache-size"),
      minTtl,
      maxTtl,
      servfailTtl: values.integer("servfail-ttl"),
      // Expired answers are kept only when they may be served.
      staleMax: serveStale ? values.integer("stale-max") : 0,
    },
    serveStale,
    allowSnooping: values.flag("allow-cache-snooping"),
  };
  const udpIo = values.choice("udp-io", ["auto", "deno", "batched"] as const);
  const cidr = (flag: string) => (text: string) => {
    try {
      parsePrefix(text);
    } catch (error) {
      if (!(error instanceof PrefixError)) throw error;
      throw new UsageError(`--${flag} ${text}: "${text}": ${error.reason}`);
    }
    return text;
  };
  const access: AccessRules = {
    allow: values.list("allow", cidr("allow")),
    deny: values.list("deny", cidr("deny")),
  };
  const recursion: RecursionRules = {
    disabled: values.flag("no-recursion"),
    allow: values.list("allow-recursion", cidr("allow-recursion")),
  };
  const rateLimit: RateLimitOptions = {
    perSecond: values.integer("rate-limit"),
    prefix4: values.integer("rate-limit-prefix"),
    prefix6: values.integer("rate-limit-prefix6"),
    slip: values.integer("rate-limit-slip"),
  };
  const cookies: CookieOptions = {
    secrets: values.list("cookie-secret", parseSecret),
    require: values.flag("require-cookies"),
  };
  return {
    rateLimit,
    cookies,
    metrics: parseHttpAddress(values.text("metrics", (text) => {
      if (text !== "" && !parseHttpAddress(text)) {
        throw new UsageError(`--metrics: "${text}" is not HOST:PORT or PORT`);
      }
      return text;
    })),
    queryLog: values.text("query-log") || null,
    adminToken: values.text("admin-token", (text) => {
      // A header value: visible ASCII, no spaces (RFC 6750 section 2.1's b64token and more).
      if (text !== "" && !/^[\x21-\x7e]+$/.test(text)) {
        throw new UsageError("--admin-token: only visible ASCII characters, no spaces");
      }
      return text;
    }) || null,
    kind: "serve",
    validation: dnssecSettings(values.flag("dnssec"), values.list("trust-anchor", (text) => text)),
    transfers: transferSettings(values, cidr),
    encrypted: encryptedSettings(values),
    udpIo,
    udpCoalesceUs: values.integer("udp-coalesce"),
    workers: values.integer("workers"),
    workersSpread: values.choice("workers-spread", ["name", "client"] as const),
    workersBusy: values.integer("workers-busy"),
    access,
    recursion,
    reloadSettleMs: values.integer("reload-settle"),
    cache,
    strategy,
    caseRandomization: values.flag("0x20"),
    maxOutstanding: values.integer("max-outstanding"),
    tcp: {
      idleTimeoutMs: values.integer("tcp-idle-timeout"),
      maxConnections: values.integer("tcp-max-connections"),
      writeTimeoutMs: values.integer("tcp-write-timeout"),
    },
    host: listen[0]!.hostname,
    port,
    listen,
    upstreams: values.list("upstream", parseUpstream),
    timeoutMs,
    logLevel,
    zones: values.list("zone", parseZoneSource),
    hosts: values.list("hosts", (name) => {
      if (name === "") throw new UsageError("--hosts: a file name is needed");
      return name;
    }),
    blocklists: values.list("blocklist", (name) => listFile("blocklist", name)),
    allowlists: values.list("allowlist", (name) => listFile("allowlist", name)),
    blockMode: values.choice("block-mode", BLOCK_MODES),
    config: file === null ? null : { path: file.path, mappings: file.mappings, assertions: file.assertions },
    check: cli.get("check") === true,
    mappings: values.flag("no-mappings") ? "none" : file?.mappings ? "file" : "builtin",
    forwardZones: distinctZones(values.list("forward-zone", parseForwardZone)),
    defaultZones: !values.flag("no-default-zones"),
    forwardSingleLabel: values.flag("forward-single-label"),
    hideVersion: values.flag("hide-version"),
    identity: values.text("identity", (text) => {
      // One TXT character-string, as unbound caps it: the answer stays small.
      if (new TextEncoder().encode(text).length > 255) {
        throw new UsageError("--identity: more than 255 octets");
      }
      return text;
    }) || null,
  };
}
