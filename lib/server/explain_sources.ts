/**
 * Where a local record or a list entry was written, found by reading the files again: the explain
 * endpoint's file:line. The data in memory keeps no locations (a million list entries with one
 * each would cost more than the lists), and an explain is rare, so the files are read when asked.
 * A file that cannot be read now (moved since the load) gives no location, never an error.
 * @module
 */
import { formatRData, nameKey, type ResourceRecord, typeCode, typeName } from "../proto/mod.ts";
import { parseZoneFile, reverseName, type ZoneFileSource } from "../zone/mod.ts";
import { readListLine } from "../block/mod.ts";

/** The files a configuration's local data and lists come from, for {@link recordsAt} and {@link entryAt}. */
export interface ExplainFiles {
  /** `--zone` sources. */
  readonly zones: readonly ZoneFileSource[];
  /** `--hosts` files. */
  readonly hosts: readonly string[];
  /** The file mappings come from (mappings.ts, or the config file's `[mappings]`); null without. */
  readonly mappings: string | null;
  /** `--blocklist` files. */
  readonly blocklists: readonly string[];
  /** `--allowlist` files. */
  readonly allowlists: readonly string[];
}

/** A record and where it was written. */
export interface LocatedRecord {
  /** The owner name. */
  readonly name: string;
  /** The type's mnemonic. */
  readonly type: string;
  /** The TTL in seconds. */
  readonly ttl: number;
  /** The RDATA in presentation form. */
  readonly data: string;
  /** `FILE:LINE`, or null when the file no longer holds it. */
  readonly at: string | null;
}

/** Reads a text file; resolves to null when it cannot (explain never fails for a moved file). */
export type ReadText = (path: string) => Promise<string | null>;

/** The default {@link ReadText}: Deno's, with any error as null. */
export function readTextOrNull(path: string): Promise<string | null> {
  return Deno.readTextFile(path).catch(() => null);
}

/** At most this many records are reported for one name (a wildcard-free name rarely has more). */
const MAX_RECORDS = 50;

/** Whether a record answers a question for `key` of `type` (CNAME answers any type). */
function matches(record: ResourceRecord, key: string, type: number): boolean {
  if (nameKey(record.name) !== key) return false;
  const code = typeCode(record.data);
  return code === type || code === 5 || type === 255;
}

/** A record as explain shows it. */
function located(record: ResourceRecord, at: string | null): LocatedRecord {
  return {
    name: record.name,
    type: typeName(typeCode(record.data)),
    ttl: record.ttl,
    data: formatRData(record.data),
    at,
  };
}

/**
 * The zone-file records of `key` and `type`, each with its `FILE:LINE`, parsed again from the
 * zone files (their `$INCLUDE`s too).
 */
export async function zoneRecordsAt(
  zones: readonly ZoneFileSource[],
  key: string,
  type: number,
  read: ReadText,
): Promise<LocatedRecord[]> {
  const found: LocatedRecord[] = [];
  const strictRead = async (path: string) => {
    const text = await read(path);
    if (text === null) throw new Error(`cannot read ${path}`);
    return text;
  };
  for (const source of zones) {
    let parsed;
    try {
      parsed = await parseZoneFile(source.file, {
        read: strictRead,
        ...(source.origin !== undefined ? { origin: source.origin } : {}),
      });
    } catch {
      continue; // changed since the load into something that does not parse: no location
    }
    parsed.records.forEach((record, index) => {
      if (found.length >= MAX_RECORDS || !matches(record, key, type)) return;
      const where = parsed.locations[index];
      found.push(located(record, where ? `${where.file}:${where.line}` : null));
    });
  }
  return found;
}

/** The whitespace-separated fields of a hosts line before any `#`. */
function hostsFields(line: string): string[] {
  const hash = line.indexOf("#");
  return (hash < 0 ? line : line.slice(0, hash)).split(/[ \t\r\f\v]+/).filter((field) => field !== "");
}

/** The first line of `files` that `matches`, as `FILE:LINE`; null when none does (or none can be read). */
async function firstLine(
  files: readonly string[],
  read: ReadText,
  matches: (line: string) => boolean,
): Promise<string | null> {
  for (const file of files) {
    const text = await read(file);
    if (text === null) continue;
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) if (matches(lines[i]!)) return `${file}:${i + 1}`;
  }
  return null;
}

/**
 * The first hosts-file line that names `key` (or, for a reverse name, holds its address), as
 * `FILE:LINE`; null when none does.
 */
export function hostsLineOf(files: readonly string[], key: string, read: ReadText): Promise<string | null> {
  return firstLine(files, read, (line) => {
    const [address, ...names] = hostsFields(line);
    if (address === undefined) return false;
    if (names.some((name) => nameKey(name) === key)) return true;
    try {
      return key.endsWith(".arpa") && nameKey(reverseName(address)) === key;
    } catch {
      return false; // Not an address: the loader skipped this line too.
    }
  });
}

/**
 * The first line of the mappings file that names `key` as a key (quoted or bare), as `FILE:LINE`;
 * null when none does. A mapping's name is a table key in mappings.ts and in a config file alike.
 */
export function mappingLineOf(file: string | null, key: string, read: ReadText): Promise<string | null> {
  if (file === null) return Promise.resolve(null);
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`(^|[\\s{,])["']?${escaped}\\.?["']?\\s*[:=]`, "i");
  return firstLine([file], read, (line) => pattern.test(line));
}

/**
 * The first line of the list files that lists `entry` (a folded domain), as `FILE:LINE`; null when
 * none does. Each line is read as the loader reads it.
 */
export function listLineOf(files: readonly string[], entry: string, read: ReadText): Promise<string | null> {
  return firstLine(files, read, (text) => {
    const line = readListLine(text);
    return line.kind === "names" && line.names.includes(entry);
  });
}

/** The records of `type` at `key` in flat local data (hosts, mappings), each located at `at`. */
export function flatRecords(
  records: readonly ResourceRecord[],
  key: string,
  type: number,
  at: string | null,
): LocatedRecord[] {
  return records.filter((record) => matches(record, key, type)).slice(0, MAX_RECORDS).map((record) =>
    located(record, at)
  );
}
