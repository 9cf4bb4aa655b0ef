/**
 * Watching data files for changes. Editors often save by writing a new file and renaming it over
 * the old one, which ends a watch on the file itself, so dnsd watches the files' folders and
 * picks out the events for its files. Bursts of events are debounced into one call.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { dirname, resolve } from "node:path";

const log = getLogger(["dnsd", "data"]);

/** A running watch. */
export interface FileWatch {
  /** Watches this set of files instead (the folders are re-watched only when they change). */
  update(files: readonly string[]): void;
  /** Stops watching. */
  close(): void;
}

/**
 * Calls `onChange` once things settle after any of `files` is created, changed, renamed or removed.
 * @param debounceMs how long to wait for more events before calling
 */
export function watchFiles(files: readonly string[], onChange: () => void, debounceMs = 200): FileWatch {
  let watcher: Deno.FsWatcher | null = null;
  let watched = new Set<string>();
  let folders = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function fire(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
  }

  async function run(current: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of current) {
        if (event.paths.some((path) => watched.has(resolve(path)))) fire();
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
