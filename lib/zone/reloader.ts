/**
 * Holds the current local data (and what came with it: a config, lists) and replaces it on reload,
 * as a transaction: the new state is used only when every part of it loaded and checked, else the
 * running one stays whole and each error is logged with its file:line. Reloads never overlap: one
 * asked for while another runs is done once, after it (and forced when any of those asking forced
 * it). Queries read `current()` and so see the old data or the new, never a mix and never an error.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { LocalData } from "./local_data.ts";
import type { LoadedData, ReloadOptions } from "./sources.ts";

const log = getLogger(["dnsd", "data"]);

/** The live local data and the way to reload it. */
export interface Reloader<T extends LoadedData = LoadedData> {
  /** The data queries should use now. */
  current(): LocalData;
  /** The whole state in use now: the data and what was loaded with it. */
  state(): T;
  /** The files the current data was read from. */
  files(): readonly string[];
  /**
   * Reads every source again and swaps the result in; resolves when done.
   * @param options `requireNewSerial` for the file watcher; none (SIGHUP) loads every zone that parses
   */
  reload(why: string, options?: ReloadOptions): Promise<ReloadOutcome>;
}

/** What a reload did: swapped the new state in, or kept the running one and why. */
export type ReloadOutcome =
  | { readonly applied: true; readonly records: number }
  | { readonly applied: false; readonly errors: readonly string[] };

/** A reload asked for while another runs. */
interface Queued {
  readonly why: string;
  readonly options: ReloadOptions;
}

/** Two waiting reloads as one: it needs a new serial only if both did (SIGHUP is never lost). */
function merge(queued: Queued | null, why: string, options: ReloadOptions): Queued {
  if (!queued) return { why, options };
  if (!queued.options.requireNewSerial) return queued;
  return options.requireNewSerial ? queued : { why, options };
}

/**
 * Starts from an already loaded state.
 * @param load reads every source (non-strict: failures come back in `errors`)
 * @param onFiles told the files after each reload (to watch them)
 * @param onSwapped told each new state once it is in use (to apply what it changes beyond the data)
 */
export function createReloader<T extends LoadedData>(
  initial: T,
  load: (options: ReloadOptions) => Promise<T>,
  onFiles: (files: readonly string[]) => void = () => {},
  onSwapped: (state: T) => void = () => {},
): Reloader<T> {
  let state = initial;
  let running: Promise<ReloadOutcome> | null = null;
  let queued: Queued | null = null;

  async function once({ why, options }: Queued): Promise<ReloadOutcome> {
    log.info("Reloading local data ({why})", { why });
    try {
      const next = await load(options);
      if (next.errors.length > 0) {
        for (const error of next.errors) log.error("{error}", { error: error.message });
        log.error("Reload failed, keeping the running configuration and data ({count} errors)", {
          count: next.errors.length,
        });
        // Still watch what the failed load read: a file it needs may appear, or be fixed.
        onFiles([...new Set([...state.files, ...next.files])]);
        return { applied: false, errors: next.errors.map((error) => error.message) };
      }
      state = next;
      log.info("Local data reloaded: {records} records", { records: next.data.size });
      onFiles(next.files);
      onSwapped(next);
      return { applied: true, records: next.data.size };
    } catch (error) {
      // One line: a config file's error says its file:line already (a stack trace would not help).
      const reason = error instanceof Error ? error.message : String(error);
      log.error("Reload failed, keeping the running configuration and data: {reason}", { reason });
      return { applied: false, errors: [reason] };
    }
  }

  return {
    current: () => state.data,
    state: () => state,
    files: () => state.files,
    reload(why, options = {}) {
      if (running) {
        queued = merge(queued, why, options);
        return running;
      }
      running = (async () => {
        let outcome: ReloadOutcome = { applied: false, errors: [] };
        for (let next: Queued | null = { why, options }; next; next = queued) {
          queued = null;
          outcome = await once(next);
        }
        running = null;
        // A reload asked for while one ran is told how the last of them went.
        return outcome;
      })();
      return running;
    },
  };
}
