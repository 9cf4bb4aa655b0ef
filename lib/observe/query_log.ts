/**
 * The query log (`--query-log FILE` or `-`): one JSON object per query, on one line, with the
 * fields issue 15 lists. A line is made when the response is decided (the query's bytes are good
 * only then) and kept in a buffer; the buffer is written in one call on a timer or when it fills,
 * off the answer path. A full buffer drops lines and counts them, so a flood cannot grow memory;
 * a reopen (SIGHUP, after logrotate moved the file) starts a new file at the same path.
 * @module
 */
import {
  answerCount,
  extendedError,
  type QueryObserver,
  questionName,
  questionType,
  responseFlags,
  SOURCE_NAMES,
} from "./observation.ts";
import { rcodeName, typeName } from "../proto/mod.ts";

/** Where lines go: written whole, in order, one write at a time. */
export interface LogSink {
  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the sink (not stdout). */
  close(): void;
}

/** Options for {@link QueryLog}. */
export interface QueryLogOptions {
  /** Opens the sink: at start (unless `first` is given) and on each {@link QueryLog.reopen}. */
  readonly open: () => Promise<LogSink>;
  /** The sink opened already (so that a path that cannot be opened fails at start-up, not later). */
  readonly first?: LogSink;
  /** Milliseconds on the servers' monotonic clock, for `duration_ms` (default `performance.now`). */
  readonly now?: () => number;
  /** Wall time in ms since the epoch, for `ts` (default `Date.now`). */
  readonly wallClock?: () => number;
  /** How often the buffer is written, in ms (default 200). */
  readonly flushMs?: number;
  /** Lines written in one go as soon as this many wait (default 512). */
  readonly batchLines?: number;
  /** The most lines held; past it new ones are dropped and counted (default 20,000). */
  readonly maxLines?: number;
}

/** "ip:port", with brackets around an IPv6 address. */
function addressText(address: Deno.NetAddr): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

/** The fields of one line, in the order written. */
export interface QueryLogEntry {
  readonly ts: string;
  readonly client: string;
  readonly protocol: string;
  readonly name: string | null;
  readonly type: string | null;
  readonly rcode: string | null;
  readonly flags: readonly string[];
  readonly answers: number;
  readonly source: string;
  readonly upstream: string | null;
  readonly "duration_ms": number;
  readonly ede?: { readonly code: number; readonly text: string };
}

/**
 * One query's line (without the newline). Pure: what {@link QueryLog} writes, and what a test
 * checks. The rcode is null when no response was made (dropped).
 */
export function queryLogEntry(
  query: Uint8Array,
  response: Uint8Array | null,
  client: Deno.NetAddr,
  transport: string,
  source: number,
  upstream: string | null,
  arrivedAtMs: number,
  durationMs: number,
): QueryLogEntry {
  const type = questionType(query);
  const ede = response === null ? null : extendedError(response);
  const rcode = response === null || response.length < 12 ? null : response[3]! & 0x0f;
  return {
    ts: new Date(arrivedAtMs).toISOString(),
    client: addressText(client),
    protocol: transport,
    name: questionName(query),
    type: type < 0 ? null : typeName(type),
    rcode: rcode === null ? null : rcodeName(rcode),
    flags: response === null ? [] : responseFlags(response),
    answers: response === null ? 0 : answerCount(response),
    source: SOURCE_NAMES[source] ?? "error",
    upstream,
    duration_ms: Math.round(durationMs * 1000) / 1000,
    ...(ede ? { ede } : {}),
  };
}

/** Flag bits of octets 2 and 3 that {@link responseFlags} names (QR AA TC RD; RA AD CD). */
function flagBits(response: Uint8Array): number {
  return ((response[2]! & 0x87) << 8) | (response[3]! & 0xb0);
}

/**
 * The flags' JSON array for every combination of those bits (128), made once at load and never
 * changed: a line's flags are a lookup, not a JSON.stringify.
 */
const FLAGS_JSON: ReadonlyMap<number, string> = (() => {
  const table = new Map<number, string>();
  const header = new Uint8Array(12);
  for (let high = 0; high < 0x100; high++) {
    if ((high & 0x87) !== high) continue;
    for (let low = 0; low < 0x100; low++) {
      if ((low & 0xb0) !== low) continue;
      header[2] = high;
      header[3] = low;
      table.set(flagBits(header), JSON.stringify(responseFlags(header)));
    }
  }
  return table;
})();

/** The ISO 8601 time of `ms`, kept for the last millisecond asked: a burst shares one string. */
class IsoClock {
  #ms = NaN;
  #text = "";
  /** `new Date(ms).toISOString()`, cached for the same whole millisecond. */
  at(ms: number): string {
    const whole = Math.floor(ms);
    if (whole !== this.#ms) {
      this.#ms = whole;
      this.#text = new Date(whole).toISOString();
    }
    return this.#text;
  }
}

/**
 * One query's line, as JSON with the fields in {@link QueryLogEntry}'s order, made by
 * concatenation: the same text as `JSON.stringify(queryLogEntry(...))` (a test checks it) at a
 * third of the cost, since it runs on the answer path.
 */
export function queryLogLine(
  query: Uint8Array,
  response: Uint8Array | null,
  client: Deno.NetAddr,
  transport: string,
  source: number,
  upstream: string | null,
  ts: string,
  durationMs: number,
): string {
  const type = questionType(query);
  const name = questionName(query);
  const rcode = response === null || response.length < 12 ? null : response[3]! & 0x0f;
  let flags = "[]";
  if (response !== null && response.length >= 12) {
    flags = FLAGS_JSON.get(flagBits(response)) ?? JSON.stringify(responseFlags(response));
  }
  const ede = response === null ? null : extendedError(response);
  return `{"ts":"${ts}","client":${JSON.stringify(addressText(client))},"protocol":"${transport}",` +
    `"name":${name === null ? "null" : JSON.stringify(name)},` +
    `"type":${type < 0 ? "null" : `"${typeName(type)}"`},` +
    `"rcode":${rcode === null ? "null" : `"${rcodeName(rcode)}"`},"flags":${flags},` +
    `"answers":${response === null ? 0 : answerCount(response)},"source":"${
      SOURCE_NAMES[source] ?? "error"
    }",` +
    `"upstream":${upstream === null ? "null" : JSON.stringify(upstream)},` +
    `"duration_ms":${Math.round(durationMs * 1000) / 1000}` +
    (ede ? `,"ede":{"code":${ede.code},"text":${JSON.stringify(ede.text)}}}` : "}");
}

/** The query log: a {@link QueryObserver} that buffers lines and writes them in batches. */
export class QueryLog implements QueryObserver {
  readonly #open: () => Promise<LogSink>;
  readonly #now: () => number;
  readonly #wallClock: () => number;
  readonly #batchLines: number;
  readonly #maxLines: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #encoder = new TextEncoder();
  readonly #iso = new IsoClock();
  #lines: string[] = [];
  #sink: Promise<LogSink>;
  #writing: Promise<void> = Promise.resolve();
  #queued = false;
  #dropped = 0;
  #closed = false;

  /**
   * Opens the sink and starts the flush timer (which does not keep the process alive).
   * @param options where lines go, the clocks and the bounds
   */
  constructor(options: QueryLogOptions) {
    this.#open = options.open;
    this.#now = options.now ?? (() => performance.now());
    this.#wallClock = options.wallClock ?? Date.now;
    this.#batchLines = options.batchLines ?? 512;
    this.#maxLines = options.maxLines ?? 20_000;
    this.#sink = options.first ? Promise.resolve(options.first) : this.#open();
    this.#sink.catch(() => {}); // counted by flush(), where it is awaited
    this.#timer = setInterval(() => void this.flush(), options.flushMs ?? 200);
    Deno.unrefTimer(this.#timer);
  }

  /** Lines dropped because the buffer was full (the sink was slower than the queries). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Makes the query's line and buffers it (see {@link QueryObserver.observe}). */
  observe(
    query: Uint8Array,
    response: Uint8Array | null,
    client: Deno.NetAddr,
    transport: string,
    receivedAt: number,
    source: number,
    upstream: string | null,
    _limited: boolean,
  ): void {
    if (this.#closed) return;
    if (this.#lines.length >= this.#maxLines) {
      this.#dropped++;
      return;
    }
    const duration = Math.max(0, this.#now() - receivedAt);
    const ts = this.#iso.at(this.#wallClock() - duration);
    this.#lines.push(queryLogLine(query, response, client, transport, source, upstream, ts, duration) + "\n");
    if (this.#lines.length >= this.#batchLines) void this.flush();
  }

  /**
   * Writes what is buffered, in one write after the writes before it; resolves once written. At
   * most one write waits at a time, and it takes every line buffered when its turn comes. A failed
   * write drops its lines (counted).
   */
  flush(): Promise<void> {
    if (this.#lines.length === 0 || this.#queued) return this.#writing;
    this.#queued = true;
    this.#writing = this.#writing.then(async () => {
      this.#queued = false;
      const lines = this.#lines;
      this.#lines = [];
      if (lines.length === 0) return;
      try {
        const sink = await this.#sink;
        await sink.write(this.#encoder.encode(lines.join("")));
      } catch {
        this.#dropped += lines.length;
      }
    });
    return this.#writing;
  }

  /** Writes what is buffered to the old file, then opens the path again (after logrotate moved it). */
  async reopen(): Promise<void> {
    await this.flush();
    const old = this.#sink;
    this.#sink = this.#open();
    this.#sink.catch(() => {});
    try {
      (await old).close();
    } catch {
      // it never opened
    }
  }

  /** Stops the timer, writes what is buffered and closes the sink. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    this.#closed = true;
    try {
      (await this.#sink).close();
    } catch {
      // it never opened
    }
  }
}

/** A sink on a file (appended to, made if missing) or on stdout for `-`. */
export async function openLogSink(path: string): Promise<LogSink> {
  if (path === "-") return stdoutSink();
  return fileSink(await Deno.open(path, { append: true, create: true, write: true }));
}

/** Standard output as a sink; closing it does nothing. */
function stdoutSink(): LogSink {
  return {
    async write(bytes) {
      for (let at = 0; at < bytes.length;) at += await Deno.stdout.write(bytes.subarray(at));
    },
    close() {},
  };
}

/** A file opened for appending, as a sink. */
function fileSink(file: Deno.FsFile): LogSink {
  return {
    async write(bytes) {
      for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
    },
    close() {
      file.close();
    },
  };
}

/** A query log file that cannot be opened at start-up: the path and the reason (the cause). */
export class QueryLogError extends Error {
  /** The error's name. */
  override name = "QueryLogError";
  /**
   * Says which file and why.
   * @param path the `--query-log` path
   * @param cause what opening it threw
   */
  constructor(readonly path: string, override readonly cause: unknown) {
    super(`--query-log: cannot open ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * The sink {@link openLogSink} makes, opened synchronously: a query log that cannot be written
 * (no such directory, no permission) stops the start with one line instead of dropping every line.
 * @throws {QueryLogError} when the file cannot be opened
 */
export function openLogSinkSync(path: string): LogSink {
  if (path === "-") return stdoutSink();
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { append: true, create: true, write: true });
  } catch (error) {
    throw new QueryLogError(path, error);
  }
  return fileSink(file);
}
