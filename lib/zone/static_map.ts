/**
 * Turns the `mappings.ts` table into validated records. A value is an address, a list of
 * addresses, or a record set keyed by type mnemonic; every entry is checked once, at startup.
 * @module
 */
import {
  checkName,
  DataError,
  EncodeError,
  formatIPv4,
  formatIPv6,
  formatRData,
  nameKey,
  ParseError,
  parseIPv4,
  parseIPv6,
  parseRData,
  type RData,
  RDataText,
  type ResourceRecord,
  RRClass,
  RRType,
  typeFromText,
  withoutRootDot,
  zoneEntries,
} from "../proto/mod.ts";

/** One value or several of one type in a {@link RecordSet}. */
export type OneOrMore = string | readonly string[];

/**
 * Records of one name keyed by type mnemonic (any TYPE `typeFromText` knows, or `TYPE65534`).
 * A and AAAA take addresses, TXT takes literal UTF-8 text (one record per string), and every
 * other type takes its RDATA in zone-file text with names absolute (`MX: "10 mail.example.com"`).
 */
export type RecordSet = {
  readonly A?: OneOrMore;
  readonly AAAA?: OneOrMore;
  /** A name with a CNAME has no other data (RFC 1034 section 3.6.2). */
  readonly CNAME?: string;
  readonly MX?: OneOrMore;
  readonly TXT?: OneOrMore;
  /** Seconds the records may be cached, overriding the table's TTL (RFC 2181 section 8). */
  readonly ttl?: number;
  readonly [type: string]: OneOrMore | number | undefined;
};

/** What one name maps to: an IPv4 or IPv6 address, a list of them, or a {@link RecordSet}. */
export type MappingValue = string | readonly string[] | RecordSet;

/** The shape of `mappings.ts`: each name and what it answers with. */
export type Mappings = Readonly<Record<string, MappingValue>>;

/** The TTL of records from `mappings.ts`. */
export const MAPPING_TTL = 300;

const MAX_TTL = 0x7fffffff; // RFC 2181 section 8

// Types that only occur in questions or as pseudo-records (RFC 6895 section 3.1): OPT and 128-255.
function isDataType(code: number): boolean {
  return code !== 0 && code !== RRType.OPT && (code < 128 || code > 255);
}

/** The records a plain address stands for; null when it is neither IPv4 nor IPv6. */
function addressData(address: string): RData | null {
  const v4 = parseIPv4(address);
  if (v4) return { type: "A", address: formatIPv4(v4) };
  const v6 = parseIPv6(address);
  return v6 ? { type: "AAAA", address: formatIPv6(v6) } : null;
}

/** Splits UTF-8 text into character-strings of at most 255 octets, never inside a character. */
function characterStrings(text: string): Uint8Array[] {
  const octets = new TextEncoder().encode(text);
  const strings: Uint8Array[] = [];
  let start = 0;
  do {
    let end = Math.min(start + 255, octets.length);
    while (end < octets.length && (octets[end]! & 0xc0) === 0x80) end--; // a continuation octet
    strings.push(octets.slice(start, end));
    start = end;
  } while (start < octets.length);
  return strings;
}

/** Parses one value of a record set as zone-file RDATA text; returns the reason it fails as a string. */
function presentationData(code: number, text: string): RData | string {
  const file = "mappings";
  try {
    const entries = [...zoneEntries(text, file)];
    if (entries.length > 1) return "one record per string";
    const tokens = entries[0]?.tokens ?? [];
    const end = { file, line: 1, column: text.length + 1 };
    return parseRData(code, new RDataText(tokens, 0, { origin: "", file, end }));
  } catch (error) {
    if (error instanceof ParseError) return error.reason;
    throw error;
  }
}

/**
 * The RDATA of one value of a record set entry `type`, as mappings.ts and a config file's
 * `[mappings]` and `[[assert]]` write it: an address for A and AAAA, literal text for TXT, zone-file
 * RDATA (absolute names) for the rest. A string says why it is not one.
 */
export function typedData(code: number, value: string): RData | string {
  if (code === RRType.A || code === RRType.AAAA) {
    const data = addressData(value);
    const [type, family] = code === RRType.A ? ["A", "IPv4"] : ["AAAA", "IPv6"];
    return data?.type === type ? data : `not an ${family} address`;
  }
  if (code === RRType.TXT) return { type: "TXT", strings: characterStrings(value) };
  return presentationData(code, value);
}

/** Throws the reason an entry is bad; {@link mappingRecords} adds the entry's name. */
function fail(reason: string): never {
  throw new DataError(reason);
}

function isTtl(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TTL;
}

function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** The data of one record set. */
function recordSetData(set: RecordSet): RData[] {
  const all: RData[] = [];
  let cname = false;
  for (const [key, value] of Object.entries(set)) {
    if (key === "ttl" || value === undefined) continue;
    const code = typeFromText(key);
    if (code === null || !isDataType(code)) fail(`unknown record type "${key}"`);
    const values = typeof value === "string" ? [value] : value;
    if (!isStringList(values)) fail(`${key} must be a string or a list of strings`);
    if (values.length === 0) fail(`${key} is an empty list`);
    if (code === RRType.CNAME) {
      if (values.length > 1) fail("a name has at most one CNAME (RFC 2181 section 10.1)");
      cname = true;
    }
    const seen = new Set<string>();
    for (const text of values) {
      const data = typedData(code, text);
      if (typeof data === "string") fail(`${key} ${JSON.stringify(text)}: ${data}`);
      const shown = formatRData(data);
      if (seen.has(shown)) fail(`${key} ${JSON.stringify(text)} is listed twice`);
      seen.add(shown);
      all.push(data);
    }
  }
  if (all.length === 0) fail("the record set has no records");
  if (cname && all.length > 1) fail("CNAME cannot coexist with other data (RFC 1034 section 3.6.2)");
  return all;
}

/** The data and TTL of one entry. */
function entryData(value: unknown, tableTtl: number): { data: RData[]; ttl: number } {
  const values = typeof value === "string" ? [value] : value;
  if (Array.isArray(values)) {
    if (values.length === 0) fail("the address list is empty");
    const data = values.map((address: unknown) => {
      const found = typeof address === "string" ? addressData(address) : null;
      if (!found) fail(`${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
      return found;
    });
    const shown = data.map(formatRData);
    const twice = shown.find((text, i) => shown.indexOf(text) !== i);
    if (twice !== undefined) fail(`"${twice}" is listed twice`);
    return { data, ttl: tableTtl };
  }
  if (typeof value !== "object" || value === null) {
    fail("expected an address, a list of addresses or a record set");
  }
  const set = value as RecordSet;
  if (set.ttl !== undefined && !isTtl(set.ttl)) {
    fail(`ttl ${JSON.stringify(set.ttl)} is not a whole number from 0 to ${MAX_TTL} (RFC 2181 section 8)`);
  }
  return { data: recordSetData(set), ttl: set.ttl ?? tableTtl };
}

/**
 * Validates the table and returns its records (class IN, names without their root dot).
 * @param table name -> address, list of addresses, or record set
 * @param ttl the TTL of entries without their own `ttl`
 * @throws {DataError} naming the first bad entry, e.g.
 *   `Cannot load mapping "nas": "999.1.1.1" is not an IPv4 or IPv6 address`
 * @example
 * ```ts
 * mappingRecords({ "nas.lan": "192.168.1.5", "lan": { MX: ["10 mail.lan"], ttl: 60 } });
 * ```
 */
export function mappingRecords(table: Mappings, ttl: number = MAPPING_TTL): ResourceRecord[] {
  if (!isTtl(ttl)) {
    throw new DataError(`Cannot load mappings: TTL ${ttl} is not a whole number from 0 to ${MAX_TTL}`);
  }
  const records: ResourceRecord[] = [];
  const names = new Map<string, string>();
  for (const [key, value] of Object.entries(table)) {
    try {
      try {
        checkName(key);
      } catch (error) {
        // Drop the encoder's "Cannot encode message" prefix: this is a name, not a message.
        if (error instanceof EncodeError) fail(error.message.replace(/^Cannot encode message: /, ""));
        throw error;
      }
      const name = withoutRootDot(key);
      const earlier = names.get(nameKey(name));
      if (earlier !== undefined) fail(`the same name as mapping "${earlier}"`);
      names.set(nameKey(name), key);
      const entry = entryData(value, ttl);
      for (const data of entry.data) records.push({ name, class: RRClass.IN, ttl: entry.ttl, data });
    } catch (error) {
      if (error instanceof DataError) throw new DataError(`Cannot load mapping "${key}": ${error.message}`);
      throw error;
    }
  }
  return records;
}
