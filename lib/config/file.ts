/**
 * Reading a config file: TOML text to settings keyed by flag, each with the line it came from, or
 * a {@link UsageError} that names the file, the line and the key and says what is allowed. Pure:
 * the caller reads the file. smol-toml parses (a maintained TOML 1.0 parser that runs on Deno);
 * the schema of lib/config/schema.ts checks.
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { fileKey, OPTIONS } from "./options.ts";
import { allowedText, type AssertionSpec, configSchema } from "./schema.ts";
import { ConfigFileError } from "./errors.ts";

/** A setting's value from the file (as the schema checked it) and where it was written. */
export interface FileSetting {
  readonly value: string | number | boolean | readonly string[];
  readonly line: number;
}

/** An `[[assert]]` with the line of its table. */
export interface LocatedAssertion extends AssertionSpec {
  readonly line: number;
}

/** What a config file says. */
export interface ConfigFileSettings {
  /** The file's path, as given. */
  readonly path: string;
  /** Settings by flag name (`cache-size`), each with its line. */
  readonly settings: ReadonlyMap<string, FileSetting>;
  /** `[mappings]`, when the file has it: in place of mappings.ts. */
  readonly mappings: Readonly<Record<string, unknown>> | null;
  /** The `[[assert]]` tables, in order. */
  readonly assertions: readonly LocatedAssertion[];
}

/** Where each key is written: `key` for top-level keys, `table.key` inside `[table]`, `assert#N` for tables. */
function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let table = "";
  let asserts = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    const number = index + 1;
    if (line.startsWith("[[")) {
      table = line.replace(/^\[\[\s*|\s*\]\].*$/g, "");
      if (table === "assert") {
        lines.set(`assert#${asserts}`, number);
        table = `assert#${asserts++}`;
      }
      return;
    }
    if (line.startsWith("[")) {
      table = line.replace(/^\[\s*|\s*\].*$/g, "");
      if (!lines.has(table)) lines.set(table, number);
      return;
    }
    const key = /^("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=/.exec(line)?.[1]?.replace(/^["']|["']$/g, "");
    if (key === undefined) return;
    const path = table === "" ? key : `${table}.${key}`;
    if (!lines.has(path)) lines.set(path, number);
  });
  return lines;
}

/** The line a schema issue's path points at. */
function lineOf(lines: Map<string, number>, path: readonly PropertyKey[]): number {
  const [first, second, third] = path;
  if (first === "assert" && typeof second === "number") {
    return lines.get(`assert#${second}.${String(third)}`) ?? lines.get(`assert#${second}`) ?? 1;
  }
  if (second !== undefined) {
    return lines.get(`${String(first)}.${String(second)}`) ?? lines.get(String(first)) ?? 1;
  }
  return lines.get(String(first)) ?? 1;
}

/** Keys the file may have, for an unknown key's error. */
const KNOWN_KEYS = [...OPTIONS.filter((spec) => !spec.cliOnly).map(fileKey), "mappings", "assert"];

/** The known key closest to `key`, when one is close (a typo). */
function closest(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_KEYS) {
    const d = distance(key, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

/** What a key's value must be, for the message. */
function expected(path: readonly PropertyKey[]): string {
  const spec = OPTIONS.find((option) => !option.cliOnly && fileKey(option) === path[0]);
  if (spec) return allowedText(spec);
  if (path[0] === "mappings") return 'an address, a list of them, or a table { A = "...", ttl = 60 }';
  if (path[0] === "assert") {
    switch (path[2]) {
      case "expect":
        return 'a list of RDATA, or "NXDOMAIN", "NODATA", "BLOCKED", "REFUSED" or "FORWARDED"';
      case "name":
      case "type":
      case "upstream":
        return "a string";
      default:
        return "tables [[assert]] with name, type, expect and upstream";
    }
  }
  return "as docs/configuration.md describes";
}

/** What parses and checks a config file's text: {@link readConfigText}, loaded when needed. */
export type ConfigFileReader = (path: string, text: string) => ConfigFileSettings;

/**
 * Parses and checks a config file's text.
 * @param path the file's path, for messages
 * @throws {ConfigFileError} `PATH:LINE: KEY: what is wrong and what is allowed`, for the first problem
 */

export function readConfigText(path: string, text: string): ConfigFileSettings {
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const what = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new ConfigFileError(`${path}:${error.line}: ${what}`);
    }
    throw error;
  }
  const lines = keyLines(text);
  const checked = configSchema.safeParse(document);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      const at = lineOf(lines, [...issue.path, key]);
      const near = closest(key);
      throw new ConfigFileError(
        `${path}:${at}: ${[...issue.path, key].join(".")}: unknown key${
          near ? ` (did you mean ${near}?)` : ""
        }`,
      );
    }
    const shown = issue.path.map(String).join(".");
    throw new ConfigFileError(
      `${path}:${lineOf(lines, issue.path)}: ${shown}: must be ${expected(issue.path)}`,
    );
  }
  const file = checked.data;
  const settings = new Map<string, FileSetting>();
  for (const spec of OPTIONS) {
    if (spec.cliOnly) continue;
    const value = (file as Record<string, unknown>)[fileKey(spec)];
    if (value === undefined) continue;
    settings.set(spec.flag, {
      value: value as FileSetting["value"],
      line: lines.get(fileKey(spec)) ?? 1,
    });
  }
  return {
    path,
    settings,
    mappings: file.mappings ?? null,
    assertions: (file.assert ?? []).map((spec, i) => ({ ...spec, line: lines.get(`assert#${i}`) ?? 1 })),
  };
}
