/**
 * A zone built as its file is read (lib/zone/zone_stream.ts) against `buildZone` from all the
 * records: the same zone for every file it takes, the same error for every broken one, and a
 * give-up (NotInOrder) for a file in another order or signed, which the loader then builds the
 * usual way (through it, tests/zone/sources_test.ts and every e2e test load their zones).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { ParseError } from "../../lib/proto/errors.ts";
import { buildZone, type Zone } from "../../lib/zone/zone.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { NotInOrder, ZoneStream } from "../../lib/zone/zone_stream.ts";
import { BROKEN_ZONES, HEAD, SOA } from "./_broken_zones.ts";
import { shape } from "./_zone_shape.ts";

type Outcome = { zone: Zone } | { error: string } | { notInOrder: true };

function reader(files: Record<string, string>): (path: string) => Promise<string> {
  return (path) => {
    const text = files[path];
    return text === undefined ? Promise.reject(new Deno.errors.NotFound(path)) : Promise.resolve(text);
  };
}

async function streamed(files: Record<string, string>, origin?: string): Promise<Outcome> {
  const stream = new ZoneStream(origin);
  try {
    await parseZoneFile("z.zone", {
      read: reader(files),
      ...(origin ? { origin } : {}),
      ...stream.parserSink,
    });
    return { zone: stream.finish().zone };
  } catch (error) {
    if (error instanceof NotInOrder) return { notInOrder: true };
    if (error instanceof ParseError) return { error: error.message };
    throw error;
  }
}

async function built(files: Record<string, string>, origin?: string): Promise<Outcome> {
  try {
    const parsed = await parseZoneFile("z.zone", { read: reader(files), ...(origin ? { origin } : {}) });
    return { zone: buildZone(parsed, "z.zone", origin) };
  } catch (error) {
    if (error instanceof ParseError) return { error: error.message };
    throw error;
  }
}

/** `count` names, each written together: every tenth with one below it, every hundredth two levels below. */
function manyNames(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(`n${i} A 192.0.2.${i % 250}`);
    if (i % 10 === 0) lines.push(`sub.n${i} TXT "below n${i}"`);
    if (i % 100 === 0) lines.push(`deep.ent.n${i} A 192.0.2.1`);
  }
  return `${lines.join("\n")}\n`;
}

/** `count` TXT records at `name`: more than one message holds from about 3,000. */
function manyRecordsAt(name: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `${name} TXT "record ${i} of many"\n`).join("");
}

const TAKEN: Record<string, Record<string, string>> = {
  "names each written together, an empty non-terminal, a delegation with glue": {
    "z.zone": `${HEAD}${SOA}@ NS ns\n@ MX 10 mail\nns A 192.0.2.1\nmail A 192.0.2.2\n\tAAAA 2001:db8::2\n` +
      `a.b.c A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.4\nwww CNAME @\n`,
  },
  "an $INCLUDE and a second $ORIGIN": {
    "z.zone": `${HEAD}${SOA}$INCLUDE inc.zone sub.example.org.\nafter A 192.0.2.9\n`,
    "inc.zone": `$TTL 60\n@ A 192.0.2.5\nx TXT "in the included file"\n`,
  },
  "parents before their children, several levels deep, and empty non-terminals shared": {
    "z.zone": `${HEAD}${SOA}b A 192.0.2.1\na.b A 192.0.2.2\nc.a.b A 192.0.2.3\nx.c.a.b A 192.0.2.4\n` +
      `y.c.a.b A 192.0.2.5\nq.p.o A 192.0.2.6\nr.p.o A 192.0.2.7\ns.o A 192.0.2.8\n`,
  },
  "a name with more records than one message holds": {
    "z.zone": `${HEAD}${SOA}${manyRecordsAt("big", 5000)}www A 192.0.2.1\n`,
  },
  "more names than are placed one at a time (4,096), some below others": {
    "z.zone": `${HEAD}${SOA}${manyNames(5000)}`,
  },
  "case kept, escapes": {
    "z.zone": `${HEAD}${SOA}WWW A 192.0.2.1\nsp\\032ace A 192.0.2.2\nesc\\.aped TXT "x"\n`,
  },
};

const GIVEN_UP: Record<string, Record<string, string>> = {
  "a name that comes back after another": {
    "z.zone": `${HEAD}${SOA}www A 192.0.2.1\nmail A 192.0.2.2\nwww AAAA ::1\n`,
  },
  "a parent after a child made it an empty non-terminal": {
    "z.zone": `${HEAD}${SOA}a.b A 192.0.2.1\nb A 192.0.2.2\n`,
  },
  "a name that comes back after thousands of others": {
    "z.zone": `${HEAD}${SOA}first A 192.0.2.1\n${manyNames(5000)}first AAAA ::1\n`,
  },
  "a parent written thousands of names after a child made it an empty non-terminal": {
    "z.zone": `${HEAD}${SOA}a.late A 192.0.2.1\n${manyNames(5000)}late A 192.0.2.2\n`,
  },
  "a name with more records than one message holds, coming back after another": {
    "z.zone": `${HEAD}${SOA}${manyRecordsAt("big", 5000)}www A 192.0.2.1\nbig TXT "again"\n`,
  },
  "the apex after another name": { "z.zone": `${HEAD}${SOA}www A 192.0.2.1\n@ NS ns\n` },
  "the SOA not first": { "z.zone": `${HEAD}@ NS ns\n${SOA}` },
  "a signature": {
    "z.zone": `${HEAD}${SOA}@ RRSIG SOA 13 2 300 20300101000000 20200101000000 1234 example.org. ` +
      `AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n`,
  },
};

test("a zone built as it is read is the zone buildZone makes", async (t) => {
  for (const [name, files] of Object.entries(TAKEN)) {
    await t.step(name, async () => {
      const fromStream = await streamed(files);
      const fromRecords = await built(files);
      ok("zone" in fromStream, `taken: ${JSON.stringify(fromStream)}`);
      ok("zone" in fromRecords);
      deepEqual(shape(fromStream.zone), shape(fromRecords.zone));
    });
  }
});

test("a file in another order, or signed, is given up and builds the usual way", async (t) => {
  for (const [name, files] of Object.entries(GIVEN_UP)) {
    await t.step(name, async () => {
      deepEqual(await streamed(files), { notInOrder: true });
      ok("zone" in await built(files), "the usual way takes it");
    });
  }
});

test("a broken zone gives the error buildZone gives, or is given up", async (t) => {
  let compared = 0;
  for (const zone of BROKEN_ZONES) {
    await t.step(zone.name, async () => {
      const files = { "z.zone": zone.text };
      const fromStream = await streamed(files, zone.origin);
      const fromRecords = await built(files, zone.origin);
      ok("error" in fromRecords);
      if ("notInOrder" in fromStream) return; // the usual way reports it
      deepEqual(fromStream, fromRecords);
      equal(fromStream.error.startsWith(`${zone.at}: ${zone.reason}`), true, fromStream.error);
      compared++;
    });
  }
  // Given up: no SOA, an empty file, a name before the SOA, and two CNAMEs with another name between.
  equal(compared, BROKEN_ZONES.length - 4);
});

test("a parse error after a broken rule is the one reported, as buildZone's path reports it", async () => {
  const files = { "z.zone": `${HEAD}${SOA}www.example.net. A 192.0.2.1\nbad A 300.0.0.1\n` };
  const fromStream = await streamed(files);
  deepEqual(fromStream, await built(files));
  ok("error" in fromStream && fromStream.error.startsWith("z.zone:5:"), JSON.stringify(fromStream));
});
