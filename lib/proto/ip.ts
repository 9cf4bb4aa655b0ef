/**
 * IPv4 and IPv6 text <-> octets, strict: no leading zeros in IPv4, RFC 5952 text for IPv6.
 * @module
 */

/** Parses dotted-quad IPv4 text, or returns null when it is not exactly that (no leading zeros). */
export function parseIPv4(text: string): Uint8Array | null {
  const value = ipv4Number(text);
  if (value < 0) return null;
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

/**
 * Parses dotted-quad IPv4 text (`text[start, end)`, all of it by default) to a 32-bit number, or
 * -1. The encoder uses this form: it needs no typed-array allocation, which costs more than the
 * parsing; the zone parser's short path (address_line.ts) reads a line's address in place.
 */
export function ipv4Number(text: string, start = 0, end = text.length): number {
  let result = 0;
  let index = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const code = i < end ? text.charCodeAt(i) : 0x2e;
    if (code === 0x2e) {
      if (digits === 0 || index > 3) return -1;
      result = result * 256 + value;
      index++;
      value = digits = 0;
      continue;
    }
    if (code < 0x30 || code > 0x39 || (digits === 1 && value === 0)) return -1;
    value = value * 10 + code - 0x30;
    if (++digits > 3 || value > 255) return -1;
  }
  return index === 4 ? result : -1;
}

/** Formats four octets as dotted-quad text. */
export function formatIPv4(octets: Uint8Array): string {
  return `${octets[0]}.${octets[1]}.${octets[2]}.${octets[3]}`;
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    groups.push(parseInt(group, 16));
  }
  return groups;
}

/** Parses IPv6 text (with `::` and an optional embedded IPv4 tail), or returns null. */
export function parseIPv6(text: string): Uint8Array | null {
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (lastColon >= 0 && body.includes(".", lastColon)) {
    // "::ffff:192.0.2.1" is read as "::ffff:c000:201"
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (!v4) return null;
    const high = ((v4[0]! << 8) | v4[1]!).toString(16);
    const low = ((v4[2]! << 8) | v4[3]!).toString(16);
    body = `${body.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  const octets = new Uint8Array(16);
  groups.forEach((group, i) => {
    octets[2 * i] = group >> 8;
    octets[2 * i + 1] = group & 0xff;
  });
  return octets;
}

/**
 * Formats sixteen octets as RFC 5952 text: lower case, longest zero run (of two or more) as `::`,
 * IPv4-mapped addresses as `::ffff:192.0.2.1`.
 */
export function formatIPv6(octets: Uint8Array): string {
  // RFC 5952 section 5: an IPv4-mapped address keeps its IPv4 part in dotted form.
  if (octets.subarray(0, 10).every((octet) => octet === 0) && octets[10] === 0xff && octets[11] === 0xff) {
    return `::ffff:${formatIPv4(octets.subarray(12))}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((octets[i]! << 8) | octets[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
