/**
 * Trust anchors: the root's (IANA root-anchors.xml: KSK-2017 and KSK-2024, as DS), and the reader of a
 * trust-anchor file in unbound's `trust-anchor-file` form: zone-file lines of DS or DNSKEY records,
 * with comments, `$ORIGIN` and `$TTL`.
 * @module
 */
import {
  absoluteName,
  parseDuration,
  ParseError,
  parseRData,
  RDataText,
  type ResourceRecord,
  RRClass,
  RRType,
  type Token,
  typeFromText,
  zoneEntries,
} from "../proto/mod.ts";

function hexOctets(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function rootDs(keyTag: number, digest: string): ResourceRecord {
  return {
    name: "",
    class: RRClass.IN,
    ttl: 172800,
    data: { type: "DS", keyTag, algorithm: 8, digestType: 2, digest: hexOctets(digest) },
  };
}

/** The root zone's trust anchors: KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696), as DS records. */
export const ROOT_ANCHORS: readonly ResourceRecord[] = Object.freeze([
  rootDs(20326, "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"),
  rootDs(38696, "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"),
]);

function where(file: string, token: Token): { file: string; line: number; column: number } {
  return { file, line: token.line, column: token.column };
}

/**
 * Reads a trust-anchor file: zone-file lines of DS or DNSKEY records (comments, `$ORIGIN`, `$TTL`
 * allowed; owner names absolute unless an `$ORIGIN` precedes them).
 * @throws {ParseError} with the file and line of anything else
 */
export function parseTrustAnchors(text: string, file: string): ResourceRecord[] {
  const records: ResourceRecord[] = [];
  let origin: string | undefined;
  let defaultTtl = 0;
  let lastOwner: string | undefined;
  for (const entry of zoneEntries(text, file)) {
    const tokens = entry.tokens;
    const first = tokens[0]!;
    const directive = first.quoted ? "" : first.text.toUpperCase();
    if (!entry.ownerOmitted && (directive === "$ORIGIN" || directive === "$TTL")) {
      const value = tokens[1];
      if (!value || tokens.length > 2) {
        throw new ParseError(where(file, first), `${first.text} needs one value`);
      }
      if (directive === "$ORIGIN") origin = absoluteName(value.text, origin ?? "");
      else {
        const ttl = parseDuration(value.text);
        if (ttl === null) throw new ParseError(where(file, value), `bad $TTL "${value.text}"`);
        defaultTtl = ttl;
      }
      continue;
    }
    let index = 0;
    if (!entry.ownerOmitted) {
      if (origin === undefined && first.text !== "." && !first.text.endsWith(".")) {
        throw new ParseError(where(file, first), `relative owner "${first.text}" with no $ORIGIN`);
      }
      lastOwner = absoluteName(first.text, origin ?? "");
      index = 1;
    }
    if (lastOwner === undefined) throw new ParseError(where(file, first), "a record with no owner name");
    let ttl = defaultTtl;
    for (let field = 0; field < 2 && index < tokens.length - 1; field++) {
      const token = tokens[index]!;
      if (/^(IN|CLASS1)$/i.test(token.text)) index++;
      else if (parseDuration(token.text) !== null) {
        ttl = parseDuration(token.text)!;
        index++;
      } else break;
    }
    const typeToken = tokens[index];
    const code = typeToken ? typeFromText(typeToken.text) : null;
    if (!typeToken || (code !== RRType.DS && code !== RRType.DNSKEY)) {
      throw new ParseError(where(file, typeToken ?? first), "a trust anchor is a DS or DNSKEY record");
    }
    const last = tokens[tokens.length - 1]!;
    const end = { file, line: last.line, column: last.column + last.text.length };
    const data = parseRData(code, new RDataText(tokens, index + 1, { origin, file, end }));
    records.push({ name: lastOwner, class: RRClass.IN, ttl, data });
  }
  return records;
}
