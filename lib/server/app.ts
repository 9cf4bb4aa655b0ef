/**
 * Wires the pieces into a running server: the stage chain, the forwarder and the listening
 * sockets (UDP and TCP on one port), around local data loaded elsewhere. The CLI and the tests
 * both start dnsd through here.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  createForwardCounters,
  Deadlines,
  type DropReason,
  type Exchange,
  forward,
  type ForwardCounters,
  forwardRouter,
  type ForwardZone,
  httpsExchange,
  pooledUdpExchange,
  routedForward,
  tcpExchange,
  tlsExchange,
  turnClock,
  type Upstream,
  type UpstreamHealth,
  upstreamName,
  type UpstreamStrategy,
  validating,
  wildcardFor,
} from "../upstream/mod.ts";
import {
  admission,
  authoritative,
  chain,
  chaos,
  defaultZones,
  logQueries,
  type QueryHook,
  type Request,
  requireRecursion,
  type Resolve,
  ResponseMemo,
  singleLabel,
  type Stage,
} from "../resolve/mod.ts";
import {
  displayName,
  type Message,
  nameKey,
  query,
  type ResourceRecord,
  RRType,
  typeName,
} from "../proto/mod.ts";
import { createValidator } from "../dnssec/mod.ts";
import type { LocalData } from "../zone/mod.ts";
import { blocking, type BlockPolicy } from "../block/mod.ts";
import {
  type BindAddress,
  type DatagramSocket,
  listenUdp,
  openUpstreamSocket,
  UdpReactor,
} from "../net/mod.ts";
import {
  type HttpServer,
  Metrics,
  observers,
  openLogSink,
  openLogSinkSync,
  QueryLog,
  type QueryObserver,
  RemoteEvents,
  type Routes,
  serveHttp,
  Source,
  UpstreamResult,
} from "../observe/mod.ts";
import {
  accessCheck,
  accessControl,
  type AccessRules,
  DEFAULT_RECURSION_PREFIXES,
  recursionCheck,
  recursionGate,
  type RecursionRules,
} from "../policy/mod.ts";
import { answerCache, type Cache, type CacheSettings, type CacheView } from "../cache/mod.ts";
import { serveUdp } from "./udp_server.ts";
import { type CookieOptions, RateLimiter, type RateLimitOptions, ServerCookies } from "../policy/mod.ts";
import { serveTcp, type TcpServerOptions } from "./tcp_server.ts";
import { type EncryptedListeners, type EncryptedServing, startEncrypted } from "./encrypted.ts";
import { ListenError } from "./listen_error.ts";
import type { OpcodeHandlers } from "./dispatch.ts";
import type { TsigSettings } from "./respond.ts";
import { pendingZones, type ZoneNotReady } from "../xfr/mod.ts";
import { explainer, type ExplainQuestion, type Explanation, type LocalTrace } from "./explain.ts";
import type { ExplainFiles } from "./explain_sources.ts";
import {
  type CacheFigures,
  type Peers,
  queriesOf,
  type ServerFigures,
  sumCaches,
  sumCounters,
  sumMetrics,
} from "./peers.ts";
import type { StatisticsSource } from "./statistics.ts";

const log = getLogger(["dnsd", "forward"]);

export { ListenError };

/** Everything needed to start a server. */
export interface ServerOptions {
  /** The address to listen on for DNS queries over UDP and TCP (when `listen` is not given). */
  readonly host: string;
  /** The port to listen on, UDP and TCP (53 for DNS; 0 picks a free one). */
  readonly port: number;
  /**
   * Every address to listen on, each an IP address (IPv4 or IPv6) with its port, in place of
   * `host` and `port`: a UDP socket and a TCP listener each. All those with port 0 get one free
   * port, the same for all.
   */
  readonly listen?: readonly { readonly hostname: string; readonly port: number }[];
  /** The recursive resolvers to forward to, tried in order. */
  readonly upstreams: readonly Upstream[];
  /**
   * More CA certificates (PEM texts, `--upstream-ca`) that DoT and DoH upstreams' certificates may
   * chain to, besides Deno's default roots. Texts, not files: main.ts reads them at start, so an
   * unreadable file fails the start, not the first query.
   */
  readonly upstreamCa?: readonly string[];
  /** The deadline for a forwarded query, over every upstream, in milliseconds. */
  readonly timeoutMs: number;
  /** The local data to answer from, read again for every query (so a reload can swap it). */
  readonly localData: () => LocalData;
  /**
   * The blocklists in force and how blocked names are answered, read for every query (so a reload
   * can swap them); none blocks nothing.
   */
  readonly blockPolicy?: () => BlockPolicy;
  /** TCP limits; the defaults suit most. */
  readonly tcp?: TcpServerOptions;
  /** The order healthy upstreams are tried in (default sequential). */
  readonly strategy?: UpstreamStrategy;
  /** Randomise the case of upstream questions and require replies to echo it (0x20). */
  readonly caseRandomization?: boolean;
  /** The most queries waiting for upstreams at once; past it SERVFAIL at once (default 10,000). */
  readonly maxOutstanding?: number;
  /**
   * How UDP is read: `deno` (one op per datagram, everywhere) or `batched` (recvmmsg through FFI,
   * Linux only, needs `--allow-ffi`; see lib/net/ffi_udp.ts). Default `deno`.
   */
  readonly udpIo?: "deno" | "batched";
  /** With batched UDP: the longest pause for queries to gather under load (µs; lib/net/coalesce.ts). */
  readonly udpCoalesceUs?: number;
  /** The answer cache; none when absent (the CLI always gives one: `--cache-size 0` turns it off). */
  readonly cache?: CacheSettings;
  /**
   * Run in order for every query as it arrives, over UDP and TCP, before any answer goes out (memo
   * hits included): where access control, rate limiting, metrics and the query log sit.
   */
  readonly hooks?: readonly QueryHook[];
  /** Handlers for NOTIFY, UPDATE and zone transfers; without them NOTIMP and REFUSED. */
  readonly handlers?: OpcodeHandlers;
  /** TSIG keys for signed requests (`--tsig-key`); without them every signed request gets BADKEY. */
  readonly tsig?: TsigSettings;
  /** Secondary zones with no copy to serve: their names get SERVFAIL (see lib/xfr). */
  readonly zoneNotReady?: ZoneNotReady;
  /** Milliseconds on a monotonic clock (default `performance.now()`): injected by tests that move time. */
  readonly clock?: () => number;
  /**
   * Forward zones: names at or below each domain go to its upstreams instead of `upstreams`, the
   * longest matching domain winning (see lib/upstream/forward_zones.ts). Fixed while running.
   */
  readonly forwardZones?: readonly ForwardZone[];
  /** dnsd's version, the CHAOS `version.bind` answer ("dnsd VERSION"); passed in from the CLI. */
  readonly version?: string;
  /** The local stages' settings, read as queries come so a reload can change them (default {@link DEFAULT_LOCAL_SETTINGS}). */
  readonly local?: () => LocalSettings;
  /** `--allow` and `--deny`: a denied client gets REFUSED (EDE 18 with EDNS) for everything; none by default. */
  readonly access?: AccessRules;
  /**
   * Who may have answers from the cache and upstreams, and whether anyone may (`--no-recursion`):
   * the others get local data only, and RA=0. Default: loopback and the private networks.
   */
  readonly recursion?: RecursionRules;
  /**
   * Response rate limiting of UDP answers per client prefix (`--rate-limit`); none when absent or
   * when its rate is 0.
   * One limiter is shared by every UDP socket; TCP is never limited.
   */
  readonly rateLimit?: RateLimitOptions | null;
  /**
   * Validate forwarded answers (RFC 4033-4035) under these trust anchors (DS or DNSKEY records):
   * secure ones get AD=1, bogus ones SERVFAIL with an EDE. Null or absent: no validation.
   */
  readonly dnssec?: { readonly anchors: readonly ResourceRecord[] } | null;
  /**
   * DNS cookies (RFC 7873, RFC 9018 server cookies): the secrets and whether cookies are required
   * over UDP. Default: on, with a secret drawn at start, not required.
   */
  readonly cookies?: CookieOptions;
  /** Wall time in milliseconds since the epoch, for cookie timestamps (default `Date.now`). */
  readonly wallClock?: () => number;
  /**
   * Told each query's outcome over UDP and TCP, memo hits included (metrics, the query log): the
   * stages then fill a per-query trace. None: the hot path is as without observability.
   */
  readonly observers?: readonly QueryObserver[];
  /**
   * `--metrics`: where `/metrics`, `/health` and `/ready` are served over HTTP (and `routes`);
   * none when absent.
   */
  readonly metrics?: { readonly hostname: string; readonly port: number } | null;
  /** More handlers on the metrics port ("METHOD /path"): `/explain`, `/cache/flush`, `/reload`. */
  readonly routes?: Routes;
  /** `--query-log`: a file to write one JSON line per query to, or `-` for stdout; none when absent. */
  readonly queryLog?: string | null;
  /**
   * The files local data and lists were read from, read again by the explain endpoint for the
   * file:line of what matched (default: none known).
   */
  readonly explainFiles?: () => ExplainFiles;
  /**
   * DNS over TLS and DNS over HTTPS (`--tls-port`, `--https-port`, `--tls-cert`, `--tls-key`), on
   * every address UDP and TCP are served on; neither when absent.
   */
  readonly encrypted?: EncryptedServing | null;
  /** Join each UDP port's SO_REUSEPORT group (batched UDP only): how `--workers` share the ports. */
  readonly reusePort?: boolean;
  /**
   * With `reusePort`, on the first of a group's sockets (the main thread's): the first this many
   * sockets of the group take its queries, each those for the names that hash to it
   * (lib/net/reuseport_steering.ts); `RunningServer.steer` changes the number. 0 (default): the
   * kernel's choice by the sender's address and port.
   */
  readonly steerAcross?: number;
  /**
   * A worker's server (`--workers`): UDP only, on the ports the main thread bound; no TCP, DoT,
   * DoH or HTTP of its own (those stay on the main thread). Metrics are counted, for the main
   * thread to sum.
   */
  readonly udpOnly?: boolean;
  /** On the main thread with `--workers`: the workers' servers, summed into `/metrics` and statistics, flushed with it. */
  readonly peers?: Peers;
  /** Fills a cookie secret dnsd draws (default: random): every worker draws the same ones from one seed. */
  readonly cookieRandom?: (octets: Uint8Array) => void;
}

/** The recursion rules when none are given: the private networks may recurse. */
const DEFAULT_RECURSION: RecursionRules = { disabled: false, allow: DEFAULT_RECURSION_PREFIXES };

/** Settings of the stages that answer without an upstream: each may change on a reload. */
export interface LocalSettings {
  /** Answer the RFC 6761, RFC 6303 and RFC 8375 zones locally (`--no-default-zones` turns it off). */
  readonly defaultZones: boolean;
  /** Forward A and AAAA queries for single-label names (`--forward-single-label`). */
  readonly forwardSingleLabel: boolean;
  /** REFUSED for CHAOS `version.bind` and `version.server` (`--hide-version`). */
  readonly hideVersion: boolean;
  /** The CHAOS `hostname.bind` and `id.server` answer (`--identity`); REFUSED when null. */
  readonly identity: string | null;
}

/** The local stages' settings when none are given: what dnsd does without flags. */
export const DEFAULT_LOCAL_SETTINGS: LocalSettings = {
  defaultZones: true,
  forwardSingleLabel: false,
  hideVersion: false,
  identity: null,
};

/** Counters a running server keeps. */
export interface ServerCounters extends ForwardCounters {
  /** Upstream datagrams ignored: wrong source, ID or question. */
  dropped: number;
}

/**
 * The forwarding settings a running server takes anew (on a reload): the upstreams, the forward
 * zones, and how they are asked. Sockets to upstreams are opened as needed, so nothing here needs
 * a restart; the listening addresses, the cache's size and the TCP limits do.
 */
export type ForwardingSettings = Required<
  Pick<
    ServerOptions,
    "upstreams" | "forwardZones" | "timeoutMs" | "strategy" | "caseRandomization" | "maxOutstanding"
  >
>;

/** A server that is listening. */
export interface RunningServer {
  /** The first bound address (the real port when 0 was asked for). */
  readonly address: Deno.NetAddr;
  /** Every bound address, in the order given, each served over UDP and TCP. */
  readonly addresses: readonly Deno.NetAddr[];
  /** Live counts of forwarded queries, their outcomes and dropped upstream datagrams. */
  readonly counters: Readonly<ServerCounters>;
  /** Closes the sockets at once; `finished` settles once the loops have ended. */
  close(): void;
  /**
   * Stops accepting, lets queries in progress finish (up to `graceMs`: new UDP queries meanwhile
   * get SERVFAIL with EDE Not Ready), then closes.
   */
  stop(graceMs: number): Promise<void>;
  /** How many TCP connections are open. */
  tcpConnections(): number;
  /**
   * Forwards with new settings from the next query on: a new chain over new upstream pools; the
   * old pools close once their queries in flight are past the old deadline. The cache is emptied
   * (its answers came from the old upstreams); local data and the lists are read through their
   * getters as before.
   */
  reconfigure(settings: ForwardingSettings): void;
  /** The answer cache, with its counters and entries, when there is one. */
  readonly cache?: CacheView;
  /**
   * How the server would answer a question now (`GET /explain`): sends nothing, fills nothing,
   * takes no rate-limit token.
   */
  explain(question: ExplainQuestion): Promise<Explanation>;
  /**
   * Drops cached answers (`POST /cache/flush`): all of them, or those at or below `name`, in every
   * worker. Answers the memo keeps from the cache go within a second, when their TTLs would tick down.
   * @returns how many entries were dropped
   */
  flushCache(name?: string): Promise<number>;
  /** This server's own figures (a worker's, for the main thread to sum). */
  figures(): ServerFigures;
  /**
   * Has the first `count` sockets of each UDP port's SO_REUSEPORT group (this server's first,
   * then the workers' in the order they joined) take the queries, each those for its names. Only
   * a server that opened the groups (`reusePort`, not `udpOnly`); false for others, or when a
   * kernel refused.
   */
  steer(count: number): boolean;
  /** What the statistics line (SIGUSR1) reads: this server's figures and every worker's, summed. */
  statistics(): Promise<StatisticsSource>;
  /** Settles once the receive loop has ended. */
  readonly finished: Promise<void>;
  /** Where `/metrics` is served (the real port when 0 was asked for), with `--metrics`. */
  readonly metricsAddress?: Deno.NetAddr;
  /** With `--metrics`: the totals of the metrics (queries, responses by source, rate-limited), for SIGUSR1. */
  readonly observed?: () => { queries: number; bySource: Record<string, number>; rateLimited: number };
  /** Opens the query log's file again (SIGHUP, after logrotate moved it). */
  reopenLogs(): Promise<void>;
  /** Where DNS over TLS is served (none without `--tls-port`). */
  readonly tlsAddresses: readonly Deno.NetAddr[];
  /** Where DNS over HTTPS is served, at `/dns-query` (none without `--https-port`). */
  readonly httpsAddresses: readonly Deno.NetAddr[];
  /**
   * Reads `--tls-cert` and `--tls-key` again (SIGHUP, a changed file) and serves DoT and DoH with
   * them when they are good: new connections get them. A bad pair keeps the old one, logged.
   * @returns whether the new pair is in use (false without DoT and DoH)
   */
  reloadCertificates(): Promise<boolean>;
}

/** A resolver chain and the upstream sockets it holds open. */
export interface Resolver {
  /** The chain. */
  readonly resolve: Resolve;
  /** Closes the upstream sockets; resolves once their receive loops have ended. */
  close(): Promise<void>;
  /** The health of upstream `address` in the pool of forward zone `domain` ("" for the defaults). */
  health?(domain: string, address: string): UpstreamHealth | undefined;
}

/**
 * Builds the resolver chain: the local stages first (CHAOS, local data, the default zones, the
 * single-label rule), then the cache (when there is one), then forwarding for RD=1 queries only,
 * each name to its forward zone's upstreams or the default ones.
 */
export function buildResolver(
  options: ServerOptions,
  counters: ServerCounters,
  extras: {
    readonly cache?: Cache;
    readonly memo?: ResponseMemo;
    readonly reactor?: UdpReactor;
    /** The forwarding path's clock (see {@link turnClock}), shared with the cache. */
    readonly now?: () => number;
    /**
     * A stage in place of forwarding: no upstream sockets are opened. The config check's
     * assertions use one that only says where a question would go (lib/server/assertions.ts).
     */
    readonly forwarder?: Stage;
    /** An observer is configured: the stages fill each query's trace. */
    readonly observed?: boolean;
    /** Where upstream tries are counted and timed. */
    readonly metrics?: Metrics;
  } = {},
): Resolver {
  const { cache, memo, reactor } = extras;
  // With an observer, each stage says it is the one answering (the deepest to run says it last).
  const traced = extras.observed
    ? (stage: Stage, source: number): Stage => (request, next) => {
      if (request.trace) request.trace.source = source;
      return stage(request, next);
    }
    : (stage: Stage) => stage;
  const recursion = options.recursion ?? DEFAULT_RECURSION;
  // After local data, before the cache: a client that may not recurse gets REFUSED for the rest.
  const gate = recursionGate<Request, Message>(recursionCheck(recursion));
  if (extras.forwarder) {
    return {
      resolve: chain([...localStages(options, memo, traced), gate, extras.forwarder]),
      close: () => Promise.resolve(),
    };
  }
  // Authoritative only: no cache, no upstream sockets; the gate refuses every client.
  if (recursion.disabled) {
    return {
      resolve: chain([...localStages(options, memo, traced), gate]),
      close: () => Promise.resolve(),
    };
  }
  const now = extras.now ?? turnClock();
  // Anyone can send datagrams to an upstream socket: counted, and logged once per 10 s per reason.
  const drops = new RemoteEvents(log);
  const onDrop = (reason: DropReason, from: string) => {
    counters.dropped++;
    drops.report(`upstream-${reason}`, "warning", "Dropped upstream reply from {from}: {reason}", {
      from,
      reason,
    });
  };
  const exactCase = options.caseRandomization ?? false;
  const pools: { close(): Promise<void> }[] = [];
  const deadlines = new Deadlines({ now });
  // One set for every forward zone's forwarder: upstream failures are logged once per 10 s overall.
  const events = new RemoteEvents(log, { now });
  // How to read each pool's health, by forward zone and upstream: for the explain endpoint.
  const healths = new Map<string, () => UpstreamHealth>();
  const caCerts = options.upstreamCa ?? [];
  /** The exchanges of one upstream: DoT or DoH alone, or a UDP pool with TCP for truncated replies. */
  function exchangesOf(upstream: Upstream): { exchange: Exchange; tcp?: Exchange } {
    if (upstream.tls || upstream.https) {
      const encrypted = upstream.tls
        ? tlsExchange(upstream, { caCerts, onDrop, exactCase })
        : httpsExchange(upstream, { caCerts, onDrop, exactCase });
      pools.push(encrypted);
      return { exchange: encrypted };
    }
    // With batched UDP, the upstream sockets are read through FFI too, in the listener's wait.
    const pool = pooledUdpExchange(upstream, {
      now,
      onDrop,
      exactCase,
      cookies: true,
      ...(reactor ? { open: () => openUpstreamSocket(wildcardFor(upstream), reactor) } : {}),
    });
    pools.push(pool);
    return { exchange: pool, tcp: tcpExchange(upstream, { onDrop, exactCase }) };
  }
  /** One forwarder over its own pools (one per upstream), sharing the clock, deadlines and counters. */
  function forwarderOf(list: readonly Upstream[], domain: string): Stage {
    const upstreams = list.map((upstream) => {
      const { exchange, tcp } = exchangesOf(upstream);
      const name = upstreamName(upstream);
      return {
        name,
        exchange: extras.metrics ? timedExchange(exchange, extras.metrics, name, now) : exchange,
        ...(tcp ? { tcp } : {}),
      };
    });
    return forward(upstreams, {
      now,
      deadlines,
      events,
      timeoutMs: options.timeoutMs,
      counters,
      caseRandomization: exactCase,
      onHealth: (name, health) => healths.set(`${domain} ${name}`, health),
      pool: { strategy: options.strategy ?? "sequential" },
      ...(options.maxOutstanding !== undefined ? { maxOutstanding: options.maxOutstanding } : {}),
    });
  }
  const zones = options.forwardZones ?? [];
  const router = forwardRouter(options.upstreams, zones);
  const resolve = chain([
    ...localStages(options, memo, traced),
    gate,
    ...(cache ? [traced(cache.stage, Source.CACHE)] : []),
    requireRecursion(),
    ...(options.dnssec ? [validatorStage(options.dnssec.anchors, events, extras.metrics)] : []),
    traced(
      routedForward(
        router,
        forwarderOf(options.upstreams, ""),
        zones.map((zone) => forwarderOf(zone.upstreams, nameKey(zone.domain))),
      ),
      Source.UPSTREAM,
    ),
  ]);
  return {
    resolve,
    close: () => Promise.all(pools.map((pool) => pool.close())).then(() => {}),
    health: (domain, address) => healths.get(`${domain} ${address}`)?.(),
  };
}

/**
 * The validating stage (lib/upstream/validating.ts) under `anchors`, on the wall clock: each
 * verdict counted, and a bogus answer logged at most once per 10 s (an upstream can cause many).
 */
function validatorStage(anchors: readonly ResourceRecord[], events: RemoteEvents, metrics?: Metrics): Stage {
  return validating({
    validator: (fetch) => createValidator({ anchors, fetch, now: () => Date.now() / 1000 }),
    onVerdict: (verdict, question) => {
      metrics?.dnssecResult(verdict.security);
      if (verdict.security !== "bogus") return;
      events.report("dnssec-bogus", "info", "DNSSEC validation failed for {name} {type}: {why}", {
        name: displayName(question.name),
        type: typeName(question.type),
        why: verdict.why,
      });
    },
  });
}

/**
 * The stages that answer without an upstream, in order: what a config's assertions see too. Each
 * reads its data through a getter, so a reload swaps it between two queries.
 */
function localStages(
  options: ServerOptions,
  memo: ResponseMemo | undefined,
  traced: (stage: Stage, source: number) => Stage = (stage) => stage,
): Stage[] {
  // The first stage's trace says LOCAL for whatever the stages after it answer without marking.
  return namedLocalStages(options, memo).map(([name, stage]) =>
    name === "log"
      ? traced(stage, Source.LOCAL)
      : name === "blocklist"
      ? traced(stage, Source.BLOCKED)
      : stage
  );
}

/** {@link localStages}, each with the name the explain trace gives it. */
function namedLocalStages(options: ServerOptions, memo: ResponseMemo | undefined): [string, Stage][] {
  const local = options.local ?? (() => DEFAULT_LOCAL_SETTINGS);
  const forwardDomains = (options.forwardZones ?? []).map((zone) => zone.domain);
  const version = options.version === undefined ? "dnsd" : `dnsd ${options.version}`;
  return [
    ["log", logQueries()],
    // CH first: its names are no local data's, and must never reach an upstream.
    [
      "chaos",
      chaos(() => {
        const settings = local();
        return { version: settings.hideVersion ? null : version, identity: settings.identity };
      }),
    ],
    ...(options.zoneNotReady ? [["secondary", pendingZones(options.zoneNotReady)] as [string, Stage]] : []),
    ["local-data", authoritative(options.localData, memo ? { memo } : {})],
    [
      "default-zones",
      defaultZones({ enabled: () => local().defaultZones, forwardDomains, localData: options.localData }),
    ],
    ["single-label", singleLabel({ forward: () => local().forwardSingleLabel, forwardDomains })],
    // After local data, which wins over the lists; before the cache, so a newly blocked name is
    // never answered from it. Its answers are not kept in the memo (see lib/block/block_stage.ts).
    ...(options.blockPolicy
      ? [["blocklist", blocking<Request>(options.blockPolicy)] as [string, Stage]]
      : []),
  ];
}

/**
 * An upstream exchange whose tries are counted and timed in `metrics` (by upstream: ok, timeout,
 * error; the round trip of answered ones), for `/metrics` and `/ready`.
 */
function timedExchange(
  exchange: (query: Uint8Array, signal: Parameters<Exchange>[1]) => Promise<Uint8Array>,
  metrics: Metrics,
  name: string,
  now: () => number,
): Exchange {
  const index = metrics.upstreamIndex(name);
  return (query, signal) => {
    const began = now();
    return exchange(query, signal).then((reply) => {
      metrics.upstreamTry(index, UpstreamResult.OK, (now() - began) / 1000);
      return reply;
    }, (error) => {
      metrics.upstreamTry(index, signal.aborted ? UpstreamResult.TIMEOUT : UpstreamResult.ERROR, 0);
      throw error;
    });
  };
}

/**
 * The local stages and the recursion gate of `options`, then `forwarder`, each stage wrapped so
 * `mark` learns which one answered (or threw): the explain endpoint's trace. Built for each call
 * (an explain is rare), without the memo, so nothing is kept.
 */
function localTrace(options: () => ServerOptions): LocalTrace {
  return function trace(request, mark, forwarder) {
    const current = options();
    const gate = recursionGate<Request, Message>(recursionCheck(current.recursion ?? DEFAULT_RECURSION));
    const named: [string, Stage][] = [...namedLocalStages(current, undefined), ["recursion", gate]];
    const traced = named.map(([name, stage]): Stage => (inner, next) => {
      let passed = false;
      const onward: Resolve = (onwardRequest) => {
        passed = true;
        return next(onwardRequest);
      };
      return stage(inner, onward).then(
        (response) => {
          if (!passed) mark(name);
          return response;
        },
        (error) => {
          if (!passed) mark(name);
          throw error;
        },
      );
    });
    return chain([...traced, forwarder])(request);
  };
}

/**
 * What the memo's entries depend on: local data and, with blocklists, the lists too. A kept
 * (cached) answer for a name that a new list blocks must not be served once the lists change.
 */
function generationOf(options: ServerOptions): () => unknown {
  const { localData, blockPolicy } = options;
  if (!blockPolicy) return localData;
  let data: LocalData | undefined;
  let policy: BlockPolicy | undefined;
  let generation = {};
  return function currentGeneration() {
    const nowData = localData();
    const nowPolicy = blockPolicy();
    if (nowData !== data || nowPolicy !== policy) {
      data = nowData;
      policy = nowPolicy;
      generation = {};
    }
    return generation;
  };
}

/** The counters and size of `cache`, live. */
function viewOf(cache: Cache): CacheView {
  return {
    counters: cache.counters,
    get size() {
      return cache.store.size;
    },
  };
}

/** A UDP socket and a TCP listener on one address and port (a worker's: no TCP listener). */
interface Bound {
  readonly udp: DatagramSocket;
  readonly tcp: Deno.Listener | null;
}

/** How the UDP sockets are opened: waited on by a reactor or not, in a SO_REUSEPORT group or not, TCP too or not. */
interface BindOptions {
  readonly reactor: UdpReactor | undefined;
  readonly reusePort: boolean;
  readonly steerAcross: number;
  readonly udpOnly: boolean;
}

/** Whether a server's sockets open their ports' groups (the main thread's) or join them (a worker's: UDP only). */
function opensGroups(how: BindOptions): boolean {
  return how.reusePort && !how.udpOnly;
}

/** Binds UDP and TCP on one port; with port 0, tries a few ports until both are free. */
function bindPair(host: string, port: number, how: BindOptions): Bound {
  for (let attempt = 0;; attempt++) {
    const udp = listenUdp({
      hostname: host,
      port,
      reactor: how.reactor,
      reusePort: how.reusePort,
      steerAcross: how.steerAcross,
      opensGroup: opensGroups(how),
    });
    if (how.udpOnly) return { udp, tcp: null };
    try {
      const tcp = Deno.listen({ transport: "tcp", hostname: host, port: udp.addr.port });
      return { udp, tcp };
    } catch (error) {
      udp.close();
      // With port 0 the kernel picked a UDP port whose TCP twin is taken: pick again.
      if (port !== 0 || attempt >= 10 || !(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
}

/**
 * Binds a pair on every address. Those asking for port 0 share the port the kernel gives the
 * first of them; when it is taken on another address, everything is closed and tried again.
 * @throws {ListenError} naming the address that failed
 */
function bindAll(addresses: readonly BindAddress[], how: BindOptions): Bound[] {
  const anyFree = addresses.some((address) => address.port === 0);
  for (let attempt = 0;; attempt++) {
    const bound: Bound[] = [];
    let shared: number | undefined;
    let current: BindAddress | undefined;
    try {
      for (const address of addresses) {
        current = address;
        const pair = bindPair(address.hostname, address.port === 0 ? shared ?? 0 : address.port, how);
        bound.push(pair);
        if (address.port === 0) shared ??= pair.udp.addr.port;
      }
      return bound;
    } catch (error) {
      for (const pair of bound) {
        pair.udp.close();
        pair.tcp?.close();
      }
      if (anyFree && attempt < 10 && error instanceof Deno.errors.AddrInUse) continue;
      throw new ListenError(current!, error);
    }
  }
}

/**
 * Binds a UDP socket and a TCP listener on each address (one port per address) and starts
 * serving them all.
 * @throws {ListenError} when an address cannot be bound (taken, not available, not permitted)
 */
export function startServer(options: ServerOptions): RunningServer {
  const counters: ServerCounters = { ...createForwardCounters(), dropped: 0 };
  // Encoded answers for repeated questions: local ones last until the data is swapped.
  const clock = options.clock ?? (() => performance.now());
  const memo = new ResponseMemo({ generation: generationOf(options), now: clock });
  // One clock read per turn for the cache, the forwarder and the upstream pool.
  const now = turnClock(clock);
  const recursion = options.recursion ?? DEFAULT_RECURSION;
  const cache = options.cache && !recursion.disabled
    ? answerCache({ ...options.cache, memo, now })
    : undefined;
  const reactor = options.udpIo === "batched"
    ? new UdpReactor(options.udpCoalesceUs === undefined ? {} : { coalesceUs: options.udpCoalesceUs })
    : undefined;
  const metrics = options.metrics ? new Metrics() : undefined;
  // Opened now: a path that cannot be written stops the start (QueryLogError) before any socket is bound.
  const queryLog = options.queryLog
    ? new QueryLog({
      open: () => openLogSink(options.queryLog!),
      first: openLogSinkSync(options.queryLog),
      now: clock,
    })
    : undefined;
  const observerList = [
    ...(metrics ? [metrics] : []),
    ...(queryLog ? [queryLog] : []),
    ...(options.observers ?? []),
  ];
  const extras = {
    ...(cache ? { cache } : {}),
    memo,
    now,
    ...(reactor ? { reactor } : {}),
    observed: observerList.length > 0,
    ...(metrics ? { metrics } : {}),
  };
  // The chain in force; a reconfigure() swaps it between two queries. The listeners call through it.
  let current = buildResolver(options, counters, extras);
  const resolve: Resolve = (request) => current.resolve(request);
  // Chains swapped out, each closed once its queries in flight are past their deadline.
  const retired = new Map<Resolver, ReturnType<typeof setTimeout>>();
  const closeUpstreams = () => {
    for (const [old, timer] of retired) {
      clearTimeout(timer);
      void old.close();
    }
    retired.clear();
    return current.close().then(() => reactor?.close());
  };
  let forwarding = options;
  function reconfigure(settings: ForwardingSettings): void {
    const previous = current;
    // Its queries in flight end by their deadline, set with the old timeout.
    const graceMs = forwarding.timeoutMs + 1_000;
    forwarding = { ...forwarding, ...settings };
    current = buildResolver(forwarding, counters, extras);
    // Answers from the old upstreams go: a changed forward zone must not be answered from them.
    cache?.store.clear();
    retired.set(
      previous,
      setTimeout(() => {
        retired.delete(previous);
        void previous.close();
      }, graceMs),
    );
  }
  let bound: Bound[];
  try {
    bound = bindAll(options.listen ?? [{ hostname: options.host, port: options.port }], {
      reactor,
      reusePort: options.reusePort ?? false,
      steerAcross: options.steerAcross ?? 0,
      udpOnly: options.udpOnly ?? false,
    });
  } catch (error) {
    void closeUpstreams();
    void queryLog?.close();
    throw error;
  }
  // Every query meets the hooks first, over either transport: memo hits too; access control first of all.
  const allowed = options.access ? accessCheck(options.access) : null;
  const access = allowed && accessControl(allowed);
  const hook = admission([...(access ? [access] : []), ...(options.hooks ?? [])]);
  // RA=1 only for a client that may recurse, and only while there is somewhere to forward to.
  const mayRecurse = recursionCheck(recursion);
  const recursionAvailable = (client: Deno.NetAddr) =>
    (forwarding.upstreams.length > 0 || (forwarding.forwardZones ?? []).length > 0) && mayRecurse(client) &&
    (allowed === null || allowed(client));
  const cookies = new ServerCookies(
    options.cookies ?? { secrets: [], require: false },
    options.wallClock,
    options.cookieRandom,
  );
  const serving = {
    hook,
    observer: observers(observerList),
    now,
    mayRecurse,
    recursionAvailable,
    cookies,
    ...(options.handlers ? { handlers: options.handlers } : {}),
    ...(options.tsig ? { tsig: options.tsig } : {}),
  };
  // One chain, cache and memo behind every address; each socket has its own loop.
  const limit = options.rateLimit;
  const limiter = limit && limit.perSecond > 0 ? new RateLimiter(limit, clock) : null;
  const udpServers = bound.map(({ udp }) => serveUdp(udp, resolve, { ...serving, memo, limiter }));
  const tcpServers = bound.flatMap(({ tcp }) =>
    tcp ? [serveTcp(tcp, resolve, { ...options.tcp, ...serving })] : []
  );
  let encrypted: EncryptedListeners;
  try {
    // A worker serves no DoT or DoH: the main thread does.
    encrypted = startEncrypted(
      (!options.udpOnly && options.encrypted) ||
        { tlsPort: null, httpsPort: null, certFile: null, keyFile: null },
      bound.map(({ udp }) => udp.addr.hostname),
      { resolve, options: { ...options.tcp, ...serving } },
    );
  } catch (error) {
    for (const server of [...udpServers, ...tcpServers]) void server.stop(0);
    void closeUpstreams();
    void queryLog?.close();
    throw error;
  }
  const servers = [...udpServers, ...tcpServers, encrypted];
  let http: HttpServer | undefined;
  const ownCache = (): CacheFigures | null =>
    cache
      ? {
        hits: cache.counters.hits,
        misses: cache.counters.misses,
        stale: cache.counters.stale,
        entries: cache.store.size,
      }
      : null;
  const figures = (): ServerFigures => ({
    counters: { ...counters },
    cache: ownCache(),
    metrics: metrics?.snapshot() ?? null,
  });
  // Every worker's figures, this server's first: the workers' are asked for, so a scrape sees them all.
  const allFigures = async (): Promise<
    ServerFigures[]
  > => [figures(), ...(await options.peers?.figures() ?? [])];
  if (options.metrics && metrics && !options.udpOnly) {
    // Authoritative only (--no-recursion), no upstream is ever asked: ready once the data is loaded.
    const upstreamsNeeded = !recursion.disabled &&
      (options.upstreams.length > 0 || (options.forwardZones ?? []).length > 0);
    const text = (body: string, status = 200) =>
      new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
    const routes: Routes = {
      "GET /metrics": async () => {
        const all = await allFigures();
        const caches = sumCaches(all);
        return new Response(
          sumMetrics(all).render({
            ...(caches ? { cache: () => caches } : {}),
            version: options.version ?? "unknown",
            ...(options.peers ? { workers: all.map((figure) => queriesOf(figure.metrics)) } : {}),
            ...(options.peers?.loops ? { loops: options.peers.loops() } : {}),
          }),
          { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } },
        );
      },
      "GET /health": () => text("ok\n"),
      // Local data is loaded before the server starts; with upstreams, one must have answered.
      "GET /ready": () =>
        !upstreamsNeeded || metrics.upstreamAnswered ? text("ready\n") : text("not ready\n", 503),
      ...options.routes,
    };
    try {
      http = serveHttp(options.metrics.hostname, options.metrics.port, routes);
    } catch (error) {
      for (const server of servers) void server.stop(0);
      void closeUpstreams();
      void queryLog?.close();
      throw new ListenError(options.metrics, error);
    }
    // dnsd's own probe for ". NS", so /ready does not wait for a client to ask something.
    if (upstreamsNeeded) {
      void resolve({
        message: query({ name: "", type: RRType.NS }),
        client: { transport: "udp", hostname: "127.0.0.1", port: 0 },
        transport: "udp",
        receivedAt: clock(),
        size: 17,
      }).catch(() => {});
    }
  }
  let stopped: Promise<void> | undefined;
  const stop = (graceMs: number) =>
    stopped ??= Promise.all(servers.map((server) => server.stop(graceMs)))
      .then(closeUpstreams)
      .then(() => Promise.all([http?.shutdown(), queryLog?.close()]))
      .then(() => {});
  const explain = explainer({
    trace: localTrace(() => forwarding),
    localData: options.localData,
    ...(options.blockPolicy ? { blockPolicy: options.blockPolicy } : {}),
    files: options.explainFiles ??
      (() => ({ zones: [], hosts: [], mappings: null, blocklists: [], allowlists: [] })),
    access: allowed,
    mayRecurse,
    ...(cache ? { cache: { store: cache.store, now } } : {}),
    rateLimit: limiter && limit ? { limiter, perSecond: limit.perSecond } : null,
    route: (name) => forwardRouter(forwarding.upstreams, forwarding.forwardZones ?? []).route(name),
    health: (domain, address) => current.health?.(domain, address),
    now,
    forwardDomains: () => (forwarding.forwardZones ?? []).map((zone) => zone.domain),
  });
  return {
    explain,
    async flushCache(name) {
      let count = 0;
      if (cache && name === undefined) {
        count = cache.store.size;
        cache.store.clear();
      } else if (cache) {
        count = cache.store.dropAtOrBelow(name!);
      }
      return count + (await options.peers?.flush(name) ?? 0);
    },
    figures,
    steer: (count) => bound.every(({ udp }) => udp.steer?.(count) ?? false),
    async statistics() {
      const all = await allFigures();
      const caches = sumCaches(all);
      const summed = sumMetrics(all);
      return {
        counters: sumCounters(all),
        ...(caches
          ? {
            cache: {
              size: caches.entries,
              counters: {
                prefetches: 0,
                coalesced: 0,
                ...cache?.counters,
                hits: caches.hits,
                misses: caches.misses,
                stale: caches.stale,
              },
            },
          }
          : {}),
        tcpConnections: () => tcpServers.reduce((sum, server) => sum + server.connections, 0),
        ...(metrics ? { observed: () => summed.totals() } : {}),
      };
    },
    address: bound[0]!.udp.addr,
    addresses: bound.map(({ udp }) => udp.addr),
    counters,
    ...(cache ? { cache: viewOf(cache) } : {}),
    tcpConnections: () => tcpServers.reduce((sum, server) => sum + server.connections, 0),
    ...(http ? { metricsAddress: http.address } : {}),
    ...(metrics ? { observed: () => metrics.totals() } : {}),
    reopenLogs: () => queryLog?.reopen() ?? Promise.resolve(),
    tlsAddresses: encrypted.tls,
    httpsAddresses: encrypted.https,
    reloadCertificates: () => encrypted.reloadCertificates(),
    reconfigure,
    stop,
    close() {
      void stop(0);
    },
    // The upstream sockets close once nothing can ask them anything more.
    finished: Promise.all(servers.map((server) => server.finished)).then(closeUpstreams),
  };
}
