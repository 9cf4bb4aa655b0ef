/**
 * Every setting dnsd has, once: its flag, the config file key made from it, its type and range, its
 * default, and whether a running server can take a new value. The command line (`parseArgs`), the
 * config file's schema (zod, and from it `docs/dnsd.schema.json`) and the key reference in
 * `docs/configuration.md` are all made from this table. Pure data.
 * @module
 */
import { DEFAULT_RECURSION_PREFIXES } from "../policy/mod.ts";

/** How a setting is written, and what it may be. */
export type OptionType =
  | { readonly kind: "flag" }
  | { readonly kind: "integer"; readonly min: number; readonly max: number }
  | { readonly kind: "choice"; readonly choices: readonly string[] }
  | { readonly kind: "text" }
  | { readonly kind: "list" };

/** One setting. */
export interface OptionSpec {
  /** The long flag without its dashes: `cache-size`. */
  readonly flag: string;
  /** Its type and allowed values. */
  readonly type: OptionType;
  /** The value when neither the command line nor the file gives one; none for lists that start empty. */
  readonly default?: string | number | boolean | readonly string[];
  /** One line for the schema's description and the key reference. */
  readonly summary: string;
  /** Only on the command line (`--help`, `--config`, ...): no key in the file. */
  readonly cliOnly?: boolean;
  /** A running server keeps its value until it restarts (sockets, sizes fixed at start-up). */
  readonly restart?: boolean;
}

const UINT31 = 2_147_483_647;

/** The settings, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  { flag: "config", type: { kind: "text" }, summary: "read settings from this TOML file", cliOnly: true },
  {
    flag: "check",
    type: { kind: "flag" },
    summary: "check the config, data and assertions, print each failure, exit 0 or 1",
    cliOnly: true,
  },
  {
    flag: "host",
    type: { kind: "list" },
    default: ["127.0.0.1"],
    summary: "addresses to listen on, UDP and TCP, HOST[:PORT] (a name is looked up in /etc/hosts)",
    restart: true,
  },
  {
    flag: "listen",
    type: { kind: "list" },
    summary: "the same as host, in its place when given: HOST[:PORT] items",
    restart: true,
  },
  {
    flag: "port",
    type: { kind: "integer", min: 0, max: 65_535 },
    default: 2053,
    summary: "the UDP and TCP port to listen on",
    restart: true,
  },
  {
    flag: "upstream",
    type: { kind: "list" },
    default: ["8.8.8.8:53"],
    summary: "upstream resolvers, HOST[:PORT], tls://IP[:PORT][#NAME] or https://NAME[:PORT]/PATH[#IP]",
  },
  {
    flag: "timeout",
    type: { kind: "integer", min: 1, max: 600_000 },
    default: 2000,
    summary: "deadline for a forwarded query over every upstream, in ms",
  },
  {
    flag: "max-outstanding",
    type: { kind: "integer", min: 1, max: 1_000_000 },
    default: 10_000,
    summary: "most queries waiting for upstreams at once",
  },
  {
    flag: "upstream-strategy",
    type: { kind: "choice", choices: ["sequential", "random", "fastest"] },
    default: "sequential",
    summary: "the order healthy upstreams are tried in",
  },
  {
    flag: "forward-zone",
    type: { kind: "list" },
    summary: "forward names at or below DOMAIN to their own upstreams, DOMAIN=HOST[:PORT][,HOST[:PORT]...]",
  },
  {
    flag: "0x20",
    type: { kind: "flag" },
    default: false,
    summary: "randomise the case of upstream questions and require replies to echo it",
  },
  {
    flag: "dnssec",
    type: { kind: "flag" },
    default: false,
    summary: "validate forwarded answers under the root trust anchors (RFC 4033-4035): AD=1 or SERVFAIL",
    restart: true,
  },
  {
    flag: "trust-anchor",
    type: { kind: "list" },
    summary: "validate under the DS or DNSKEY records in this zone-format file instead; implies dnssec",
    restart: true,
  },
  {
    flag: "tcp-idle-timeout",
    type: { kind: "integer", min: 1, max: 3_600_000 },
    default: 10_000,
    summary: "close an idle TCP connection after this many ms",
    restart: true,
  },
  {
    flag: "tcp-max-connections",
    type: { kind: "integer", min: 1, max: 65_535 },
    default: 150,
    summary: "most TCP connections at once",
    restart: true,
  },
  {
    flag: "tcp-write-timeout",
    type: { kind: "integer", min: 1, max: 600_000 },
    default: 5000,
    summary: "close a TCP connection whose answer is not taken within this many ms",
    restart: true,
  },
  {
    flag: "cache-size",
    type: { kind: "integer", min: 0, max: 100_000_000 },
    default: 100_000,
    summary: "most cached answers (0 turns the cache off)",
    restart: true,
  },
  {
    flag: "min-ttl",
    type: { kind: "integer", min: 0, max: UINT31 },
    default: 0,
    summary: "least TTL a cached answer is kept for, in seconds",
    restart: true,
  },
  {
    flag: "max-ttl",
    type: { kind: "integer", min: 0, max: UINT31 },
    default: 86_400,
    summary: "most TTL a cached answer is kept for, in seconds",
    restart: true,
  },
  {
    flag: "servfail-ttl",
    type: { kind: "integer", min: 1, max: 300 },
    default: 5,
    summary: "how long a failure is remembered, in seconds",
    restart: true,
  },
  {
    flag: "serve-stale",
    type: { kind: "flag" },
    default: false,
    summary: "when every upstream fails, serve an expired answer (RFC 8767)",
    restart: true,
  },
  {
    flag: "stale-max",
    type: { kind: "integer", min: 1, max: 604_800 },
    default: 86_400,
    summary: "how long past expiry an answer may be served stale, in seconds",
    restart: true,
  },
  {
    flag: "allow-cache-snooping",
    type: { kind: "flag" },
    default: false,
    summary: "let RD=0 queries read (never fill) the cache",
    restart: true,
  },
  { flag: "zone", type: { kind: "list" }, summary: "zone files to serve, [ORIGIN=]FILE" },
  { flag: "hosts", type: { kind: "list" }, summary: "hosts(5) files to answer from" },
  {
    flag: "blocklist",
    type: { kind: "list" },
    summary: "block the domains listed in these files, and the names below them",
  },
  {
    flag: "allowlist",
    type: { kind: "list" },
    summary: "unblock the domains listed in these files, and the names below them",
  },
  {
    flag: "block-mode",
    type: { kind: "choice", choices: ["null", "nxdomain", "refused"] },
    default: "null",
    summary: "how a blocked name is answered: 0.0.0.0 and ::, NXDOMAIN, or REFUSED",
  },
  {
    flag: "no-mappings",
    type: { kind: "flag" },
    default: false,
    summary: "start without the names of mappings.ts",
  },
  {
    flag: "no-default-zones",
    type: { kind: "flag" },
    default: false,
    summary: "forward localhost, home.arpa, private reverse zones and the like instead of answering them",
  },
  {
    flag: "forward-single-label",
    type: { kind: "flag" },
    default: false,
    summary: "forward A and AAAA queries for single-label names (nas) instead of answering NXDOMAIN",
  },
  {
    flag: "hide-version",
    type: { kind: "flag" },
    default: false,
    summary: "refuse the CHAOS version.bind and version.server queries",
  },
  {
    flag: "identity",
    type: { kind: "text" },
    summary: "the answer to the CHAOS hostname.bind and id.server queries (refused when unset)",
  },
  {
    flag: "allow",
    type: { kind: "list" },
    summary: "answer only clients inside these prefixes (CIDR, IPv4 or IPv6); all when none",
    restart: true,
  },
  {
    flag: "deny",
    type: { kind: "list" },
    summary: "refuse clients inside these prefixes (CIDR), even where an allow is more specific",
    restart: true,
  },
  {
    flag: "allow-recursion",
    type: { kind: "list" },
    default: DEFAULT_RECURSION_PREFIXES,
    summary: "clients that may have cached and forwarded answers (CIDR); others get local data only",
    restart: true,
  },
  {
    flag: "no-recursion",
    type: { kind: "flag" },
    default: false,
    summary: "authoritative only: no upstreams, RA=0, names outside local data REFUSED",
    restart: true,
  },
  {
    flag: "allow-transfer",
    type: { kind: "list" },
    default: ["127.0.0.0/8", "::1"],
    summary: "clients that may transfer zones by AXFR and IXFR over TCP (CIDR); others get REFUSED",
    restart: true,
  },
  {
    flag: "notify",
    type: { kind: "list" },
    summary: "send NOTIFY to this HOST:PORT when a zone's serial changes (retried every 5 s, 5 times)",
    restart: true,
  },
  {
    flag: "tsig-key",
    type: { kind: "list" },
    summary: "a TSIG key NAME:ALGORITHM:BASE64; with any, transfers and NOTIFY must be signed",
    restart: true,
  },
  {
    flag: "secondary",
    type: { kind: "list" },
    summary: "serve ZONE as a secondary of a primary: ZONE=HOST:PORT[@KEY]",
    restart: true,
  },
  {
    flag: "secondary-dir",
    type: { kind: "text" },
    summary: "write each secondary zone to a file here, and serve it from there at start",
    restart: true,
  },
  {
    flag: "journal-size",
    type: { kind: "integer", min: 0, max: 100_000_000 },
    default: 100_000,
    summary: "records of zone differences kept per zone for IXFR; the oldest go first (0: AXFR only)",
    restart: true,
  },
  {
    flag: "rate-limit",
    type: { kind: "integer", min: 0, max: 1_000_000 },
    default: 0,
    summary:
      "UDP responses a second per client prefix, and the burst, per UDP event loop (0 turns rate limiting off)",
    restart: true,
  },
  {
    flag: "rate-limit-prefix",
    type: { kind: "integer", min: 0, max: 32 },
    default: 24,
    summary: "the IPv4 prefix length clients are rate limited by",
    restart: true,
  },
  {
    flag: "rate-limit-prefix6",
    type: { kind: "integer", min: 0, max: 128 },
    default: 56,
    summary: "the IPv6 prefix length clients are rate limited by",
    restart: true,
  },
  {
    flag: "rate-limit-slip",
    type: { kind: "integer", min: 0, max: 100 },
    default: 2,
    summary: "send every K-th response over the limit truncated (TC=1), drop the rest (0 drops all)",
    restart: true,
  },
  {
    flag: "cookie-secret",
    type: { kind: "list" },
    summary: "128-bit DNS cookie secrets, 32 hex digits: the first makes server cookies, all are accepted",
    restart: true,
  },
  {
    flag: "require-cookies",
    type: { kind: "flag" },
    default: false,
    summary: "over UDP, answer BADCOOKIE or TC=1 to queries without a valid server cookie",
    restart: true,
  },
  {
    flag: "reload-settle",
    type: { kind: "integer", min: 0, max: 600_000 },
    default: 2000,
    summary: "reload a changed file once it has stayed unchanged this many ms",
    restart: true,
  },
  {
    flag: "udp-io",
    type: { kind: "choice", choices: ["auto", "deno", "batched"] },
    default: "auto",
    summary: "how UDP is read: batched (recvmmsg through FFI), deno, or auto",
    restart: true,
  },
  {
    flag: "udp-coalesce",
    type: { kind: "integer", min: 0, max: 1000 },
    default: 100,
    summary: "batched UDP under load: pause up to this many µs so queries gather for one read; 0: never",
    restart: true,
  },
  {
    flag: "workers",
    type: { kind: "integer", min: 0, max: 256 },
    default: 0,
    summary: "event loops answering UDP on the same ports (SO_REUSEPORT; batched UDP only); 0: one per CPU",
    restart: true,
  },
  {
    flag: "workers-busy",
    type: { kind: "integer", min: 0, max: 100 },
    default: 70,
    summary:
      "with name spread: more workers take queries once the busiest is this % busy; 0: all from the start",
    restart: true,
  },
  {
    flag: "workers-spread",
    type: { kind: "choice", choices: ["name", "client"] },
    default: "name",
    summary: "how UDP queries are spread over workers: by query name (one cache for each name) or by client",
    restart: true,
  },
  {
    flag: "tls-port",
    type: { kind: "integer", min: 0, max: 65_535 },
    default: 0,
    summary: "serve DNS over TLS (RFC 7858) on this port of every listen address (853 is usual; 0: off)",
    restart: true,
  },
  {
    flag: "https-port",
    type: { kind: "integer", min: 0, max: 65_535 },
    default: 0,
    summary: "serve DNS over HTTPS (RFC 8484) at /dns-query on this port of every listen address (0: off)",
    restart: true,
  },
  {
    flag: "tls-cert",
    type: { kind: "text" },
    summary: "the certificate chain (PEM) of DoT and DoH, read again on SIGHUP and when the file changes",
    restart: true,
  },
  {
    flag: "tls-key",
    type: { kind: "text" },
    summary: "the private key (PEM) of that certificate",
    restart: true,
  },
  {
    flag: "upstream-ca",
    type: { kind: "list" },
    summary:
      "CA certificates (PEM files) trusted for tls:// and https:// upstreams besides the bundled roots",
    restart: true,
  },
  {
    flag: "metrics",
    type: { kind: "text" },
    summary: "serve /metrics, /health and /ready over HTTP on HOST:PORT (a bare PORT: loopback)",
    restart: true,
  },
  {
    flag: "query-log",
    type: { kind: "text" },
    summary: "write one JSON line per query to this file (- for stdout), reopened on SIGHUP",
    restart: true,
  },
  {
    flag: "admin-token",
    type: { kind: "text" },
    summary: "the bearer token POST /cache/flush and POST /reload need; unset: loopback clients only",
  },
  {
    flag: "log-level",
    type: { kind: "choice", choices: ["debug", "info", "warning", "error"] },
    default: "info",
    summary: "the least level logged",
  },
  { flag: "help", type: { kind: "flag" }, summary: "show the help and exit (also -h)", cliOnly: true },
  { flag: "version", type: { kind: "flag" }, summary: "show the version and exit", cliOnly: true },
];

/** The config file key of a setting: its flag with `-` written `_`. */
export function fileKey(spec: OptionSpec): string {
  return spec.flag.replaceAll("-", "_");
}

/** The setting with this flag. */
export function optionByFlag(flag: string): OptionSpec | undefined {
  return OPTIONS.find((spec) => spec.flag === flag);
}
