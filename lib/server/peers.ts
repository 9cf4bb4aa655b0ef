/**
 * The other servers of one dnsd (`--workers`): each worker runs a server of its own on the same
 * UDP ports, and the main thread's server sums their figures into its own for `/metrics` and the
 * statistics line, and passes a cache flush on to them. Pure: figures in, sums out.
 * @module
 */
import { Metrics, type MetricsSnapshot } from "../observe/mod.ts";
import type { ServerCounters } from "./app.ts";

/** A cache's counts. */
export interface CacheFigures {
  /** Questions answered from a fresh entry. */
  readonly hits: number;
  /** Questions that went upstream. */
  readonly misses: number;
  /** Stale answers served. */
  readonly stale: number;
  /** Entries held now. */
  readonly entries: number;
}

/** One server's figures, as a worker sends them. */
export interface ServerFigures {
  /** Forwarding's counters. */
  readonly counters: ServerCounters;
  /** Its cache's counts; null without a cache. */
  readonly cache: CacheFigures | null;
  /** Its metrics; null without `--metrics`. */
  readonly metrics: MetricsSnapshot | null;
}

/** The other workers, seen from the main thread's server. */
export interface Peers {
  /** Each worker's figures now, in worker order (1, 2, ...). */
  figures(): Promise<readonly ServerFigures[]>;
  /** Drops cached answers in every worker (all, or those at or below `name`); how many in all. */
  flush(name?: string): Promise<number>;
  /** How many event loops take UDP queries now, and how many there may be (`--workers-busy`). */
  loops?(): { readonly active: number; readonly max: number };
}

/** `figures`' counters summed, key by key. */
export function sumCounters(figures: readonly ServerFigures[]): ServerCounters {
  const sum = { ...figures[0]!.counters };
  const keys = Object.keys(sum) as (keyof ServerCounters)[];
  for (const other of figures.slice(1)) for (const key of keys) sum[key] += other.counters[key];
  return sum;
}

/** `figures`' caches summed; null when none has a cache. */
export function sumCaches(figures: readonly ServerFigures[]): CacheFigures | null {
  const caches = figures.map((figure) => figure.cache).filter((cache) => cache !== null);
  if (caches.length === 0) return null;
  return {
    hits: caches.reduce((sum, cache) => sum + cache.hits, 0),
    misses: caches.reduce((sum, cache) => sum + cache.misses, 0),
    stale: caches.reduce((sum, cache) => sum + cache.stale, 0),
    entries: caches.reduce((sum, cache) => sum + cache.entries, 0),
  };
}

/** The queries a snapshot counted (every transport and type). */
export function queriesOf(snapshot: MetricsSnapshot | null): number {
  let sum = 0;
  for (const count of snapshot?.queries ?? []) sum += count;
  return sum;
}

/** `figures`' metrics summed into one (those without metrics add nothing). */
export function sumMetrics(figures: readonly ServerFigures[]): Metrics {
  const summed = new Metrics();
  for (const figure of figures) if (figure.metrics) summed.absorb(figure.metrics);
  return summed;
}
