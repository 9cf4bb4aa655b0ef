/**
 * The zone-file lexer (RFC 1035 section 5.1): splits master-file text into entries of tokens.
 * Parentheses continue an entry across lines, `;` starts a comment, quotes group text, and
 * escapes (`\X`, `\DDD`) stay in the token text for the field parser to interpret.
 * @module
 */
import { ParseError } from "./errors.ts";

/** One field of an entry. */
export interface Token {
  /** The text, with escapes kept as written and without the quotes of a quoted string. */
  readonly text: string;
  /** Whether it was written in double quotes (a quoted `@` or `$TTL` is plain text). */
  readonly quoted: boolean;
  /** The 1-based line where the token starts. */
  readonly line: number;
  /** The 1-based column where the token starts. */
  readonly column: number;
}

/** One entry: a directive or a resource record, possibly spread over lines by parentheses. */
export interface Entry {
  /** The fields in order. */
  readonly tokens: readonly Token[];
  /** The entry's first line began with a blank: the owner is the previous entry's (section 5.1). */
  readonly ownerOmitted: boolean;
  /** The 1-based line where the entry starts. */
  readonly line: number;
}

/** The characters a master file gives meaning to, by code (also read by address_line.ts). */
export const ZONE_CHARS = {
  SPACE: 0x20,
  TAB: 0x09,
  NEWLINE: 0x0a,
  RETURN: 0x0d,
  QUOTE: 0x22,
  OPEN: 0x28,
  CLOSE: 0x29,
  SEMICOLON: 0x3b,
  BACKSLASH: 0x5c,
} as const;
const { SPACE, TAB, NEWLINE, RETURN, QUOTE, OPEN, CLOSE, SEMICOLON, BACKSLASH } = ZONE_CHARS;

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB || code === RETURN;
}

/**
 * Yields the entries of a master file, lazily, so a large file is never held twice.
 * @param file the path, for error locations
 * @param shortLine offered each line that starts an entry, before it is split into tokens: it reads
 *   the line itself and returns where the next line starts, or -1 to leave the line to the lexer
 *   (the zone parser reads A and AAAA lines this way: address_line.ts)
 * @throws {ParseError} for an unterminated quote, a stray `)`, or a `(` never closed
 */
export function* zoneEntries(
  text: string,
  file: string,
  shortLine?: (pos: number, line: number) => number,
): Generator<Entry> {
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let openedAt = { line: 0, column: 0 };
  let tokens: Token[] = [];
  let ownerOmitted = false;
  let entryLine = 1;
  let atLineStart = true;
  const where = (at: number) => ({ file, line, column: at - lineStart + 1 });

  while (pos <= text.length) {
    const code = pos < text.length ? text.charCodeAt(pos) : NEWLINE;
    if (atLineStart) {
      if (shortLine && depth === 0 && pos < text.length) {
        const next = shortLine(pos, line);
        if (next >= 0) {
          pos = lineStart = next;
          line++;
          continue;
        }
      }
      atLineStart = false;
      // Only a line that starts a new entry says whether the owner is omitted; continuation
      // lines inside parentheses do not.
      if (depth === 0) {
        ownerOmitted = isBlank(code) && code !== RETURN;
        entryLine = line;
      }
    }
    if (code === NEWLINE) {
      if (pos >= text.length && depth > 0) {
        throw new ParseError({ file, ...openedAt }, "'(' is never closed");
      }
      if (depth === 0 && tokens.length > 0) {
        yield { tokens, ownerOmitted, line: entryLine };
        tokens = [];
      }
      pos++;
      line++;
      lineStart = pos;
      atLineStart = true;
      continue;
    }
    if (isBlank(code)) {
      pos++;
      continue;
    }
    if (code === SEMICOLON) {
      while (pos < text.length && text.charCodeAt(pos) !== NEWLINE) pos++;
      continue;
    }
    if (code === OPEN) {
      if (depth === 0) openedAt = { line, column: pos - lineStart + 1 };
      depth++;
      pos++;
      continue;
    }
    if (code === CLOSE) {
      if (depth === 0) throw new ParseError(where(pos), "')' without '('");
      depth--;
      pos++;
      continue;
    }
    const column = pos - lineStart + 1;
    if (code === QUOTE) {
      let end = pos + 1;
      while (end < text.length) {
        const c = text.charCodeAt(end);
        // An escape never takes the line end: that would throw every later line number off.
        if (c === BACKSLASH && text.charCodeAt(end + 1) !== NEWLINE) end += 2;
        else if (c === QUOTE || c === NEWLINE) break;
        else end++;
      }
      if (end >= text.length || text.charCodeAt(end) !== QUOTE) {
        throw new ParseError(where(pos), "unterminated quoted string");
      }
      tokens.push({ text: text.slice(pos + 1, end), quoted: true, line, column });
      pos = end + 1;
      continue;
    }
    let end = pos;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      if (c === BACKSLASH && text.charCodeAt(end + 1) !== NEWLINE) {
        end += 2;
        continue;
      }
      if (isBlank(c) || c === NEWLINE || c === SEMICOLON || c === OPEN || c === CLOSE || c === QUOTE) break;
      end++;
    }
    end = Math.min(end, text.length);
    tokens.push({ text: text.slice(pos, end), quoted: false, line, column });
    pos = end;
  }
}
