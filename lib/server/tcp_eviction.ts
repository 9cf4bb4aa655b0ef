/**
 * Which TCP connection to close when every slot is taken (RFC 7766 section 6.2.2 lets a server
 * close connections to make room): the one doing the most harm, never a quiet client merely
 * because it has been connected the longest.
 * @module
 */

/** What eviction looks at in a connection. */
export interface EvictionView {
  /** When the answer being written now was started (a monotonic clock), or null when none is. */
  readonly writingSince: number | null;
  /** Octets of answers queued and not yet written. */
  readonly queuedBytes: number;
  /** Queries being answered, their answers not yet written. */
  readonly inProgress: number;
  /** When a whole query last arrived or an answer last went out, or when the connection opened. */
  readonly lastActive: number;
}

/** How {@link mostHarmful} tells stuck from busy. */
export interface EvictionOptions {
  /** Now, on the clock of `writingSince`. */
  readonly now: number;
  /** A write pending this long is stuck; a shorter one is a client being served. */
  readonly stuckMs: number;
}

/**
 * The connection to close, by harm: first one stuck writing (the longest stuck, then the most
 * octets queued), since a client that does not read holds memory and a slot for nothing; else the
 * one idle the longest among those with nothing in progress; else none (the new connection is
 * the one to turn away, as every client is being served).
 */
export function mostHarmful<T extends EvictionView>(
  connections: Iterable<T>,
  options: EvictionOptions,
): T | undefined {
  const stuckBefore = options.now - options.stuckMs;
  let stuck: T | undefined;
  let idle: T | undefined;
  for (const c of connections) {
    if (c.writingSince !== null) {
      if (c.writingSince > stuckBefore) continue; // a write under way: a client being served
      if (
        !stuck || c.writingSince < stuck.writingSince! ||
        (c.writingSince === stuck.writingSince && c.queuedBytes > stuck.queuedBytes)
      ) stuck = c;
    } else if (c.inProgress === 0 && c.queuedBytes === 0 && (!idle || c.lastActive < idle.lastActive)) {
      idle = c;
    }
  }
  return stuck ?? idle;
}
