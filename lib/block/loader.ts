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

/**
 * The length and two 32-bit hashes of `text` (FNV-1a and a multiplicative one): a file that
 * changed yet matches all three is about one in 2^64, and comparing them keeps no text.
 */
function fingerprint(text: string): string {
  let fnv = 0x811c9dc5;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    fnv = Math.imul(fnv ^ code, 0x01000193);
    other = (Math.imul(other, 31) + code) | 0;
  }
  return `${text.length}:${fnv >>> 0}:${other >>> 0}`;
}

/** How many lines `text` has: a bound on the names it lists, one a line, that costs no allocation. */
function lineCount(text: string): number {
  let count = 1;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

/** Parses `text` into `into`, logging its unreadable lines once. */
function addList(into: DomainSet, path: string, text: string): void {
  // Room for a name a line, and for every character (each name is a part of the text): a few
  // MiB more than needed at most, and no growing copies (a hosts line naming several names grows).
  into.reserve(lineCount(text), text.length);
  const parsed = parseList(text, (name) => into.add(name));
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
    // Fingerprints, not the texts: keeping a 30 MiB text only to compare it costs 30 MiB of RSS.
    const key = [sources.mode, ...files, ...texts.map(fingerprint)];
    if (last && same(last.key, key)) {
      return { policy: last.policy, files, errors };
    }
    const started = performance.now();
    const blocked = new DomainSet();
    const allowed = new DomainSet();
    texts.forEach((text, i) => addList(i < sources.blocklists.length ? blocked : allowed, files[i]!, text));
    const policy: BlockPolicy = { lists: { blocked, allowed }, mode: sources.mode };
    last = { key, policy };
    log.info("Loaded blocklists: {blocked} domains blocked, {allowed} allowed, in {ms} ms", {
      blocked: blocked.size,
      allowed: allowed.size,
      ms: Math.round(performance.now() - started),
    });
    return { policy, files, errors };
  };
}
