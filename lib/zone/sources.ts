/**
 * Loading local data from its sources (zone files, hosts files, mappings.ts) and reloading it.
 * A reload parses everything first and then swaps one value; a source that fails keeps the data
 * it had, so one broken save never empties the server.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DataError, type ResourceRecord } from "../proto/mod.ts";
import { parseHosts } from "./hosts.ts";
import { buildLocalData, type LocalData } from "./local_data.ts";
import { mappingRecords, type Mappings } from "./static_map.ts";
import { buildZone, type Zone } from "./zone.ts";
import { parseZoneFile } from "./zone_parser.ts";

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

/** The last good result of each source, by key. */
type LastGood = Map<string, { readonly zone?: Zone; readonly records?: readonly ResourceRecord[] }>;

function errorOf(error: unknown): Error {
  if (error instanceof DataError) return error;
  if (error instanceof Error) return new DataError(error.message, { cause: error });
  return new DataError(String(error));
}

/**
 * Makes a loader. Each call of the returned function reads every source again; with `strict`
 * (the first load) the first failure is thrown, otherwise failures are returned in `errors` and
 * the failed sources keep what they had.
 */
export function dataLoader(config: DataSourcesConfig): (strict: boolean) => Promise<LoadedData> {
  const read = config.read ?? ((path: string) => Deno.readTextFile(path));
  const lastGood: LastGood = new Map();

  return async function load(strict) {
    const errors: Error[] = [];
    const files = new Set<string>();
    const tracked = (path: string) => {
      files.add(path);
      return read(path);
    };
    const attempt = async <T>(work: () => Promise<T> | T, keep: (value: T) => void) => {
      try {
        keep(await work());
      } catch (error) {
        if (strict) throw errorOf(error);
        errors.push(errorOf(error));
      }
    };
    const zones: Zone[] = [];
    for (const source of config.zones) {
      const key = `zone:${source.file}`;
      await attempt(async () => {
        const parsed = await parseZoneFile(source.file, {
          read: tracked,
          ...(source.origin !== undefined ? { origin: source.origin } : {}),
          onProgress: (count) =>
            log.info("Loading {file}: {count} records so far", { file: source.file, count }),
        });
        return buildZone(parsed, source.file, source.origin);
      }, (zone) => lastGood.set(key, { zone }));
      const zone = lastGood.get(key)?.zone;
      if (zone) zones.push(zone);
    }
    const hosts: ResourceRecord[] = [];
    for (const file of config.hosts) {
      const key = `hosts:${file}`;
      await attempt(async () => {
        const parsed = parseHosts(await tracked(file), file);
        for (const warning of parsed.warnings) log.warning("{warning}", { warning: warning.message });
        return parsed.records;
      }, (records) => lastGood.set(key, { records }));
      hosts.push(...(lastGood.get(key)?.records ?? []));
    }
    await attempt(async () => mappingRecords(await config.mappings()), (records) => {
      lastGood.set("mappings", { records });
    });
    const mappings = lastGood.get("mappings")?.records ?? [];
    const data = buildLocalData({ zones, hosts, mappings });
    return { data, files: [...files], errors };
  };
}
