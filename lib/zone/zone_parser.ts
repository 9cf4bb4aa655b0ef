/**
 * Reads RFC 1035 master files (section 5): `$ORIGIN`, `$TTL` (RFC 2308 section 4), `$INCLUDE`,
 * `@`, relative and absolute names, omitted owner, TTL and class, parentheses, comments, quoted
 * strings with escapes, and RFC 3597 `\#` RDATA. Pure but for the injected `read`.
 * @module
 */
import {
  absoluteName,
  type AddressLine,
  addressLine,
  checkName,
  EncodeError,
  parseDuration,
  ParseError,
  parseRData,
  plainNameOk,
  RDataText,
  readAddressLine,
  type ResourceRecord,
  RRClass,
  RRType,
  type TextLocation,
  type Token,
  typeFromText,
  withoutRootDot,
  zoneEntries,
} from "../proto/mod.ts";

/** How to read a zone file. */
export interface ZoneParseOptions {
  /** The origin before any `$ORIGIN` (from `--zone ORIGIN=FILE`); relative names need one. */
  readonly origin?: string;
  /** Reads a file's text (the file itself and its `$INCLUDE`s). */
  readonly read: (path: string) => Promise<string>;
  /** Called every {@link PROGRESS_EVERY} records, for a progress line on large files. */
  readonly onProgress?: (records: number) => void;
  /**
   * Takes each record as it is read, with where it starts, instead of the result keeping them all
   * (its `records` and `locations` are then empty): a million records need not all be alive at once.
   */
  readonly onRecord?: (record: ResourceRecord, at: TextLocation) => void;
  /**
   * Takes, instead of `onRecord`, each A or AAAA record written in the short form of
   * address_line.ts (`host 3600 IN A 192.0.2.1`), with no record object made: its absolute owner
   * `name`, its TTL as the zone's rules give it, the fields read (the same object each time: copy
   * what is kept), and where its line is (column 1). Without it, every record goes to `onRecord`.
   */
  readonly onAddress?: (name: string, ttl: number, address: AddressLine, file: string, line: number) => void;
}

/** How often `onProgress` is called, in records. */
export const PROGRESS_EVERY = 100_000;

/** How deep `$INCLUDE`s may nest before dnsd calls it a loop. */
const MAX_INCLUDE_DEPTH = 16;

/** What one file contributes, and the state RFC 1035 carries from entry to entry. */
interface State {
  origin: string | undefined;
  defaultTtl: number | undefined; // $TTL
  lastTtl: number | undefined; // the last TTL written on a record
  lastOwner: string | undefined;
  soaMinimum: number | undefined;
  readonly records: ResourceRecord[];
  readonly lines: TextLocation[];
  /** Records read so far (also those handed to `onRecord`). */
  count: number;
  readonly onRecord: ((record: ResourceRecord, at: TextLocation) => void) | undefined;
}

/** The records of a zone file, each with where it was written (for errors found later). */
export interface ParsedRecords {
  /** The records in file order. */
  readonly records: readonly ResourceRecord[];
  /** Where each record starts, index for index. */
  readonly locations: readonly TextLocation[];
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

function resolvePath(path: string, from: string): string {
  const joined = path.startsWith("/") ? path : `${dirname(from)}/${path}`;
  // One spelling per file ("b.zone", not "./b.zone"), so the loop check and messages see the names as written.
  return joined.split("/").filter((part) => part !== ".").join("/");
}

function locate(file: string, token: Token): TextLocation {
  return { file, line: token.line, column: token.column };
}

/** Reads a name field: `@`, absolute, or relative to the current origin. */
function nameField(token: Token, state: State, file: string, what: string): string {
  if (state.origin === undefined && token.text !== "@" && !token.text.endsWith(".")) {
    throw new ParseError(
      locate(file, token),
      `relative ${what} "${token.text}" with no origin: add $ORIGIN or use --zone ORIGIN=FILE`,
    );
  }
  if (state.origin === undefined && token.text === "@") {
    throw new ParseError(locate(file, token), `"@" with no origin: add $ORIGIN or use --zone ORIGIN=FILE`);
  }
  const name = absoluteName(token.text, state.origin ?? "");
  try {
    checkName(name);
  } catch (error) {
    if (error instanceof EncodeError) {
      throw new ParseError(locate(file, token), `bad ${what}: ${error.message}`);
    }
    throw error;
  }
  return name;
}

function isClass(text: string): boolean {
  // Asked of a field or two of every record: the common answers without a regular expression.
  if (text.length === 2) {
    const upper = text.toUpperCase();
    return upper === "IN" || upper === "CH" || upper === "CS" || upper === "HS";
  }
  return text.length > 5 && /^CLASS[0-9]+$/i.test(text);
}

function classCode(token: Token, file: string): number {
  const upper = token.text.toUpperCase();
  if (upper === "IN" || upper === "CLASS1") return RRClass.IN;
  throw new ParseError(locate(file, token), `class ${token.text} is not supported: dnsd serves class IN`);
}

const META_TYPES = new Set<number>([RRType.OPT, RRType.ANY, 251, 252, 253, 254, 249, 250]);

/** One resource record entry (section 5.1: `[owner] [TTL] [class] type RDATA`, TTL and class in either order). */
function recordEntry(tokens: readonly Token[], ownerOmitted: boolean, state: State, file: string): void {
  let index = 0;
  let owner: string;
  if (ownerOmitted) {
    if (state.lastOwner === undefined) {
      throw new ParseError(
        locate(file, tokens[0]!),
        "a record with no owner name before it (the line starts with a blank)",
      );
    }
    owner = state.lastOwner;
  } else {
    owner = nameField(tokens[0]!, state, file, "owner name");
    index = 1;
  }
  let ttl: number | undefined;
  let classGiven = false;
  for (let field = 0; field < 2 && index < tokens.length - 1; field++) {
    const token = tokens[index]!;
    if (token.quoted) break;
    if (isClass(token.text)) {
      // One class field (RFC 1035 section 5.1), as BIND and NSD read it: "IN IN A" is a typo.
      if (classGiven) throw new ParseError(locate(file, token), `a second class, ${token.text}`);
      classCode(token, file);
      classGiven = true;
      index++;
      continue;
    }
    const duration = ttl === undefined ? parseDuration(token.text) : null;
    if (duration === null) break;
    ttl = duration;
    if (ttl > 0x7fffffff) {
      throw new ParseError(
        locate(file, token),
        `TTL ${token.text} is over 2147483647 (RFC 2181 section 8)`,
      );
    }
    index++;
  }
  const typeToken = tokens[index];
  if (!typeToken) {
    const last = tokens[tokens.length - 1]!;
    throw new ParseError(locate(file, last), "missing record type");
  }
  const code = typeFromText(typeToken.text);
  if (code === null && /^[0-9]+$/.test(typeToken.text)) {
    throw new ParseError(
      locate(file, typeToken),
      `TTL ${typeToken.text} is over 2147483647 (RFC 2181 section 8)`,
    );
  }
  if (code === null || typeToken.quoted) {
    throw new ParseError(locate(file, typeToken), `unknown record type "${typeToken.text}"`);
  }
  if (META_TYPES.has(code)) {
    throw new ParseError(
      locate(file, typeToken),
      `${typeToken.text} is not a type of record that can be stored`,
    );
  }
  const last = tokens[tokens.length - 1]!;
  const end = { file, line: last.line, column: last.column + last.text.length + (last.quoted ? 2 : 0) };
  const text = new RDataText(tokens, index + 1, { origin: state.origin, file, end });
  if (index + 1 >= tokens.length) text.fail(`missing RDATA for ${typeToken.text}`);
  const data = parseRData(code, text);
  if (data.type === "SOA") state.soaMinimum ??= data.minimum;
  if (ttl !== undefined) state.lastTtl = ttl;
  // RFC 2308 section 4: $TTL; before it, RFC 1035's "last stated TTL"; BIND's fallback: the SOA minimum.
  const effectiveTtl = ttl ?? state.defaultTtl ?? state.lastTtl ?? state.soaMinimum;
  if (effectiveTtl === undefined) {
    throw new ParseError(locate(file, tokens[0]!), "no TTL for this record: add a $TTL line or write a TTL");
  }
  state.lastOwner = owner;
  const record: ResourceRecord = { name: owner, class: RRClass.IN, ttl: effectiveTtl, data };
  state.count++;
  if (state.onRecord) return state.onRecord(record, locate(file, tokens[0]!));
  state.records.push(record);
  state.lines.push(locate(file, tokens[0]!));
}

async function parseFile(
  path: string,
  state: State,
  options: ZoneParseOptions,
  includes: readonly string[],
): Promise<void> {
  const text = await options.read(path);
  const shortLine = options.onAddress
    ? addressReader(text, path, state, options, options.onAddress)
    : undefined;
  for (const entry of zoneEntries(text, path, shortLine)) {
    const first = entry.tokens[0]!;
    if (entry.ownerOmitted || first.quoted || !first.text.startsWith("$")) {
      recordEntry(entry.tokens, entry.ownerOmitted, state, path);
      if (options.onProgress && state.count % PROGRESS_EVERY === 0) {
        options.onProgress(state.count);
      }
      continue;
    }
    const argument = entry.tokens[1];
    const directive = first.text.toUpperCase();
    if (directive === "$ORIGIN" || directive === "$TTL") {
      if (!argument) throw new ParseError(locate(path, first), `${first.text} needs a value`);
      if (entry.tokens.length > 2) {
        throw new ParseError(
          locate(path, entry.tokens[2]!),
          `unexpected "${entry.tokens[2]!.text}" after ${first.text}`,
        );
      }
      if (directive === "$ORIGIN") {
        state.origin = nameField(argument, state, path, "origin");
      } else {
        const ttl = parseDuration(argument.text);
        if (ttl === null || ttl > 0x7fffffff) {
          throw new ParseError(
            locate(path, argument),
            `bad $TTL "${argument.text}": expected seconds or units like 1h`,
          );
        }
        state.defaultTtl = ttl;
      }
      continue;
    }
    if (directive === "$INCLUDE") {
      if (!argument) throw new ParseError(locate(path, first), "$INCLUDE needs a file name");
      const included = resolvePath(argument.text, path);
      if (includes.includes(included) || includes.length >= MAX_INCLUDE_DEPTH) {
        throw new ParseError(
          locate(path, argument),
          `$INCLUDE loop: ${[...includes, included].join(" -> ")}`,
        );
      }
      // RFC 1035 section 5.1: the origin given to $INCLUDE, and any $ORIGIN inside, end with the file.
      const savedOrigin = state.origin;
      const savedOwner = state.lastOwner;
      if (entry.tokens[2]) state.origin = nameField(entry.tokens[2], state, path, "origin");
      state.lastOwner = undefined;
      try {
        await parseFile(included, state, options, [...includes, included]);
      } catch (error) {
        if (error instanceof ParseError) throw error;
        throw new ParseError(
          locate(path, argument),
          `cannot read $INCLUDE file ${included}: ${message(error)}`,
        );
      }
      state.origin = savedOrigin;
      state.lastOwner = savedOwner;
      continue;
    }
    throw new ParseError(locate(path, first), `unknown directive ${first.text}`);
  }
}

/**
 * What {@link recordEntry} does, for a line in the short form of an A or AAAA record, handing it
 * to `onAddress`: a reader for zoneEntries' `shortLine`. A line it would find fault with, or read
 * otherwise, is left to the lexer and recordEntry (-1), so both ways give one result.
 */
function addressReader(
  text: string,
  file: string,
  state: State,
  options: ZoneParseOptions,
  onAddress: NonNullable<ZoneParseOptions["onAddress"]>,
): (pos: number, line: number) => number {
  const found = addressLine();
  const owners = new ShortOwners();
  return (pos, line) => {
    const next = readAddressLine(text, pos, found);
    if (next < 0) return -1;
    const name = owners.absolute(found.owner, state.origin);
    const ttl = found.ttl >= 0 ? found.ttl : state.defaultTtl ?? state.lastTtl ?? state.soaMinimum;
    if (name === null || ttl === undefined) return -1;
    if (found.ttl >= 0) state.lastTtl = found.ttl;
    state.lastOwner = name;
    state.count++;
    onAddress(name, ttl, found, file, line);
    if (options.onProgress && state.count % PROGRESS_EVERY === 0) options.onProgress(state.count);
    return next;
  };
}

/**
 * The absolute names of owners read by readAddressLine, as nameField makes them; null for one
 * nameField would refuse or read by its careful path (no origin for it, the root, a bad label).
 */
class ShortOwners {
  #origin: string | undefined = undefined;
  /** Whether `#origin` is a name of plain labels (most are): then only an owner's own labels need checking. */
  #plainOrigin = false;

  absolute(owner: string, origin: string | undefined): string | null {
    if (owner.endsWith(".")) {
      const name = owner.slice(0, -1);
      return plainNameOk(name) ? name : null;
    }
    if (origin === undefined) return null;
    if (origin !== this.#origin) {
      this.#origin = origin;
      this.#plainOrigin = plainNameOk(origin);
    }
    if (!this.#plainOrigin) return null;
    if (owner === "@") return origin;
    // The whole name's length, as plainNameOk counts it: the origin's labels are checked above.
    if (!plainNameOk(owner) || owner.length + origin.length + 3 > MAX_NAME_OCTETS) return null;
    return `${owner}.${origin}`;
  }
}

/** RFC 1035 section 3.1: a name's wire form, its length octets and the root's included. */
const MAX_NAME_OCTETS = 255;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Parses a zone file and its `$INCLUDE`s into records (not yet checked as a zone: see
 * `buildZone`).
 * @throws {ParseError} with `file:line:column` for the first problem
 */
export async function parseZoneFile(file: string, options: ZoneParseOptions): Promise<ParsedRecords> {
  const state: State = {
    // Names carry no root dot (types.ts): `--zone example.org.=FILE` means the origin example.org.
    origin: options.origin === undefined ? undefined : withoutRootDot(options.origin),
    defaultTtl: undefined,
    lastTtl: undefined,
    lastOwner: undefined,
    soaMinimum: undefined,
    records: [],
    lines: [],
    count: 0,
    onRecord: options.onRecord,
  };
  await parseFile(file, state, options, [resolvePath(file, "")]);
  return { records: state.records, locations: state.lines };
}
