/**
 * Explain (`GET /explain`): how dnsd would answer a question right now, as a JSON trace, changing
 * nothing. The idea of the config assertions (lib/server/assertions.ts): the question runs through
 * the local stages with forwarding replaced by a stand-in that only says "forwarded here", each
 * stage wrapped so the trace knows which one answered. Past the local stages the cache is read
 * with `peek` (no LRU move, no fill), the rate limiter's bucket with `tokensLeft` (no token
 * taken), and the forward router and the upstream pools' health are only looked at. No upstream
 * is asked. Where a record or list entry was written is found by reading its file again.
 * @module
 */
import { agedResponse, type AnswerCache, type CacheEntry, cacheKey } from "../cache/mod.ts";
import {
  DnssecBogus,
  EdeCode,
  edeOf,
  formatRData,
  type Message,
  nameKey,
  query,
  Rcode,
  rcodeName,
  Refused,
  RRClass,
  typeCode,
  typeName,
} from "../proto/mod.ts";
import type { Request, Stage } from "../resolve/mod.ts";
import { compileDefaultZones, defaultZoneOf } from "../resolve/mod.ts";
import { findZone, type LocalData } from "../zone/mod.ts";
import type { BlockPolicy } from "../block/mod.ts";
import type { RateLimiter } from "../policy/mod.ts";
import { type ForwardRoute, type UpstreamHealth, upstreamName } from "../upstream/mod.ts";
import { failureReply } from "./respond.ts";
import {
  type ExplainFiles,
  flatRecords,
  hostsLineOf,
  listLineOf,
  type LocatedRecord,
  mappingLineOf,
  type ReadText,
  readTextOrNull,
  zoneRecordsAt,
} from "./explain_sources.ts";

/** The question to explain. */
export interface ExplainQuestion {
  /** The name asked. */
  readonly name: string;
  /** The TYPE code. */
  readonly type: number;
  /** The client's IP address (policy depends on it). */
  readonly client: string;
  /** The DO bit (it keys the cache). */
  readonly dnssecOk: boolean;
}

/**
 * Runs a request through the local stages (and the recursion gate) and then `forwarder`, telling
 * `mark` the name of the stage that answered or threw.
 */
export type LocalTrace = (
  request: Request,
  mark: (stage: string) => void,
  forwarder: Stage,
) => Promise<Message>;

/** What the explainer reads; it changes none of it. */
export interface ExplainOptions {
  /** The local stages, traced. */
  readonly trace: LocalTrace;
  /** The local data in force. */
  readonly localData: () => LocalData;
  /** The lists in force, when there are any. */
  readonly blockPolicy?: () => BlockPolicy;
  /** The files the data and lists came from (for file:line). */
  readonly files: () => ExplainFiles;
  /** `--allow`/`--deny`: whether a client may ask at all; null when everyone may. */
  readonly access: ((client: { readonly hostname: string }) => boolean) | null;
  /** `--allow-recursion`: whether a client may have cached and forwarded answers. */
  readonly mayRecurse: (client: { readonly hostname: string }) => boolean;
  /** The answer cache and its clock, when there is one. */
  readonly cache?: { readonly store: AnswerCache; readonly now: () => number };
  /** The rate limiter and its rate, when limiting is on. */
  readonly rateLimit?: { readonly limiter: RateLimiter; readonly perSecond: number } | null;
  /** Where a name would be forwarded now. */
  readonly route: (name: string) => ForwardRoute;
  /** The health of upstream `address` in the pool of forward zone `domain` ("" for the defaults). */
  readonly health: (domain: string, address: string) => UpstreamHealth | undefined;
  /** The forwarding clock (ms), to tell an upstream backing off. */
  readonly now: () => number;
  /** The forward zones' domains, for the default zones' rule. */
  readonly forwardDomains: () => readonly string[];
  /** Reads a file again (default: Deno's, null on any error). */
  readonly read?: ReadText;
}

/** Where the answer would come from. */
export type ExplainSource =
  | "local"
  | "default-zone"
  | "single-label"
  | "chaos"
  | "blocked"
  | "refused"
  | "cache"
  | "upstream";

/** An answer as explain shows it. */
export interface ExplainedAnswer {
  /** The RCODE's mnemonic. */
  readonly rcode: string;
  /** AA. */
  readonly authoritative: boolean;
  /** Extended DNS Errors (RFC 8914). */
  readonly ede: readonly { readonly code: number; readonly name: string; readonly text: string }[];
  /** The answer section. */
  readonly answers: readonly {
    readonly name: string;
    readonly type: string;
    readonly ttl: number;
    readonly data: string;
  }[];
}

/** The trace: see docs/observability.md#explain. */
export interface Explanation {
  /** The question, as understood. */
  readonly question: { readonly name: string; readonly type: string; readonly do: boolean };
  /** The client and the policy that applies to it. */
  readonly client: {
    readonly address: string;
    /** `--allow`/`--deny`: "allow", "deny", or "none" when no rules are set. */
    readonly access: "allow" | "deny" | "none";
    /** Whether it may have cached and forwarded answers. */
    readonly recursion: boolean;
    /** The bucket of its prefix (UDP only): the tokens left now, and the rate. */
    readonly rateLimit: { readonly tokens: number; readonly perSecond: number } | null;
  };
  /** Where the answer would come from. */
  readonly source: ExplainSource;
  /**
   * Which stage decided: `access`, `chaos`, `local-data`, `default-zones`, `single-label`,
   * `blocklist`, `recursion`, or `forward` (past them all).
   */
  readonly stage: string;
  /** The local data that matched: a zone's records, a hosts line, a mapping. */
  readonly local: {
    readonly kind: "zone" | "hosts" | "mappings";
    readonly zone: string | null;
    readonly records: readonly LocatedRecord[];
    readonly at: string | null;
  } | null;
  /** The default zone (RFC 6761, 6303, 8375) that answered. */
  readonly defaultZone: string | null;
  /** The blocklist and allowlist entries that match the name, and whether it is blocked. */
  readonly blocklist: {
    readonly blocked: boolean;
    readonly mode: string;
    readonly entry: string | null;
    readonly at: string | null;
    readonly allowEntry: string | null;
    readonly allowAt: string | null;
  } | null;
  /** The cache entry for the question (read, not touched). */
  readonly cache: {
    readonly kind: string;
    readonly ttlLeft: number;
    readonly stale: boolean;
    /** `secure`, `bogus` or `none` (see docs/observability.md). */
    readonly security: string;
  } | null;
  /** Where it would be forwarded, with each upstream's health. */
  readonly forward: {
    readonly zone: string;
    readonly upstreams: readonly {
      readonly address: string;
      readonly failures: number | null;
      readonly srttMs: number | null;
      readonly backingOff: boolean;
    }[];
  } | null;
  /** The answer the client would get; null when an upstream would decide. */
  readonly answer: ExplainedAnswer | null;
}

/** The forwarding stand-in's signal: the question got past every local stage. */
class Forwarded extends Error {
  constructor() {
    super("would forward");
  }
}

const EDE_NAMES = new Map<number, string>(Object.entries(EdeCode).map(([name, code]) => [code, name]));

/** An answer as explain shows it. */
function shown(response: Message): ExplainedAnswer {
  return {
    rcode: rcodeName(response.rcode),
    authoritative: response.authoritative,
    ede: edeOf(response.edns).map((error) => ({
      code: error.code,
      name: EDE_NAMES.get(error.code) ?? "OTHER",
      text: error.text,
    })),
    answers: response.answers.map((record) => ({
      name: record.name,
      type: typeName(typeCode(record.data)),
      ttl: record.ttl,
      data: formatRData(record.data),
    })),
  };
}

/**
 * The stage a trace marks for the `--allow-recursion` gate, and the source each marked stage
 * stands for.
 */
const SOURCE_OF: Readonly<Record<string, ExplainSource>> = {
  "chaos": "chaos",
  "local-data": "local",
  "default-zones": "default-zone",
  "single-label": "single-label",
  "blocklist": "blocked",
  "recursion": "refused",
};

/**
 * The cache entry as explain shows it, with its DNSSEC status: `secure` (validated, AD), `bogus` (a
 * failed validation remembered), or `none` (validation off, or an insecure or unanchored answer).
 */
function cacheShown(found: { entry: CacheEntry; stale: boolean; remaining: number }) {
  const { entry } = found;
  const security = entry.kind === "failure"
    ? (entry.error instanceof DnssecBogus ? "bogus" : "none")
    : entry.kept === null && entry.response.authenticData
    ? "secure"
    : "none";
  return {
    kind: entry.kind,
    ttlLeft: Math.max(0, Math.floor(found.remaining)),
    stale: found.stale,
    security,
  };
}

/**
 * Makes the explainer.
 * @returns a function that explains one question; it sends nothing and changes no state
 */
export function explainer(options: ExplainOptions): (question: ExplainQuestion) => Promise<Explanation> {
  const read = options.read ?? readTextOrNull;
  return async function explain(question) {
    const key = nameKey(question.name);
    const client = { hostname: question.client, port: 0, transport: "udp" as const };
    const allowed = options.access === null ? null : options.access(client);
    const mayRecurse = options.mayRecurse(client);
    const rate = options.rateLimit;
    const tokens = rate ? rate.limiter.tokensLeft(question.client) : null;
    const base = {
      question: { name: question.name, type: typeName(question.type), do: question.dnssecOk },
      client: {
        address: question.client,
        access: allowed === null ? "none" as const : allowed ? "allow" as const : "deny" as const,
        recursion: mayRecurse,
        rateLimit: rate && tokens !== null
          ? { tokens: Math.floor(tokens * 100) / 100, perSecond: rate.perSecond }
          : null,
      },
      local: null,
      defaultZone: null,
      blocklist: await blocklistOf(options, key, read),
      cache: null,
      forward: null,
    };
    const message = query({ name: question.name, type: question.type, class: RRClass.IN }, {
      edns: { udpPayloadSize: 1232, version: 0, dnssecOk: question.dnssecOk, flags: 0, options: [] },
    });
    if (allowed === false) {
      // As the admission hook's "refuse" is answered (lib/server/serving.ts).
      const refused = failureReply(message, new Refused("refused by policy"));
      return { ...base, source: "refused", stage: "access", answer: shown(refused) };
    }
    const request: Request = { message, client, transport: "udp", receivedAt: 0, size: 0 };
    let stage = "forward";
    let response: Message;
    try {
      response = await options.trace(
        request,
        (name) => (stage = name),
        () => Promise.reject(new Forwarded()),
      );
    } catch (error) {
      if (!(error instanceof Forwarded)) response = failureReply(message, error);
      else return { ...base, ...forwarded(options, question, message), stage };
    }
    const source = SOURCE_OF[stage] ?? "local";
    return {
      ...base,
      source,
      stage,
      local: source === "local" ? await localOf(options, key, question.type, read) : null,
      defaultZone: source === "default-zone"
        ? defaultZoneOf(compileDefaultZones(options.forwardDomains()), question.name)
        : null,
      answer: shown(response),
    };
  };
}

/** Past the local stages: the cache entry, else the forward zone and its upstreams. */
function forwarded(
  options: ExplainOptions,
  question: ExplainQuestion,
  message: Message,
): Pick<Explanation, "source" | "cache" | "forward" | "answer"> {
  const route = options.route(question.name);
  const now = options.now();
  const forward = {
    zone: route.domain === "" ? "." : route.domain,
    upstreams: route.upstreams.map((upstream) => {
      const address = upstreamName(upstream);
      const health = options.health(route.domain, address);
      return {
        address,
        failures: health?.failures ?? null,
        srttMs: health?.srtt === undefined ? null : Math.round(health.srtt * 10) / 10,
        backingOff: health !== undefined && health.skipUntil > now,
      };
    }),
  };
  const cache = options.cache;
  const key = cacheKey(message.questions[0]!, question.dnssecOk, false);
  const found = cache?.store.peek(key, cache.now());
  if (!found) return { source: "upstream", cache: null, forward, answer: null };
  // A stale entry is served only when the upstreams fail: they are asked first.
  if (found.stale) return { source: "upstream", cache: cacheShown(found), forward, answer: null };
  const aged = agedResponse(found.entry, cache!.now());
  const answer = found.entry.kind === "failure" ? { ...aged, rcode: aged.rcode || Rcode.SERVFAIL } : aged;
  return { source: "cache", cache: cacheShown(found), forward, answer: shown(answer) };
}

/** Which local data holds the name, with its records and where they were written. */
async function localOf(options: ExplainOptions, key: string, type: number, read: ReadText) {
  const data = options.localData();
  const files = options.files();
  const zone = findZone(data, key);
  if (zone) {
    const records = await zoneRecordsAt(files.zones, key, type, read);
    return { kind: "zone" as const, zone: zone.apex, records, at: records[0]?.at ?? null };
  }
  const node = data.names.get(key);
  const flat = node ? node.rrsets.flatMap((rrset) => rrset.records) : [];
  const hostsAt = await hostsLineOf(files.hosts, key, read);
  if (hostsAt !== null) {
    return {
      kind: "hosts" as const,
      zone: null,
      records: flatRecords(flat, key, type, hostsAt),
      at: hostsAt,
    };
  }
  const at = await mappingLineOf(files.mappings, key, read);
  return { kind: "mappings" as const, zone: null, records: flatRecords(flat, key, type, at), at };
}

/** The list entries that match `key`, with their file:line; null without lists or a match. */
async function blocklistOf(options: ExplainOptions, key: string, read: ReadText) {
  const policy = options.blockPolicy?.();
  if (!policy) return null;
  const blocked = policy.lists.blocked.longestSuffix(key);
  const allowed = policy.lists.allowed.longestSuffix(key);
  if (blocked < 0 && allowed < 0) return null;
  const files = options.files();
  const entry = blocked < 0 ? null : key.slice(key.length - blocked);
  const allowEntry = allowed < 0 ? null : key.slice(key.length - allowed);
  return {
    blocked: blocked >= 0 && allowed < blocked,
    mode: policy.mode,
    entry,
    at: entry === null ? null : await listLineOf(files.blocklists, entry, read),
    allowEntry,
    allowAt: allowEntry === null ? null : await listLineOf(files.allowlists, allowEntry, read),
  };
}
