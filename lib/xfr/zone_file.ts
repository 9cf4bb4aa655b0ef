/**
 * The copy of a secondary zone kept in `--secondary-dir`: one master file per zone (RFC 1035
 * section 5), written atomically (a temporary file in the same folder, then a rename), read back
 * at start so a restart serves the last copy at once, as NSD and Knot do.
 * @module
 */
import { DataError, formatRData, nameKey, typeCode, typeName } from "../proto/mod.ts";
import { buildZone, parseZoneFile, type Zone } from "../zone/mod.ts";
import { zoneRecords } from "./ixfr_apply.ts";

/**
 * The file name of a zone's copy: `example.com.zone`, `root.zone` for the root. Every character
 * but lower-case letters, digits, `.`, `-` and `_` is written `%HH` (its UTF-8 octets), which keeps
 * names apart and inside the folder (no `/`; no name is `.` or `..`). Only the root and a zone named
 * `root.` would share a file; a copy is read back only for the zone its SOA names.
 */
export function zoneFileName(zone: string): string {
  const key = nameKey(zone);
  if (key === "") return "root.zone";
  return `${key.replace(/[^a-z0-9._-]/g, escapeChar)}.zone`;
}

function escapeChar(char: string): string {
  let escaped = "";
  for (const octet of new TextEncoder().encode(char)) escaped += `%${octet.toString(16).padStart(2, "0")}`;
  return escaped;
}

/** A zone as master-file text: `$ORIGIN`, then one record per line with absolute names, the SOA first. */
export function formatZoneFile(zone: Zone): string {
  const lines = [
    `; ${
      zone.key || "."
    } serial ${zone.soa.data.serial}, transferred by dnsd: a secondary's copy, rewritten on each change`,
    `$ORIGIN ${zone.key}.`,
  ];
  for (const record of zoneRecords(zone)) {
    const owner = `${record.name}.`;
    lines.push(
      `${owner}\t${record.ttl}\tIN\t${typeName(typeCode(record.data))}\t${formatRData(record.data)}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Writes `zone`'s copy in `dir` atomically: readers see the old file or the new one, never a part.
 * @returns the file's path
 */
export async function writeZoneFile(dir: string, zone: Zone): Promise<string> {
  const path = `${dir}/${zoneFileName(zone.key)}`;
  const temporary = await Deno.makeTempFile({ dir, prefix: `.${zoneFileName(zone.key)}.`, suffix: ".tmp" });
  try {
    await Deno.writeTextFile(temporary, formatZoneFile(zone));
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  return path;
}

/**
 * Reads the copy of `zone` (a name key) from `dir`.
 * @returns the zone, or null when there is no copy
 * @throws {DataError} when the file is broken or holds another zone
 */
export async function readZoneFile(dir: string, zone: string): Promise<Zone | null> {
  const path = `${dir}/${zoneFileName(zone)}`;
  // Only the file itself: an `$INCLUDE` has no business in a copy dnsd wrote.
  const read = (file: string) =>
    file === path
      ? Deno.readTextFile(file)
      : Promise.reject(new DataError(`${path}: $INCLUDE in a secondary's copy`));
  let parsed;
  try {
    parsed = await parseZoneFile(path, { origin: zone, read });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  return buildZone(parsed, path, zone);
}
