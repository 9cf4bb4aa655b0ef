/**
 * The zone-file lexer: entries of tokens with their line and column, as a table of vectors, and
 * one table of malformed text with the exact `file:line:column` of each failure.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, fail } from "node:assert/strict";
import { ParseError } from "../../lib/proto/errors.ts";
import { type Entry, zoneEntries } from "../../lib/proto/zone_lexer.ts";

/** An entry as a test reads it: a token is `text@line:column`, quoted ones keep their quotes. */
interface Shape {
  readonly line: number;
  readonly omitted: boolean;
  readonly tokens: readonly string[];
}

function shape(entry: Entry): Shape {
  return {
    line: entry.line,
    omitted: entry.ownerOmitted,
    tokens: entry.tokens.map((t) => `${t.quoted ? `"${t.text}"` : t.text}@${t.line}:${t.column}`),
  };
}

const vectors: readonly { name: string; text: string; entries: readonly Shape[] }[] = [
  {
    name: "plain fields separated by spaces",
    text: "www 300 IN A 192.0.2.1\n",
    entries: [{
      line: 1,
      omitted: false,
      tokens: ["www@1:1", "300@1:5", "IN@1:9", "A@1:12", "192.0.2.1@1:14"],
    }],
  },
  {
    name: "tabs and runs of blanks (a tab is one column)",
    text: "www \t A\t\t192.0.2.1\n",
    entries: [{ line: 1, omitted: false, tokens: ["www@1:1", "A@1:7", "192.0.2.1@1:10"] }],
  },
  {
    name: "a whole-line comment, a trailing comment and one touching a token",
    text: "; header\nwww A 192.0.2.1 ; trailing\nmail A 192.0.2.25;touching\n; last\n",
    entries: [
      { line: 2, omitted: false, tokens: ["www@2:1", "A@2:5", "192.0.2.1@2:7"] },
      { line: 3, omitted: false, tokens: ["mail@3:1", "A@3:6", "192.0.2.25@3:8"] },
    ],
  },
  {
    name: "a ';' inside quotes, which is text and not a comment",
    text: 't TXT "a;b" c ; d\n',
    entries: [{ line: 1, omitted: false, tokens: ["t@1:1", "TXT@1:3", '"a;b"@1:7', "c@1:13"] }],
  },
  {
    name: String.raw`quoted strings with \", \\ and \DDD kept raw`,
    text: String.raw`t TXT "say \"hi\"" "back\\slash" "\065\066" ""` + "\n",
    entries: [{
      line: 1,
      omitted: false,
      tokens: [
        "t@1:1",
        "TXT@1:3",
        String.raw`"say \"hi\""@1:7`,
        String.raw`"back\\slash"@1:20`,
        String.raw`"\065\066"@1:34`,
        '""@1:45',
      ],
    }],
  },
  {
    name: "escaped blanks, ';' and '(' inside an unquoted token",
    text: String.raw`a\ b TXT c\ d\;e\(` + "\n",
    entries: [{
      line: 1,
      omitted: false,
      tokens: [String.raw`a\ b@1:1`, "TXT@1:6", String.raw`c\ d\;e\(@1:10`],
    }],
  },
  {
    name: "parentheses across lines: the entry's line is its first",
    text: "@ IN SOA ns h (\n 1 ; serial\n 2 3 4 5 )\nnext A 192.0.2.1\n",
    entries: [
      {
        line: 1,
        omitted: false,
        tokens: [
          "@@1:1",
          "IN@1:3",
          "SOA@1:6",
          "ns@1:10",
          "h@1:13",
          "1@2:2",
          "2@3:2",
          "3@3:4",
          "4@3:6",
          "5@3:8",
        ],
      },
      { line: 4, omitted: false, tokens: ["next@4:1", "A@4:6", "192.0.2.1@4:8"] },
    ],
  },
  {
    name: "parentheses touching tokens, nested, and blank lines inside them",
    text: "a (TXT)x ((\n\n  y)\n)\n",
    entries: [{ line: 1, omitted: false, tokens: ["a@1:1", "TXT@1:4", "x@1:8", "y@3:3"] }],
  },
  {
    // Regression: a continuation line starting with a blank once marked the SOA's owner omitted.
    name: "an SOA whose ')' line starts with a blank keeps its owner",
    text: "@ SOA ns h ( 1 2 3 4 5\n )\nwww A 192.0.2.1\n",
    entries: [
      {
        line: 1,
        omitted: false,
        tokens: ["@@1:1", "SOA@1:3", "ns@1:7", "h@1:10", "1@1:14", "2@1:16", "3@1:18", "4@1:20", "5@1:22"],
      },
      { line: 3, omitted: false, tokens: ["www@3:1", "A@3:5", "192.0.2.1@3:7"] },
    ],
  },
  {
    name: "continuation lines starting with tabs and blanks, then an omitted owner",
    text: "@ IN SOA ns h (\n\t1 2 3 4\n    5 )\n\tNS ns\n",
    entries: [
      {
        line: 1,
        omitted: false,
        tokens: [
          "@@1:1",
          "IN@1:3",
          "SOA@1:6",
          "ns@1:10",
          "h@1:13",
          "1@2:2",
          "2@2:4",
          "3@2:6",
          "4@2:8",
          "5@3:5",
        ],
      },
      { line: 4, omitted: true, tokens: ["NS@4:2", "ns@4:5"] },
    ],
  },
  {
    name: "an owner omitted by a leading blank or tab",
    text: " A 192.0.2.1\n\tAAAA ::1\nwww A 192.0.2.2\n",
    entries: [
      { line: 1, omitted: true, tokens: ["A@1:2", "192.0.2.1@1:4"] },
      { line: 2, omitted: true, tokens: ["AAAA@2:2", "::1@2:7"] },
      { line: 3, omitted: false, tokens: ["www@3:1", "A@3:5", "192.0.2.2@3:7"] },
    ],
  },
  {
    name: "CRLF line endings: no token holds a CR",
    text: 'www A 192.0.2.1\r\n\tAAAA ::1\r\n\r\nt TXT "x"\r\n; c\r\n',
    entries: [
      { line: 1, omitted: false, tokens: ["www@1:1", "A@1:5", "192.0.2.1@1:7"] },
      { line: 2, omitted: true, tokens: ["AAAA@2:2", "::1@2:7"] },
      { line: 4, omitted: false, tokens: ["t@4:1", "TXT@4:3", '"x"@4:7'] },
    ],
  },
  {
    name: "a file without a final newline",
    text: "www A 192.0.2.1\nmail A 192.0.2.25 ; no newline",
    entries: [
      { line: 1, omitted: false, tokens: ["www@1:1", "A@1:5", "192.0.2.1@1:7"] },
      { line: 2, omitted: false, tokens: ["mail@2:1", "A@2:6", "192.0.2.25@2:8"] },
    ],
  },
  {
    name: "parentheses closed on the last line, without a final newline",
    text: "a TXT (\n b )",
    entries: [{ line: 1, omitted: false, tokens: ["a@1:1", "TXT@1:3", "b@2:2"] }],
  },
  { name: "an empty file", text: "", entries: [] },
  { name: "blank lines and comments only", text: "\n  \n; c\n\t; d\n\r\n", entries: [] },
  {
    // A backslash once swallowed the line end, so every later line number was one too low.
    name: "a backslash at the end of a line never escapes the line end",
    text: "a\\\nb c\nd e\n",
    entries: [
      { line: 1, omitted: false, tokens: ["a\\@1:1"] },
      { line: 2, omitted: false, tokens: ["b@2:1", "c@2:3"] },
      { line: 3, omitted: false, tokens: ["d@3:1", "e@3:3"] },
    ],
  },
];

test("zoneEntries() splits text into entries of located tokens", async (t) => {
  for (const { name, text, entries } of vectors) {
    await t.step(name, () => {
      deepEqual([...zoneEntries(text, "f.zone")].map(shape), entries);
    });
  }
});

const malformed: readonly { name: string; text: string; at: string; reason: string }[] = [
  {
    name: "an unterminated quote at the end of the file",
    text: 't TXT "abc',
    at: "f.zone:1:7",
    reason: "unterminated quoted string",
  },
  {
    name: "a quote not closed on its line",
    text: 'x A 192.0.2.1\nt TXT "abc\ndef"\n',
    at: "f.zone:2:7",
    reason: "unterminated quoted string",
  },
  {
    name: "a quote whose line ends in a backslash",
    text: 't TXT "abc\\\ndef"\n',
    at: "f.zone:1:7",
    reason: "unterminated quoted string",
  },
  {
    name: "a quote ending in an escaped quote",
    text: 't TXT "abc\\"\n',
    at: "f.zone:1:7",
    reason: "unterminated quoted string",
  },
  { name: "')' without '('", text: "a A 192.0.2.1 )\n", at: "f.zone:1:15", reason: "')' without '('" },
  { name: "a second ')'", text: "a TXT ( b ) )\n", at: "f.zone:1:13", reason: "')' without '('" },
  {
    name: "'(' never closed (at the '(')",
    text: "x A 192.0.2.1\na SOA (\n 1 2\n",
    at: "f.zone:2:7",
    reason: "'(' is never closed",
  },
  {
    name: "'(' never closed, no final newline",
    text: "a SOA ( 1",
    at: "f.zone:1:7",
    reason: "'(' is never closed",
  },
  {
    name: "nested '(' never closed (at the outer one)",
    text: "a ((\n)\n",
    at: "f.zone:1:3",
    reason: "'(' is never closed",
  },
  {
    name: "'(' closed only in a comment",
    text: "a TXT ( b ; )\n",
    at: "f.zone:1:7",
    reason: "'(' is never closed",
  },
];

test("zoneEntries() rejects malformed text at the exact file:line:column", async (t) => {
  for (const { name, text, at, reason } of malformed) {
    await t.step(name, () => {
      try {
        for (const _ of zoneEntries(text, "f.zone")) {
          // drain
        }
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        const { file, line, column } = error.location;
        equal(`${file}:${line}:${column}`, at);
        equal(error.reason, reason);
        equal(error.message, `${at}: ${reason}`);
        return;
      }
      fail(`no ParseError for ${JSON.stringify(text)}`);
    });
  }
});

test("zoneEntries() yields entries lazily, before a later error", () => {
  const entries = zoneEntries("a A 192.0.2.1\nb A 192.0.2.2 )\n", "f.zone");
  deepEqual(shape(entries.next().value as Entry).tokens, ["a@1:1", "A@1:3", "192.0.2.1@1:5"]);
  try {
    entries.next();
    fail("no ParseError for the stray ')'");
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    equal(error.location.line, 2);
  }
});
