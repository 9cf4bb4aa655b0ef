/**
 * Events a remote party can cause (a spoofed upstream datagram, a client's bad frame, an upstream
 * that fails): each is counted, and logged at most once per interval per kind, so no one outside
 * can fill the log. The lines held back are told on the next line of the kind, as the kernel's
 * printk rate limit does ("... (and 4,999 more in the last 10 s)").
 * @module
 */
/** The levels a remote event may be logged at. */
export type RemoteEventLevel = "info" | "warning" | "error";

/** Where the lines go: a LogTape logger, or anything with its three methods. */
export type EventLogger = Record<
  RemoteEventLevel,
  (message: string, properties: Record<string, unknown>) => void
>;

/** Options for {@link RemoteEvents}. */
export interface RemoteEventOptions {
  /** At most one line per kind in this many milliseconds; 10,000 by default. */
  readonly intervalMs?: number;
  /** Milliseconds on a monotonic clock; injected by tests. */
  readonly now?: () => number;
}

interface Window {
  /** When the last line of the kind was written. */
  loggedAt: number;
  /** Events of the kind since then that wrote no line. */
  suppressed: number;
}

/**
 * Counts and logs remote events by kind. Kinds are names chosen by the code (a handful per
 * component), never taken from a packet, so the tables stay small.
 */
export class RemoteEvents {
  readonly #logger: EventLogger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #counts = new Map<string, number>();
  readonly #windows = new Map<string, Window>();

  constructor(logger: EventLogger, options: RemoteEventOptions = {}) {
    this.#logger = logger;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Counts one event of `kind`, and logs `message` (a LogTape template over `properties`) unless
   * a line of this kind went out less than an interval ago.
   * @returns whether a line was written
   */
  report(
    kind: string,
    level: RemoteEventLevel,
    message: string,
    properties: Record<string, unknown> = {},
  ): boolean {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    const time = this.#now();
    const window = this.#windows.get(kind);
    if (window && time - window.loggedAt < this.#intervalMs) {
      window.suppressed++;
      return false;
    }
    const suppressed = window?.suppressed ?? 0;
    if (suppressed > 0) {
      this.#logger[level](`${message} (and {suppressed} more in the last {seconds} s)`, {
        ...properties,
        suppressed: suppressed.toLocaleString("en-US"),
        seconds: Math.round((time - window!.loggedAt) / 1000),
      });
    } else {
      this.#logger[level](message, properties);
    }
    this.#windows.set(kind, { loggedAt: time, suppressed: 0 });
    return true;
  }

  /** How many events of `kind` were reported, logged or not. */
  count(kind: string): number {
    return this.#counts.get(kind) ?? 0;
  }

  /** Every kind seen and its count, for the metrics. */
  get counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }
}
