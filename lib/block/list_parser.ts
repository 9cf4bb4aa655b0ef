/**
 * Reads blocklist and allowlist files as people publish them: one file may mix hosts lines
 * (`0.0.0.0 ads.example`), plain domains one a line, and the Adblock subset `||ads.example^` that
 * DNS-level lists use (AdGuard DNS filter, OISD, hagezi). `#` and `!` start comments. A line dnsd
 * cannot read is counted, never fatal: big public lists always hold a few. Pure: text in, names out.
 * @module
 */
import { parseIPv4, parseIPv6 } from "../proto/mod.ts";

/** What one line of a list says. */
export type ListLine =
  /** Names to list, folded to lower case, without a trailing dot. */
  | { readonly kind: "names"; readonly names: readonly string[] }
  /** A comment, a blank line, or only entries that are never blocked (`localhost`, `ip6-*`...). */
  | { readonly kind: "skip" }
  /** A line dnsd cannot read: other Adblock syntax, a bad name, an address with no name. */
  | { readonly kind: "unreadable"; readonly reason: string };

/** A line dnsd could not read, for the log. */
export interface UnreadableLine {
  /** 1-based. */
  readonly line: number;
  /** Why. */
  readonly reason: string;
}

/** What reading a whole list file found. */
export interface ParsedList {
  /** How many names were listed (duplicates included: the set drops them). */
  readonly listed: number;
  /** How many lines could not be read. */
  readonly unreadable: number;
  /** The first few of those, for the log. */
  readonly firstUnreadable: readonly UnreadableLine[];
}

/** How many unreadable lines a load names in its log line. */
export const UNREADABLE_SHOWN = 3;

const SKIP: ListLine = Object.freeze({ kind: "skip" });

/**
 * The names hosts-format lists carry for the machine itself (from the /etc/hosts they were made
 * from): blocking them would break the machine, so they are skipped as Pi-hole's gravity does.
 */
const SELF_NAMES: ReadonlySet<string> = new Set([
  "localhost",
  "localhost.localdomain",
  "local",
  "broadcasthost",
  "0.0.0.0",
]);

function isSelfName(name: string): boolean {
  return SELF_NAMES.has(name) || (name.startsWith("ip6-") && !name.includes("."));
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 12 || code === 11;
}

/**
 * `text` as a list key: ASCII lower case, one trailing dot dropped, labels of 1-63 letters, digits,
 * `-` or `_` (underscores occur in real lists), 253 octets at most (RFC 1035 section 2.3.4).
 * @returns the key, or null when `text` is not such a name
 */
export function listKey(text: string): string | null {
  const end = text.endsWith(".") ? text.length - 1 : text.length;
  if (end === 0 || end > 253) return null;
  let label = 0;
  let upper = false;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      if (label === 0) return null;
      label = 0;
      continue;
    }
    if (++label > 63) return null;
    if (code >= 65 && code <= 90) upper = true;
    else if (
      !((code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95)
    ) return null;
  }
  if (label === 0) return null;
  const name = end === text.length ? text : text.slice(0, end);
  return upper ? name.toLowerCase() : name;
}

/** The whitespace-separated fields of `line` before a `#` comment (one at the start or after a space). */
function fieldsOf(line: string): string[] {
  const fields: string[] = [];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const code = i < line.length ? line.charCodeAt(i) : 32;
    // "#" starts a comment only at a field's start: "example.com##.ad" is Adblock cosmetic syntax.
    if (code === 35 && start < 0) break;
    if (isSpace(code)) {
      if (start >= 0) fields.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) fields.push(line.slice(start));
  return fields;
}

/** `||name^` with nothing after, or `$important` (the one option that changes nothing here). */
function adblockLine(line: string): ListLine {
  const caret = line.indexOf("^");
  if (caret < 0) return { kind: "unreadable", reason: "an Adblock rule without ^" };
  const name = listKey(line.slice(2, caret));
  if (name === null) return { kind: "unreadable", reason: "an Adblock rule that is not ||domain^" };
  const rest = line.slice(caret + 1).trimEnd();
  if (rest !== "" && rest !== "$important") {
    return { kind: "unreadable", reason: "an Adblock rule with options dnsd does not apply" };
  }
  return isSelfName(name) ? SKIP : { kind: "names", names: [name] };
}

/**
 * Reads one line of a list.
 * @example
 * ```ts
 * readListLine("0.0.0.0 Ads.Example. # tracker"); // { kind: "names", names: ["ads.example"] }
 * readListLine("||ads.example^");                 // { kind: "names", names: ["ads.example"] }
 * readListLine("@@||ads.example^");               // { kind: "unreadable", ... }
 * ```
 */
export function readListLine(line: string): ListLine {
  let first = 0;
  while (first < line.length && isSpace(line.charCodeAt(first))) first++;
  if (first === line.length) return SKIP;
  const lead = line.charCodeAt(first);
  if (lead === 35 || lead === 33) return SKIP; // "#" and "!" comments
  const text = first === 0 ? line : line.slice(first);
  if (lead === 91 && text.trimEnd().endsWith("]")) return SKIP; // "[Adblock Plus 2.0]"
  if (text.startsWith("||")) return adblockLine(text);
  const fields = fieldsOf(text);
  if (fields.length === 0) return SKIP;
  const head = fields[0]!;
  if (parseIPv4(head) || parseIPv6(head)) {
    if (fields.length === 1) return { kind: "unreadable", reason: `no name after "${head}"` };
    const names: string[] = [];
    for (let i = 1; i < fields.length; i++) {
      const name = listKey(fields[i]!);
      if (name === null) return { kind: "unreadable", reason: `"${fields[i]}" is not a domain name` };
      if (!isSelfName(name)) names.push(name);
    }
    return names.length === 0 ? SKIP : { kind: "names", names };
  }
  if (fields.length > 1) return { kind: "unreadable", reason: `"${head}" is not an IP address` };
  const name = listKey(head);
  if (name === null) return { kind: "unreadable", reason: `"${head}" is not a domain name` };
  return isSelfName(name) ? SKIP : { kind: "names", names: [name] };
}

/**
 * Reads a whole list file, handing each name to `add` as it is read (so a million names never sit
 * in an array as strings while the set is built).
 * @param text the file's text
 * @param add told each listed name, folded, in file order
 * @returns how many names were listed, and the lines that could not be read
 */
export function parseList(text: string, add: (name: string) => void): ParsedList {
  let listed = 0;
  const firstUnreadable: UnreadableLine[] = [];
  let unreadable = 0;
  let line = 0;
  for (let start = 0; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const read = readListLine(text.slice(start, end));
    start = end + 1;
    if (read.kind === "names") {
      for (const name of read.names) add(name);
      listed += read.names.length;
    } else if (read.kind === "unreadable") {
      unreadable++;
      if (firstUnreadable.length < UNREADABLE_SHOWN) {
        firstUnreadable.push({ line: line + 1, reason: read.reason });
      }
    }
  }
  return { listed, unreadable, firstUnreadable };
}
