/**
 * Reads hosts(5) files (`/etc/hosts` and blocklists) into records: A or AAAA for every name on
 * a line, and one PTR per address pointing at the first name that claims it, as glibc and
 * dnsmasq answer reverse lookups.
 * @module
 */
import {
  checkName,
  DataError,
  EncodeError,
  formatIPv4,
  formatIPv6,
  nameKey,
  ParseError,
  parseIPv4,
  parseIPv6,
  type RData,
  type ResourceRecord,
  RRClass,
  type TextLocation,
  withoutRootDot,
} from "../proto/mod.ts";

/** The TTL of records read from a hosts file. */
export const HOSTS_TTL = 300;

const MAX_TTL = 0x7fffffff; // RFC 2181 section 8

/** What a hosts file holds. */
export interface HostsData {
  /** A, AAAA and PTR records, in file order, without duplicates. */
  readonly records: ResourceRecord[];
  /** Lines skipped because dnsd cannot serve them (an IPv6 zone index such as `%eth0`). */
  readonly warnings: ParseError[];
}

/** One whitespace-separated field of a line. */
interface Field {
  readonly text: string;
  /** The 1-based column. */
  readonly column: number;
}

function fields(line: string): Field[] {
  const hash = line.indexOf("#");
  const content = hash < 0 ? line : line.slice(0, hash);
  return [...content.matchAll(/[^ \t\r\f\v]+/g)].map((match) => ({
    text: match[0],
    column: match.index + 1,
  }));
}

/** The octets of an IPv4 or IPv6 address, or null. */
function addressOctets(text: string): Uint8Array | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

/**
 * The reverse-lookup name of an address: `in-addr.arpa` for IPv4 (RFC 1035 section 3.5),
 * nibbles under `ip6.arpa` for IPv6 (RFC 3596 section 2.5).
 * @throws {DataError} when `address` is not an IPv4 or IPv6 address
 * @example
 * ```ts
 * reverseName("192.0.2.1"); // "1.2.0.192.in-addr.arpa"
 * ```
 */
export function reverseName(address: string): string {
  const octets = addressOctets(address);
  if (!octets) throw new DataError(`"${address}" is not an IPv4 or IPv6 address`);
  if (octets.length === 4) return `${[...octets].reverse().join(".")}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (const octet of [...octets].reverse()) {
    nibbles.push((octet & 0xf).toString(16), (octet >> 4).toString(16));
  }
  return `${nibbles.join(".")}.ip6.arpa`;
}

/**
 * Parses a hosts(5) file: `ADDRESS NAME [ALIAS ...]` per line, `#` comments, blank lines. Names
 * keep their case and lose an optional root dot. The unspecified addresses (`0.0.0.0`, `::`)
 * of blocklists get no PTR.
 * @param file the path, for error locations
 * @param options `ttl` of every record (default {@link HOSTS_TTL})
 * @returns the records, and a warning for each line skipped
 * @throws {ParseError} at the token, for an address that is not an IP address, a line with no
 * name, or a bad name
 * @example
 * ```ts
 * const { records } = parseHosts("127.0.0.1 localhost\n::1 localhost ip6-localhost\n", "/etc/hosts");
 * ```
 */
export function parseHosts(text: string, file: string, options: { readonly ttl?: number } = {}): HostsData {
  const ttl = options.ttl ?? HOSTS_TTL;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
    throw new DataError(`${file}: TTL ${ttl} is not a whole number from 0 to ${MAX_TTL}`);
  }
  const records: ResourceRecord[] = [];
  const warnings: ParseError[] = [];
  const seen = new Set<string>();
  const add = (name: string, data: RData, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    records.push({ name, class: RRClass.IN, ttl, data });
  };
  text.split("\n").forEach((line, index) => {
    const [address, ...names] = fields(line);
    if (!address) return;
    const at = (field: Field) => ({ file, line: index + 1, column: field.column });
    const octets = addressOctets(address.text);
    if (!octets) {
      const scoped = /^([^%]+)%.+$/.exec(address.text);
      if (scoped && parseIPv6(scoped[1]!)) {
        warnings.push(new ParseError(at(address), `skipped: "${address.text}" has a zone index`));
        return;
      }
      throw new ParseError(at(address), `"${address.text}" is not an IPv4 or IPv6 address`);
    }
    if (names.length === 0) throw new ParseError(at(address), `no name after "${address.text}"`);
    const data: RData = octets.length === 4
      ? { type: "A", address: formatIPv4(octets) }
      : { type: "AAAA", address: formatIPv6(octets) };
    const hostNames = names.map((field) => hostName(field, at(field)));
    for (const name of hostNames) add(name, data, `${nameKey(name)} ${data.type} ${data.address}`);
    // 0.0.0.0 and :: are blocklist sinks, not hosts: no reverse name (as dnsmasq).
    if (octets.every((octet) => octet === 0)) return;
    const reverse = reverseName(data.address);
    add(reverse, { type: "PTR", target: hostNames[0]! }, `${reverse} PTR`);
  });
  return { records, warnings };
}

function hostName(field: Field, at: TextLocation): string {
  const name = withoutRootDot(field.text);
  if (name === "") throw new ParseError(at, `bad name "${field.text}": the root is not a host name`);
  try {
    checkName(field.text); // with its root dot, so "a.." is an empty label, not "a."
  } catch (error) {
    if (error instanceof EncodeError) throw new ParseError(at, `bad name "${field.text}": ${detail(error)}`);
    throw error;
  }
  return name;
}

/** The EncodeError's detail, without its "Cannot encode message" prefix, which misleads here. */
function detail(error: EncodeError): string {
  return error.message.replace(/^Cannot encode message: /, "");
}
