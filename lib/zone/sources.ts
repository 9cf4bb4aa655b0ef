/**
 * Loading local data from its sources (zone files, hosts files, mappings.ts) and reloading it.
 * A reload parses everything first and then swaps one value; a source that fails keeps the data
 * it had, so one broken save never empties the server. A zone whose text changed while its SOA
 * serial did not is kept as it was on the file watcher's reloads: an edit still in progress, or a
 * file cut short, rarely changes the serial, and an operator who means it bumps the serial or
 * sends SIGHUP (CoreDNS's file plugin, NSD and Knot also go by the serial).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DataError, type ResourceRecord, serialNewer, type TextLocation } from "../proto/mod.ts";
import { digestOf } from "./digest.ts";
import { parseHosts } from "./hosts.ts";
import { buildLocalData, type LocalData } from "./local_data.ts";
import { mappingRecords, type Mappings } from "./static_map.ts";
import { buildZone, type Zone } from "./zone.ts";
import { parseZoneFile } from "./zone_parser.ts";
import { NotInOrder, ZoneStream } from "./zone_stream.ts";

const log = getLogger(["dnsd", "data"]);

/** A zone file to serve, with the origin given on the command line (`--zone ORIGIN=FILE`), if any. */
export interface ZoneFileSource {
  /** The path of the zone file. */
  readonly file: string;
  /** The origin before any `$ORIGIN`; the SOA's owner must be this name when it is given. */
  readonly origin?: string;
}

/** Where local data comes from. */
export interface DataSourcesConfig {
  /** Zone files, highest precedence. */
  readonly zones: readonly ZoneFileSource[];
  /** Hosts files. */
  readonly hosts: readonly string[];
  /** Reads mappings.ts (again, on reload when running from source). */
  readonly mappings: () => Promise<Mappings> | Mappings;
  /** Reads a text file; defaults to `Deno.readTextFile`. */
  readonly read?: (path: string) => Promise<string>;
  /** Pack zones in shared memory, for workers to read (`--workers`); default no. */
  readonly sharedMemory?: boolean;
}

/** Local data plus the files it was read from (to watch for changes). */
export interface LoadedData {
  /** The combined data. */
  readonly data: LocalData;
  /** Every file read, `$INCLUDE`s included. */
  readonly files: readonly string[];
  /** What failed in this load; the failed sources kept their previous data. */
  readonly errors: readonly Error[];
}

/** How one reload treats the zones. */
export interface ReloadOptions {
  /**
   * Keep a zone whose files changed while its SOA serial did not (the file watcher's reloads),
   * logging why once per such text. Off, every zone that parses is loaded (SIGHUP, the default).
   */
  readonly requireNewSerial?: boolean;
}

/** The last good result of each source, by key; for a zone, a digest of its text and what was held back. */
type LastGood = Map<string, {
  readonly zone?: Zone;
  readonly records?: readonly ResourceRecord[];
  /** A digest of the zone's files (its own and its `$INCLUDE`s), as loaded. */
  readonly digest?: string;
  /** The digest of the last text not loaded for want of a new serial (so that is logged once). */
  readonly heldBack?: string;
}>;

/** A parsed zone with the digest of its text and where its SOA was written. */
interface ReadZone {
  readonly zone: Zone;
  readonly digest: string;
  readonly soaAt: TextLocation;
}

function errorOf(error: unknown): Error {
  if (error instanceof DataError) return error;
  if (error instanceof Error) return new DataError(error.message, { cause: error });
  return new DataError(String(error));
}

/** The errors of a file that cannot be read: absent, a directory, or not readable by dnsd's user. */
function isFileError(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory ||
    error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotADirectory;
}

/**
 * A file that cannot be read, said under the flag that names it: `--zone a.zone: not found`,
 * `--zone a.zone: b.inc: not found` for a file it includes, `--zone z: cannot read it: Is a
 * directory (os error 21)`; null for any other error.
 */
function unreadableFile(error: unknown, flag: string): DataError | null {
  const cause: unknown = error instanceof Error && !isFileError(error) ? error.cause : error;
  if (flag === "" || !(cause instanceof Error) || !isFileError(cause)) return null;
  const file = flag.slice(flag.indexOf(" ") + 1);
  const path = /'([^']*)'\s*$/.exec(cause.message)?.[1];
  const which = path === undefined || path === file ? "" : `${path}: `;
  if (cause instanceof Deno.errors.NotFound) {
    return new DataError(`${flag}: ${which}not found (no such file)`, { cause });
  }
  // Deno's message ends with the call and the path ("...: readfile '/etc/z'"): said once already.
  const reason = cause.message.split("\n")[0]!.replace(/: \w+ '[^']*'\s*$/, "");
  return new DataError(`${flag}: ${which}cannot read it: ${reason}`, { cause });
}

/**
 * Makes a loader. Each call of the returned function reads every source again; with `strict`
 * (the first load) the first failure is thrown, otherwise failures are returned in `errors` and
 * the failed sources keep what they had. With `requireNewSerial`, a zone whose text changed but
 * whose SOA serial did not keeps what it had too, and one WARNING says so.
 */
export function dataLoader(
  config: DataSourcesConfig,
): (strict: boolean, options?: ReloadOptions) => Promise<LoadedData> {
  const read = config.read ?? ((path: string) => Deno.readTextFile(path));
  const lastGood: LastGood = new Map();

  /** Whether `fresh` is a changed text under the serial already served: then it is held back. */
  function holdBack(key: string, fresh: ReadZone): boolean {
    const before = lastGood.get(key);
    if (!before?.zone || before.digest === fresh.digest) return false;
    if (before.zone.key !== fresh.zone.key) return false; // another zone altogether
    const serial = fresh.zone.soa.data.serial;
    if (before.zone.soa.data.serial !== serial) return false;
    if (before.heldBack !== fresh.digest) {
      const { file, line } = fresh.soaAt;
      log.warning(
        "{file}:{line}: zone {zone} changed but its serial {serial} did not: not loaded " +
          "(send SIGHUP to load it anyway)",
        { file, line, zone: fresh.zone.apex.endsWith(".") ? fresh.zone.apex : `${fresh.zone.apex}.`, serial },
      );
      lastGood.set(key, { ...before, heldBack: fresh.digest });
    }
    return true;
  }

  /**
   * Says so when `fresh` goes back on the serial served before (RFC 1982): it is loaded all the
   * same (NSD does too), but a secondary holding the higher serial will never take it.
   */
  function warnSerialBack(key: string, fresh: ReadZone): void {
    const before = lastGood.get(key)?.zone;
    if (!before || before.key !== fresh.zone.key) return;
    const [was, now] = [before.soa.data.serial, fresh.zone.soa.data.serial];
    if (!serialNewer(was, now)) return;
    const { file, line } = fresh.soaAt;
    log.warning(
      "{file}:{line}: zone {zone} serial went back from {was} to {now}: its secondaries keep what they " +
        "have until the serial passes {was}",
      { file, line, zone: fresh.zone.apex.endsWith(".") ? fresh.zone.apex : `${fresh.zone.apex}.`, was, now },
    );
  }

  return async function load(strict, options = {}) {
    const errors: Error[] = [];
    const files = new Set<string>();
    const tracked = (path: string) => {
      files.add(path);
      return read(path);
    };
    const attempt = async <T>(work: () => Promise<T> | T, keep: (value: T) => void, flag = "") => {
      try {
        keep(await work());
      } catch (error) {
        const failure = unreadableFile(error, flag) ?? errorOf(error);
        if (strict) throw failure;
        errors.push(failure);
      }
    };
    const zones: Zone[] = [];
    for (const source of config.zones) {
      const key = `zone:${source.file}`;
      await attempt(async (): Promise<ReadZone> => {
        // Each file's path and digest, in the order read: hashed while the parser reads on.
        const digests: Promise<string>[] = [];
        const options = {
          read: async (path: string) => {
            const text = await tracked(path);
            digests.push(digestOf(text).then((digest) => `${path} ${digest}`));
            return text;
          },
          ...(source.origin !== undefined ? { origin: source.origin } : {}),
          onProgress: (count: number) =>
            log.info("Loading {file}: {count} records so far", { file: source.file, count }),
        };
        let zone: Zone;
        let soaAt: TextLocation;
        try {
          // Built as it is read, each name packed as its records end (zone_stream.ts)...
          const stream = new ZoneStream(source.origin, config.sharedMemory ?? false);
          await parseZoneFile(source.file, { ...options, ...stream.parserSink });
          ({ zone, soaAt } = stream.finish());
        } catch (error) {
          if (!(error instanceof NotInOrder)) throw error;
          // ...or, for a file in another order or signed, from all its records at once.
          log.debug("Reading {file} again to build it from all its records", { file: source.file });
          digests.length = 0;
          const parsed = await parseZoneFile(source.file, options);
          zone = buildZone(parsed, source.file, source.origin, config.sharedMemory ?? false);
          soaAt = parsed.locations[parsed.records.indexOf(zone.soa)] ??
            { file: source.file, line: 1, column: 1 };
        }
        return { zone, digest: (await Promise.all(digests)).join("\n"), soaAt };
      }, (fresh) => {
        if (options.requireNewSerial && holdBack(key, fresh)) return;
        warnSerialBack(key, fresh);
        lastGood.set(key, { zone: fresh.zone, digest: fresh.digest });
      }, `--zone ${source.file}`);
      const zone = lastGood.get(key)?.zone;
      if (zone) zones.push(zone);
    }
    const hosts: ResourceRecord[] = [];
    for (const file of config.hosts) {
      const key = `hosts:${file}`;
      await attempt(
        async () => {
          const parsed = parseHosts(await tracked(file), file);
          for (const warning of parsed.warnings) log.warning("{warning}", { warning: warning.message });
          return parsed.records;
        },
        (records) => lastGood.set(key, { records }),
        `--hosts ${file}`,
      );
      // One at a time: spreading a long array into push() passes each record as an argument, and
      // about 130,000 of them overflow the call stack (RangeError) on a blocklist-sized hosts file.
      for (const record of lastGood.get(key)?.records ?? []) hosts.push(record);
    }
    await attempt(async () => mappingRecords(await config.mappings()), (records) => {
      lastGood.set("mappings", { records });
    });
    const mappings = lastGood.get("mappings")?.records ?? [];
    const data = buildLocalData({ zones, hosts, mappings });
    return { data, files: [...files], errors };
  };
}
