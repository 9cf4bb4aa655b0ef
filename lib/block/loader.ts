/**
 * Loading the `--blocklist` and `--allowlist` files into a {@link BlockPolicy}. Lists are data
 * files like zones: loaded with the rest of a configuration, watched, and reloaded as part of its
 * transaction (lib/config/live.ts), so a missing or unreadable file fails the whole load and the
 * running lists stay. A line that cannot be read is not fatal: each file's are counted and logged
 * once per load, with the file:line of the first few.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DataError } from "../proto/mod.ts";
import { type BlockMode, type BlockPolicy, NO_LISTS } from "./blocklist.ts";
import { DomainSet } from "./domain_set.ts";
import { parseList } from "./list_parser.ts";

const log = getLogger(["dnsd", "block"]);

/** The list files of a configuration. */
export interface ListSources {
  /** `--blocklist` files, in order. */
  readonly blocklists: readonly string[];
  /** `--allowlist` files, in order. */
  readonly allowlists: readonly string[];
  /** `--block-mode`. */
  readonly mode: BlockMode;
}

/** A loaded policy, the files it was read from, and what failed. */
export interface LoadedLists {
  /** The policy; with errors, one that blocks nothing (the caller keeps the running one). */
  readonly policy: BlockPolicy;
  /** The files read (to watch). */
  readonly files: readonly string[];
  /** Files that could not be read, one error each naming its flag and path. */
  readonly errors: readonly Error[];
}

/** Options for {@link listLoader}. */
export interface ListLoaderOptions {
  /** Reads a file (default `Deno.readTextFile`). */
  readonly read?: (path: string) => Promise<string>;
}

/** The error for a list file that cannot be read, naming its flag. */
function unreadableFile(flag: string, path: string, error: unknown): DataError {
  if (error instanceof Deno.errors.NotFound) return new DataError(`--${flag} ${path}: no such file`);
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new DataError(`--${flag} ${path}: cannot read it: ${reason}`, { cause: error });
}

/** Parses `text` into `into`, logging its unreadable lines once. */
function addList(into: DomainSet, path: string, text: string): void {
  const parsed = parseList(text);
  for (const name of parsed.names) into.add(name);
  if (parsed.unreadable === 0) return;
  log.warning("{file}: {count} lines could not be read and were skipped, first {first}", {
    file: path,
    count: parsed.unreadable,
    first: parsed.firstUnreadable.map(({ line, reason }) => `${path}:${line} (${reason})`).join(", "),
  });
}

/**
 * Makes a loader. Each call reads every list again; when every file's text and the mode are what
 * the last good load had, that load's policy comes back unchanged (a reload for another file then
 * costs no parsing of a million-line list).
 */
export function listLoader(options: ListLoaderOptions = {}): (sources: ListSources) => Promise<LoadedLists> {
  const read = options.read ?? ((path: string) => Deno.readTextFile(path));
  let last: { readonly key: readonly string[]; readonly policy: BlockPolicy } | null = null;
  /** The mode, each path and each text, in order: equal keys load the same policy. */
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);

  return async function loadLists(sources) {
    const files = [...sources.blocklists, ...sources.allowlists];
    if (files.length === 0) return { policy: { lists: NO_LISTS, mode: sources.mode }, files, errors: [] };
    const texts: string[] = [];
    const errors: Error[] = [];
    for (const [i, path] of files.entries()) {
      try {
        texts.push(await read(path));
      } catch (error) {
        errors.push(unreadableFile(i < sources.blocklists.length ? "blocklist" : "allowlist", path, error));
      }
    }
    if (errors.length > 0) return { policy: { lists: NO_LISTS, mode: sources.mode }, files, errors };
    const key = [sources.mode, ...files, ...texts];
    if (last && same(last.key, key)) {
      return { policy: last.policy, files, errors };
    }
    const blocked = new DomainSet();
    const allowed = new DomainSet();
    texts.forEach((text, i) => addList(i < sources.blocklists.length ? blocked : allowed, files[i]!, text));
    const policy: BlockPolicy = { lists: { blocked, allowed }, mode: sources.mode };
    last = { key, policy };
    log.info("Loaded blocklists: {blocked} domains blocked, {allowed} allowed", {
      blocked: blocked.size,
      allowed: allowed.size,
    });
    return { policy, files, errors };
  };
}
