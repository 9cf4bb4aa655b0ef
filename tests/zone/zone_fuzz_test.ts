/**
 * Mutated zone files: tests/testdata/zones/example.org.zone (every record type and every construct
 * of RFC 1035 section 5) with one to four random edits each (a special character or token put in,
 * text cut out, the file cut short, a bit flipped). Each must load or fail with a ParseError (a
 * `file:line:column` and a reason), never another exception, and both ways dnsd builds a zone
 * (`buildZone` from all records, `ZoneStream` as they are read) must agree: the same zone, or the
 * same error. The hosts-file parser gets the same texts.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { DataError, ParseError } from "../../lib/proto/errors.ts";
import { parseHosts } from "../../lib/zone/hosts.ts";
import { buildZone } from "../../lib/zone/zone.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { NotInOrder, ZoneStream } from "../../lib/zone/zone_stream.ts";

const ZONES = new URL("../testdata/zones/", import.meta.url);
const FILES = 2_000;
/** What an edit may put in: the characters and tokens zone files give meaning to, and some that are wrong. */
const PUT_IN = [
  '"',
  "\\",
  "(",
  ")",
  ";",
  "@",
  "$",
  ".",
  " ",
  "\t",
  "\n",
  "*",
  "\\0",
  "\\999",
  "#",
  "\x00",
  "é",
  "TYPE65535",
  "\\# ",
  "IN",
  "3600",
  "-1",
  "1h",
  "CH",
  "$ORIGIN",
  "$TTL",
  "$INCLUDE",
]; // deno-fmt-ignore

/** A small deterministic generator (an LCG): the same files on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function mutated(text: string, random: () => number): string {
  for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
    const at = Math.floor(random() * text.length);
    const kind = random();
    if (kind < 0.4) text = text.slice(0, at) + PUT_IN[Math.floor(random() * PUT_IN.length)] + text.slice(at);
    else if (kind < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 10));
    else if (kind < 0.85) text = text.slice(0, at);
    else {text = text.slice(0, at) +
        String.fromCharCode(text.charCodeAt(at) ^ (1 << Math.floor(random() * 7))) + text.slice(at + 1);}
  }
  return text;
}

/** How one way of building ends: the zone's size, apex and cuts, or the error's message. */
async function outcome(build: () => Promise<{ size: number; key: string; hasDelegations: boolean }>) {
  try {
    const zone = await build();
    return `zone ${zone.size} ${zone.key} ${zone.hasDelegations}`;
  } catch (error) {
    if (error instanceof NotInOrder) return "not in order";
    if (error instanceof ParseError || error instanceof DataError) return `error ${error.message}`;
    throw error;
  }
}

test(
  { name: "mutated zone files load or fail with a ParseError, the same both ways", timeoutMs: 120_000 },
  async () => {
    const zone = await Deno.readTextFile(new URL("example.org.zone", ZONES));
    const included = await Deno.readTextFile(new URL("included.zone", ZONES));
    const random = lcg(20261206);
    const seen = { zone: 0, error: 0 };
    for (let i = 0; i < FILES; i++) {
      const text = mutated(zone, random);
      const read = (path: string) => Promise.resolve(path.endsWith("included.zone") ? included : text);
      const built = await outcome(async () =>
        buildZone(await parseZoneFile("z.zone", { read, origin: "example.org" }), "z.zone", "example.org")
      );
      const streamed = await outcome(async () => {
        const stream = new ZoneStream("example.org");
        await parseZoneFile("z.zone", {
          read,
          origin: "example.org",
          ...stream.parserSink,
        });
        return stream.finish().zone;
      });
      // The stream gives up on a file whose names come back; dnsd then builds it the other way.
      if (streamed !== "not in order") equal(streamed, built, JSON.stringify(text));
      seen[built.startsWith("zone") ? "zone" : "error"]++;
      try {
        parseHosts(text, "hosts");
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
      }
    }
    // Both kinds of outcome were met, so the edits reach past the parser's first checks.
    deepEqual([seen.zone > FILES / 10, seen.error > FILES / 10], [true, true], JSON.stringify(seen));
  },
);
