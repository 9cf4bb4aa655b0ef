/**
 * The zone parser's short path for A and AAAA lines (`onAddress`, lib/proto/address_line.ts)
 * against its full path, on files made from lines of every kind the short form nearly matches
 * (seeded, so the same files every run): the same records with the same locations, or the same
 * error; and the zone a ZoneStream builds through both callbacks is the one `buildZone` builds
 * from the full path's records.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, ok } from "node:assert/strict";
import { DataError, ParseError } from "../../lib/proto/errors.ts";
import { formatIPv6, type ResourceRecord, type TextLocation } from "../../lib/proto/mod.ts";
import type { AddressLine } from "../../lib/proto/mod.ts";
import { buildZone } from "../../lib/zone/zone.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { NotInOrder, ZoneStream } from "../../lib/zone/zone_stream.ts";
import { shape } from "./_zone_shape.ts";

const FILES = 600;

/** Each field's choices: `good` ones make a line either path takes, `bad` ones (now and then) one it refuses. */
interface Choices {
  readonly good: readonly string[];
  readonly bad: readonly string[];
}

const OWNERS: Choices = {
  good: [
    "www",
    "WWW",
    "Mixed.Case",
    "a.b",
    "*.w",
    "@",
    "-",
    "_srv._tcp",
    "x.example.org.",
    "EXAMPLE.ORG.",
    "ho\\.st",
    "sp\\032ace",
    "l".repeat(63),
    `${"l".repeat(60)}.${"m".repeat(60)}.${"n".repeat(60)}.${"o".repeat(50)}`,
  ],
  bad: [
    "x.example.net.",
    "a..b",
    ".",
    "l".repeat(64),
    `${"l".repeat(60)}.${"m".repeat(60)}.${"n".repeat(60)}.${"o".repeat(60)}`,
  ],
};
const TTLS: Choices = { good: ["", "", "", "60", "0", "1h", "2147483647", "007"], bad: ["2147483648", "1x"] };
const CLASSES: Choices = { good: ["", "", "IN", "in"], bad: ["CH", "HS"] };
const RDATA: Record<string, Choices> = {
  A: { good: ["192.0.2.1", "10.0.0.255", "0.0.0.0"], bad: ["01.2.3.4", "256.1.1.1", "1.2.3", "::1"] },
  a: { good: ["192.0.2.7"], bad: ["192.0.2.7 192.0.2.8"] },
  AAAA: {
    good: ["::1", "2001:DB8::1", "::ffff:1.2.3.4", "2001:db8:0:0:0:0:0:1"],
    bad: ["1::2::3", "192.0.2.1"],
  },
  aaaa: { good: ["fe80::1"], bad: ["fe80::g"] },
  TXT: { good: ['"x"', "plain"], bad: ['"open'] },
  MX: { good: ["10 mail"], bad: ["mail"] },
};
const TYPES: Choices = { good: Object.keys(RDATA), bad: ["CNAME", "TYPE1"] };
const ENDS = ["", "", "", " ", " ; comment", ";c", "\r", " \r"];
const DIRECTIVES = ["$TTL 30", "$ORIGIN sub.example.org.", "$ORIGIN example.org.", "$TTL 1h"];
/** How often a field takes a bad choice: a file of 20 lines then breaks about one time in five. */
const BAD = 0.003;

/** A small deterministic generator (an LCG): the same files on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function pick<T>(random: () => number, from: readonly T[]): T {
  return from[Math.floor(random() * from.length)]!;
}

function choose(random: () => number, choices: Choices): string {
  return pick(random, random() < BAD ? choices.bad : choices.good);
}

function recordLine(random: () => number, owner: string): string {
  const type = choose(random, TYPES);
  const ttl = choose(random, TTLS);
  const rrClass = choose(random, CLASSES);
  const fields = random() < 0.5 ? [ttl, rrClass] : [rrClass, ttl];
  const lead = random() < 0.1 ? "\t" : `${owner}${random() < 0.2 ? "\t" : " "}`;
  const middle = fields.filter((field) => field !== "").join(" ");
  const rdata = RDATA[type] ? choose(random, RDATA[type]) : "192.0.2.1";
  return `${lead}${middle}${middle ? " " : ""}${type} ${rdata}${pick(random, ENDS)}`;
}

/** A file: a head (origin, TTL, SOA, each usually there), then lines, an owner often repeated. */
function zoneFile(random: () => number): string {
  const lines: string[] = [];
  if (random() < 0.9) lines.push("$ORIGIN example.org.");
  if (random() < 0.7) lines.push("$TTL 300");
  if (random() < 0.95) lines.push("@ SOA ns h 1 2 3 4 5");
  let owner = choose(random, OWNERS);
  for (let i = 0, count = 5 + Math.floor(random() * 30); i < count; i++) {
    if (random() < 0.05) {
      lines.push(pick(random, DIRECTIVES));
      continue;
    }
    // A new owner, mostly one not seen before: a name that comes back makes the stream give up.
    if (random() < 0.6) owner = random() < 0.9 ? `n${i}` : choose(random, OWNERS);
    lines.push(recordLine(random, owner));
  }
  return `${lines.join("\n")}${random() < 0.9 ? "\n" : ""}`;
}

/** What the parser's short path hands on, made the record the full path makes (rdata_basic.ts). */
function asRecord(name: string, ttl: number, address: AddressLine): ResourceRecord {
  const data = address.type === 1
    ? { type: "A" as const, address: address.address }
    : { type: "AAAA" as const, address: formatIPv6(address.ipv6!) };
  return { name, class: 1, ttl, data };
}

type Parsed = { records: [ResourceRecord, TextLocation][]; short: number } | { error: string };

async function parsed(text: string, origin: string | undefined, short: boolean): Promise<Parsed> {
  const records: [ResourceRecord, TextLocation][] = [];
  let count = 0;
  try {
    await parseZoneFile("z.zone", {
      read: () => Promise.resolve(text),
      ...(origin ? { origin } : {}),
      onRecord: (record, at) => records.push([record, at]),
      ...(short
        ? {
          onAddress: (name: string, ttl: number, address: AddressLine, file: string, line: number) => {
            count++;
            records.push([asRecord(name, ttl, address), { file, line, column: 1 }]);
          },
        }
        : {}),
    });
    return { records, short: count };
  } catch (error) {
    if (error instanceof ParseError) return { error: error.message };
    throw error;
  }
}

type Built = { zone: Record<string, unknown> } | { error: string } | { notInOrder: true };

async function built(text: string, origin: string | undefined, streamed: boolean): Promise<Built> {
  const read = () => Promise.resolve(text);
  const given = origin ? { origin } : {};
  try {
    if (!streamed) {
      return { zone: shape(buildZone(await parseZoneFile("z.zone", { read, ...given }), "z.zone", origin)) };
    }
    const stream = new ZoneStream(origin);
    await parseZoneFile("z.zone", { read, ...given, ...stream.parserSink });
    return { zone: shape(stream.finish().zone) };
  } catch (error) {
    if (error instanceof NotInOrder) return { notInOrder: true };
    if (error instanceof ParseError || error instanceof DataError) return { error: error.message };
    throw error;
  }
}

test("A and AAAA lines read by the short path give the records and errors of the full path", async () => {
  const random = lcg(20261206);
  let short = 0;
  let records = 0;
  let errors = 0;
  for (let i = 0; i < FILES; i++) {
    const text = zoneFile(random);
    const origin = random() < 0.3 ? "example.org" : undefined;
    const full = await parsed(text, origin, false);
    const both = await parsed(text, origin, true);
    if ("short" in both) {
      short += both.short;
      records += both.records.length;
      deepEqual({ records: both.records }, { records: "records" in full ? full.records : full }, text);
    } else {
      errors++;
      deepEqual(both, full, text);
    }
  }
  // The files reach both ways, and both outcomes: not a comparison of two full paths.
  ok(short > records / 5 && short < records, `${short} of ${records} records by the short path`);
  ok(errors > FILES / 10 && errors < FILES / 2, `${errors} of ${FILES} files with an error`);
});

test("a zone built as it is read, through the short path, is the zone buildZone makes", async () => {
  const random = lcg(6);
  let compared = 0;
  for (let i = 0; i < FILES; i++) {
    const text = zoneFile(random);
    const origin = random() < 0.3 ? "example.org" : undefined;
    const streamed = await built(text, origin, true);
    if ("notInOrder" in streamed) continue; // dnsd then builds it the other way
    deepEqual(streamed, await built(text, origin, false), text);
    if ("zone" in streamed) compared++;
  }
  ok(compared > FILES / 10, `${compared} zones compared`);
});
