/**
 * dnsd's Prometheus metrics: counters kept in typed arrays indexed by small integers, turned into
 * the text exposition format only when scraped.
 *
 * Why not `prom-client`: its `inc(labels)` builds a key string from the label values and looks it
 * up in a Map on every call, and it would count from the memo-hit path, which answers a query with
 * no string and no allocation at all. Here a query costs two array increments (index by protocol
 * and type, by rcode and source); the label strings are made once per scrape. Label values are
 * bounded by construction: types outside {@link KNOWN_TYPES} count as `OTHER`, upstreams are the
 * configured ones, and no name or client address is ever a label.
 * @module
 */
import nodeProcess from "node:process";
import { rcodeName, typeName } from "../proto/mod.ts";
import { type QueryObserver, questionType, Source, SOURCE_COUNT, SOURCE_NAMES } from "./observation.ts";

/** The record types counted by name; any other is `OTHER`. */
export const KNOWN_TYPES: readonly number[] = [
  1, // A
  2, // NS
  5, // CNAME
  6, // SOA
  12, // PTR
  15, // MX
  16, // TXT
  28, // AAAA
  33, // SRV
  35, // NAPTR
  43, // DS
  46, // RRSIG
  48, // DNSKEY
  64, // SVCB
  65, // HTTPS
  99, // SPF
  252, // AXFR
  251, // IXFR
  255, // ANY
  257, // CAA
];
const OTHER_TYPE = KNOWN_TYPES.length;
const TYPE_COUNT = KNOWN_TYPES.length + 1;
/** A type code's row: 0..KNOWN_TYPES.length-1, or OTHER. One lookup, no hashing. */
const TYPE_INDEX = new Uint8Array(65_536).fill(OTHER_TYPE);
KNOWN_TYPES.forEach((code, index) => TYPE_INDEX[code] = index);

/** Transports by index; `tls` and `https` are named for when they exist. */
const PROTOCOLS = ["udp", "tcp", "tls", "https"] as const;

/** The header RCODE's mnemonic (4 bits: an extended RCODE such as BADVERS shows as its low bits). */
const RCODE_NAMES: readonly string[] = Array.from({ length: 16 }, (_, code) => rcodeName(code));

/** How one upstream try ended. */
export const UpstreamResult = { OK: 0, TIMEOUT: 1, ERROR: 2 } as const;
const RESULT_NAMES = ["ok", "timeout", "error"] as const;

/** Upper bounds of the upstream duration histogram, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
];

/** What the scrape reads beside the counters kept here: the cache and the build. */
export interface MetricGauges {
  /** The answer cache's counts, when there is a cache. */
  readonly cache?: () => { readonly hits: number; readonly misses: number; readonly entries: number };
  /** dnsd's version. */
  readonly version?: string;
  /** With workers (`--workers`): each one's queries so far, by worker number, as `dnsd_worker_queries_total`. */
  readonly workers?: readonly number[];
  /** With workers: the event loops taking UDP queries now and at most, as `dnsd_udp_event_loops{,_max}`. */
  readonly loops?: { readonly active: number; readonly max: number };
  /** The process's memory and CPU; the real process's by default (tests inject fixed figures). */
  readonly process?: () => {
    readonly rssBytes: number;
    readonly heapBytes: number;
    readonly cpuSeconds: number;
  };
}

/**
 * The process's resident memory, heap and CPU time (user + system, every thread). The CPU time comes
 * from getrusage(2) through Node's `process.cpuUsage()`, which needs no permission: reading
 * /proc/self/stat would need `--allow-all` in Deno, which dnsd is not run with.
 */
export function processFigures(): { rssBytes: number; heapBytes: number; cpuSeconds: number } {
  const memory = Deno.memoryUsage();
  const { user, system } = nodeProcess.cpuUsage();
  return { rssBytes: memory.rss, heapBytes: memory.heapUsed, cpuSeconds: (user + system) / 1e6 };
}

/** The results a validation can have (RFC 4033 section 5), in the order they are exported. */
const DNSSEC_RESULTS: readonly string[] = ["secure", "insecure", "bogus", "indeterminate"];

/** Escapes a label value for the text format. */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** One {@link Metrics}' counters, copied: what a worker sends for the main thread to sum. */
export interface MetricsSnapshot {
  /** Queries by transport and question type. */
  readonly queries: Float64Array;
  /** Responses by RCODE and source. */
  readonly responses: Float64Array;
  /** Answers the rate limit held back. */
  readonly rateLimited: number;
  /** Validations by result. */
  readonly dnssec: Float64Array;
  /** Refusals by policy and by access control. */
  readonly refused: Float64Array;
  /** The upstreams' names, in the order of the per-upstream arrays. */
  readonly upstreams: readonly string[];
  /** Tries by upstream and result. */
  readonly results: Float64Array;
  /** Answered tries' round trips by upstream and histogram bucket. */
  readonly buckets: Float64Array;
  /** Their sums in seconds, by upstream. */
  readonly sums: Float64Array;
  /** Whether any upstream has answered. */
  readonly answered: boolean;
}

/** Adds `from` into `into`, element by element (`from` no longer than `into`). */
function addInto(into: Float64Array, from: Float64Array, at = 0): void {
  for (let i = 0; i < from.length; i++) into[at + i]! += from[i]!;
}

/** The counters of one server, fed as a {@link QueryObserver} and by the upstream tries. */
export class Metrics implements QueryObserver {
  readonly #queries = new Float64Array(PROTOCOLS.length * TYPE_COUNT);
  readonly #responses = new Float64Array(RCODE_NAMES.length * SOURCE_COUNT);
  #rateLimited = 0;
  /** Validated answers by result: secure, insecure, bogus, indeterminate (see {@link dnssecResult}). */
  readonly #dnssec = new Float64Array(DNSSEC_RESULTS.length);
  /** REFUSED by policy in the chain, and by an admission hook. */
  readonly #refused = new Float64Array(2);
  readonly #upstreams: string[] = [];
  #results = new Float64Array(0);
  #buckets = new Float64Array(0);
  #sums = new Float64Array(0);
  #answered = false;

  /** Counts one query (see {@link QueryObserver.observe}). */
  observe(
    query: Uint8Array,
    response: Uint8Array | null,
    _client: Deno.NetAddr,
    transport: string,
    _receivedAt: number,
    source: number,
    _upstream: string | null,
    limited: boolean,
  ): void {
    const type = questionType(query);
    const protocol = transport === "udp" ? 0 : transport === "tcp" ? 1 : transport === "tls" ? 2 : 3;
    this.#queries[protocol * TYPE_COUNT + (type < 0 ? OTHER_TYPE : TYPE_INDEX[type]!)]!++;
    if (limited) this.#rateLimited++;
    if (source === Source.ADMISSION) this.#refused[1]!++;
    else if (source === Source.REFUSED) this.#refused[0]!++;
    if (response !== null && response.length >= 12) {
      this.#responses[(response[3]! & 0x0f) * SOURCE_COUNT + source]!++;
    }
  }

  /**
   * The totals since start, for the statistics line SIGUSR1 logs: queries, responses by source
   * (both kinds of refusal as `refused`), and responses the rate limit held back.
   */
  totals(): { queries: number; bySource: Record<string, number>; rateLimited: number } {
    let queries = 0;
    for (const count of this.#queries) queries += count;
    const bySource: Record<string, number> = {};
    for (let source = 0; source < SOURCE_COUNT; source++) {
      let sum = 0;
      for (let rcode = 0; rcode < RCODE_NAMES.length; rcode++) {
        sum += this.#responses[rcode * SOURCE_COUNT + source]!;
      }
      const name = SOURCE_NAMES[source]!;
      bySource[name] = (bySource[name] ?? 0) + sum;
    }
    return { queries, bySource, rateLimited: this.#rateLimited };
  }

  /** A copy of every counter, to post to the main thread (a worker's, `--workers`). */
  snapshot(): MetricsSnapshot {
    return {
      queries: this.#queries.slice(),
      responses: this.#responses.slice(),
      rateLimited: this.#rateLimited,
      dnssec: this.#dnssec.slice(),
      refused: this.#refused.slice(),
      upstreams: [...this.#upstreams],
      results: this.#results.slice(),
      buckets: this.#buckets.slice(),
      sums: this.#sums.slice(),
      answered: this.#answered,
    };
  }

  /** Adds another's counters to these: the main thread sums its workers' for a scrape. */
  absorb(other: MetricsSnapshot): void {
    addInto(this.#queries, other.queries);
    addInto(this.#responses, other.responses);
    this.#rateLimited += other.rateLimited;
    addInto(this.#dnssec, other.dnssec);
    addInto(this.#refused, other.refused);
    const perBuckets = DURATION_BUCKETS.length + 1;
    other.upstreams.forEach((name, u) => {
      const index = this.upstreamIndex(name);
      const results = other.results.subarray(u * RESULT_NAMES.length, (u + 1) * RESULT_NAMES.length);
      addInto(this.#results, results, index * RESULT_NAMES.length);
      addInto(
        this.#buckets,
        other.buckets.subarray(u * perBuckets, (u + 1) * perBuckets),
        index * perBuckets,
      );
      this.#sums[index]! += other.sums[u]!;
    });
    this.#answered ||= other.answered;
  }

  /** Counts one validation's result (`--dnssec`): `secure`, `insecure`, `bogus` or `indeterminate`. */
  dnssecResult(result: string): void {
    const index = DNSSEC_RESULTS.indexOf(result);
    if (index >= 0) this.#dnssec[index]!++;
  }

  /** The index of an upstream's counters, for {@link upstreamTry}; the same name gets the same index. */
  upstreamIndex(name: string): number {
    const known = this.#upstreams.indexOf(name);
    if (known >= 0) return known;
    this.#upstreams.push(name);
    const grow = (old: Float64Array, per: number) => {
      const next = new Float64Array(this.#upstreams.length * per);
      next.set(old);
      return next;
    };
    this.#results = grow(this.#results, RESULT_NAMES.length);
    this.#buckets = grow(this.#buckets, DURATION_BUCKETS.length + 1);
    this.#sums = grow(this.#sums, 1);
    return this.#upstreams.length - 1;
  }

  /**
   * Counts one try at an upstream; an answered one's round trip goes into the histogram.
   * @param index from {@link upstreamIndex}
   * @param result an {@link UpstreamResult}
   * @param seconds how long it took
   */
  upstreamTry(index: number, result: number, seconds: number): void {
    this.#results[index * RESULT_NAMES.length + result]!++;
    if (result !== UpstreamResult.OK) return;
    this.#answered = true;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket++;
    this.#buckets[index * (DURATION_BUCKETS.length + 1) + bucket]!++;
    this.#sums[index]! += seconds;
  }

  /** Whether any upstream has answered a try yet (for `/ready`). */
  get upstreamAnswered(): boolean {
    return this.#answered;
  }

  /** The metrics in the Prometheus text exposition format (version 0.0.4). */
  render(gauges: MetricGauges = {}): string {
    const lines: string[] = [];
    const head = (name: string, kind: string, help: string) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`);
    };
    head("dnsd_queries_total", "counter", "Queries received, by transport and question type.");
    PROTOCOLS.forEach((protocol, p) => {
      for (let t = 0; t < TYPE_COUNT; t++) {
        const count = this.#queries[p * TYPE_COUNT + t]!;
        if (count === 0) continue;
        const type = t === OTHER_TYPE ? "OTHER" : typeName(KNOWN_TYPES[t]!);
        lines.push(`dnsd_queries_total{protocol="${protocol}",type="${type}"} ${count}`);
      }
    });
    head("dnsd_responses_total", "counter", "Responses decided, by rcode and where the answer came from.");
    RCODE_NAMES.forEach((rcode, r) => {
      // The two refusals share the label `refused`: summed here.
      const bySource = new Map<string, number>();
      for (let s = 0; s < SOURCE_COUNT; s++) {
        const count = this.#responses[r * SOURCE_COUNT + s]!;
        if (count > 0) bySource.set(SOURCE_NAMES[s]!, (bySource.get(SOURCE_NAMES[s]!) ?? 0) + count);
      }
      for (const [source, count] of bySource) {
        lines.push(`dnsd_responses_total{rcode="${rcode}",source="${source}"} ${count}`);
      }
    });
    const cache = gauges.cache?.() ?? { hits: 0, misses: 0, entries: 0 };
    head("dnsd_cache_hits_total", "counter", "Questions the answer cache answered.");
    lines.push(`dnsd_cache_hits_total ${cache.hits}`);
    head("dnsd_cache_misses_total", "counter", "Questions the answer cache did not answer.");
    lines.push(`dnsd_cache_misses_total ${cache.misses}`);
    head("dnsd_cache_entries", "gauge", "Entries in the answer cache.");
    lines.push(`dnsd_cache_entries ${cache.entries}`);
    head("dnsd_upstream_requests_total", "counter", "Tries sent to each upstream, by how they ended.");
    this.#upstreams.forEach((name, u) => {
      RESULT_NAMES.forEach((result, r) => {
        lines.push(
          `dnsd_upstream_requests_total{upstream="${label(name)}",result="${result}"} ${
            this.#results[u * RESULT_NAMES.length + r]
          }`,
        );
      });
    });
    head("dnsd_upstream_duration_seconds", "histogram", "Round-trip time of answered upstream tries.");
    this.#upstreams.forEach((name, u) => {
      const base = u * (DURATION_BUCKETS.length + 1);
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, b) => {
        cumulative += this.#buckets[base + b]!;
        lines.push(
          `dnsd_upstream_duration_seconds_bucket{upstream="${label(name)}",le="${le}"} ${cumulative}`,
        );
      });
      cumulative += this.#buckets[base + DURATION_BUCKETS.length]!;
      lines.push(`dnsd_upstream_duration_seconds_bucket{upstream="${label(name)}",le="+Inf"} ${cumulative}`);
      lines.push(`dnsd_upstream_duration_seconds_sum{upstream="${label(name)}"} ${this.#sums[u]}`);
      lines.push(`dnsd_upstream_duration_seconds_count{upstream="${label(name)}"} ${cumulative}`);
    });
    head("dnsd_rate_limited_total", "counter", "UDP answers the rate limit dropped or sent truncated.");
    lines.push(`dnsd_rate_limited_total ${this.#rateLimited}`);
    head("dnsd_refused_total", "counter", "Queries refused by policy (in the chain) or by access control.");
    lines.push(`dnsd_refused_total{reason="policy"} ${this.#refused[0]}`);
    lines.push(`dnsd_refused_total{reason="acl"} ${this.#refused[1]}`);
    head("dnsd_dnssec_total", "counter", "Forwarded answers validated (--dnssec), by result.");
    DNSSEC_RESULTS.forEach((result, i) =>
      lines.push(`dnsd_dnssec_total{result="${result}"} ${this.#dnssec[i]}`)
    );
    if (gauges.workers) {
      head(
        "dnsd_worker_queries_total",
        "counter",
        "Queries each worker (--workers) received, by worker number.",
      );
      gauges.workers.forEach((count, worker) =>
        lines.push(`dnsd_worker_queries_total{worker="${worker}"} ${count}`)
      );
    }
    if (gauges.loops) {
      head(
        "dnsd_udp_event_loops",
        "gauge",
        "Event loops taking UDP queries now (--workers, --workers-busy).",
      );
      lines.push(`dnsd_udp_event_loops ${gauges.loops.active}`);
      head("dnsd_udp_event_loops_max", "gauge", "Event loops there may be (--workers).");
      lines.push(`dnsd_udp_event_loops_max ${gauges.loops.max}`);
    }
    head("dnsd_build_info", "gauge", "dnsd's version, as a label; always 1.");
    lines.push(`dnsd_build_info{version="${label(gauges.version ?? "unknown")}"} 1`);
    const process = (gauges.process ?? processFigures)();
    head("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    lines.push(`process_resident_memory_bytes ${process.rssBytes}`);
    head("process_heap_bytes", "gauge", "JavaScript heap in use, in bytes.");
    lines.push(`process_heap_bytes ${process.heapBytes}`);
    head("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
    lines.push(`process_cpu_seconds_total ${process.cpuSeconds}`);
    return lines.join("\n") + "\n";
  }
}
