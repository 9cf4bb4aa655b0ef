/**
 * Watching data files for changes. Editors often save by writing a new file and renaming it over
 * the old one, which ends a watch on the file itself, so dnsd watches the files' folders and
 * picks out the events for its files. A change is acted on only once the files have stopped
 * changing for the settle time: an editor's slow write, or a copy over a slow link, sends events
 * while it runs, and each one starts the wait again, so a file is never read half-written.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { dirname, resolve } from "node:path";

const log = getLogger(["dnsd", "data"]);

/** How long watched files must stay unchanged before a change is acted on, unless told otherwise. */
export const DEFAULT_SETTLE_MS = 2_000;

/** A running watch. */
export interface FileWatch {
  /** Watches this set of files instead (the folders are re-watched only when they change). */
  update(files: readonly string[]): void;
  /** Stops watching. */
  close(): void;
}

/**
 * Calls `onChange` once none of `files` has been created, changed, renamed or removed for
 * `settleMs`; every event in the meantime starts the wait again.
 * @param settleMs how long the files must stay unchanged (`--reload-settle`)
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  settleMs: number = DEFAULT_SETTLE_MS,
): FileWatch {
  let watcher: Deno.FsWatcher | null = null;
  let watched = new Set<string>();
  let folders = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function changed(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, settleMs);
  }

  async function run(current: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of current) {
        if (event.paths.some((path) => watched.has(resolve(path)))) changed();
      }
    } catch (error) {
      if (!closed) log.error("Watching data files failed: {error}", { error });
    }
  }

  function update(next: readonly string[]): void {
    watched = new Set(next.map((file) => resolve(file)));
    const dirs = [...new Set([...watched].map((file) => dirname(file)))].sort();
    if (dirs.join("\n") === folders || closed) return;
    folders = dirs.join("\n");
    watcher?.close();
    watcher = null;
    if (dirs.length === 0) return;
    try {
      watcher = Deno.watchFs(dirs, { recursive: false });
      void run(watcher);
    } catch (error) {
      log.error("Cannot watch {dirs}: {error}", { dirs: dirs.join(", "), error });
    }
  }

  update(files);
  return {
    update,
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
      watcher = null;
    },
  };
}
