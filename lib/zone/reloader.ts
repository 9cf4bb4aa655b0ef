/**
 * Holds the current local data and replaces it on reload. Reloads never overlap: one asked for
 * while another runs is done once, after it. Queries read `current()` and so see the old data or
 * the new, never a mix and never an error.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { LocalData } from "./local_data.ts";
import type { LoadedData } from "./sources.ts";

const log = getLogger(["dnsd", "data"]);

/** The live local data and the way to reload it. */
export interface Reloader {
  /** The data queries should use now. */
  current(): LocalData;
  /** The files the current data was read from. */
  files(): readonly string[];
  /** Reads every source again and swaps the result in; resolves when done. */
  reload(why: string): Promise<void>;
}

/**
 * Starts from an already loaded state.
 * @param load reads every source (non-strict: failures come back in `errors`)
 * @param onFiles told the files after each reload (to watch them)
 */
export function createReloader(
  initial: LoadedData,
  load: () => Promise<LoadedData>,
  onFiles: (files: readonly string[]) => void = () => {},
): Reloader {
  let state = initial;
  let running: Promise<void> | null = null;
  let again = false;

  async function once(why: string): Promise<void> {
    log.info("Reloading local data ({why})", { why });
    try {
      const next = await load();
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
    reload(why) {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await once(why);
        } while (again);
        running = null;
      })();
      return running;
    },
  };
}
