/**
 * Holds the current local data and replaces it on reload. Reloads never overlap: one asked for
 * while another runs is done once, after it (and forced when any of those asking forced it).
 * Queries read `current()` and so see the old data or the new, never a mix and never an error.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { LocalData } from "./local_data.ts";
import type { LoadedData, ReloadOptions } from "./sources.ts";

const log = getLogger(["dnsd", "data"]);

/** The live local data and the way to reload it. */
export interface Reloader {
  /** The data queries should use now. */
  current(): LocalData;
  /** The files the current data was read from. */
  files(): readonly string[];
  /**
   * Reads every source again and swaps the result in; resolves when done.
   * @param options `requireNewSerial` for the file watcher; none (SIGHUP) loads every zone that parses
   */
  reload(why: string, options?: ReloadOptions): Promise<void>;
}

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
 */
export function createReloader(
  initial: LoadedData,
  load: (options: ReloadOptions) => Promise<LoadedData>,
  onFiles: (files: readonly string[]) => void = () => {},
): Reloader {
  let state = initial;
  let running: Promise<void> | null = null;
  let queued: Queued | null = null;

  async function once({ why, options }: Queued): Promise<void> {
    log.info("Reloading local data ({why})", { why });
    try {
      const next = await load(options);
      for (const error of next.errors) {
        log.error("Reload failed, keeping the previous data of that source: {error}", {
          error: error.message,
        });
      }
      state = next;
      log.info("Local data reloaded: {records} records", { records: next.data.size });
      onFiles(next.files);
    } catch (error) {
      log.error("Reload failed, keeping the previous data: {error}", { error });
    }
  }

  return {
    current: () => state.data,
    files: () => state.files,
    reload(why, options = {}) {
      if (running) {
        queued = merge(queued, why, options);
        return running;
      }
      running = (async () => {
        for (let next: Queued | null = { why, options }; next; next = queued) {
          queued = null;
          await once(next);
        }
        running = null;
      })();
      return running;
    },
  };
}
