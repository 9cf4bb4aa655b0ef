/**
 * The file watcher's reloads keep a zone whose text changed while its SOA serial did not (an edit
 * in progress, a file cut short), with one WARNING naming the file, line and serial; a forced
 * reload (SIGHUP) loads whatever parses; a parse error keeps the old zone either way. In-memory
 * files, so nothing sleeps.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { resolveLocal } from "../../lib/resolve/authority.ts";
import { formatLogRecord } from "../../lib/observe/log_format.ts";
import type { LocalData } from "../../lib/zone/local_data.ts";
import { dataLoader } from "../../lib/zone/sources.ts";
import { RRType } from "../../lib/proto/types.ts";
import { memoryRead } from "../_zone_fixture.ts";

const ZONE = "/zones/a.zone";
const INCLUDED = "/zones/a.inc";

/** The zone: its SOA on line 3 with `serial`, `www`, an $INCLUDE (`inc`) and `last` at the end. */
function zone(serial: number, www = "192.0.2.1"): string {
  return `$ORIGIN a.test.\n$TTL 60\n@ SOA ns hostmaster ${serial} 7200 900 1209600 60\nwww A ${www}\n` +
    `$INCLUDE ${INCLUDED}\nlast A 192.0.2.9\n`;
}

/** What local data answers for www, inc and last (A), or the RCODE-ish "none" for a missing name. */
function answers(data: LocalData): string[] {
  return ["www", "inc", "last"].map((label) => {
    const local = resolveLocal(data, `${label}.a.test`, RRType.A);
    const found = (local?.answers ?? []).flatMap((record) =>
      record.data.type === "A" ? [record.data.address] : []
    );
    return found.join(" ") || "none";
  });
}

const OLD = ["192.0.2.1", "192.0.2.5", "192.0.2.9"];

/** Runs `body` with dnsd's log lines collected, formatted as dnsd formats them. */
async function withLogs<T>(body: (lines: readonly string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(formatLogRecord(record)) },
    loggers: [{ category: ["dnsd"], lowestLevel: "info", sinks: ["memory"] }],
  });
  try {
    return await body(lines);
  } finally {
    resetSync();
  }
}

function setup() {
  const files: Record<string, string> = { [ZONE]: zone(1), [INCLUDED]: "inc A 192.0.2.5\n" };
  const load = dataLoader({
    zones: [{ file: ZONE }],
    hosts: [],
    mappings: () => ({}),
    read: memoryRead(files),
  });
  return { files, load };
}

const HELD =
  `${ZONE}:3: zone a.test. changed but its serial 1 did not: not loaded (send SIGHUP to load it anyway)`;

/** A serial that went back: loaded, with one WARNING, since secondaries will not take it (RFC 1982). */
const BACK =
  `${ZONE}:3: zone a.test. serial went back from 1 to 0: its secondaries keep what they have until ` +
  "the serial passes 1";

/** Edits of the loaded zone, and what the watcher's reload and a forced one then serve (and say). */
const edits: readonly {
  name: string;
  edit: (files: Record<string, string>) => void;
  watched: readonly string[];
  forced: readonly string[];
  warned?: string;
}[] = [
  {
    name: "an edit that keeps the serial",
    edit: (files) => (files[ZONE] = zone(1, "192.0.2.2")),
    watched: OLD,
    forced: ["192.0.2.2", "192.0.2.5", "192.0.2.9"],
  },
  {
    name: "the file cut after a whole record (it parses)",
    edit: (files) => (files[ZONE] = zone(1).slice(0, zone(1).indexOf("$INCLUDE"))),
    watched: OLD,
    forced: ["192.0.2.1", "none", "none"],
  },
  {
    name: "the file cut in the middle of a record (it does not parse)",
    edit: (files) => (files[ZONE] = zone(1).slice(0, zone(1).indexOf("192.0.2.9") + 5)),
    watched: OLD,
    forced: OLD,
  },
  {
    name: "an edit of the $INCLUDEd file only",
    edit: (files) => (files[INCLUDED] = "inc A 192.0.2.6\n"),
    watched: OLD,
    forced: ["192.0.2.1", "192.0.2.6", "192.0.2.9"],
  },
  {
    name: "an edit with a new serial",
    edit: (files) => (files[ZONE] = zone(2, "192.0.2.2")),
    watched: ["192.0.2.2", "192.0.2.5", "192.0.2.9"],
    forced: ["192.0.2.2", "192.0.2.5", "192.0.2.9"],
  },
  {
    name: "an edit with a lower serial (the operator's choice)",
    edit: (files) => (files[ZONE] = zone(0, "192.0.2.2")),
    watched: ["192.0.2.2", "192.0.2.5", "192.0.2.9"],
    forced: ["192.0.2.2", "192.0.2.5", "192.0.2.9"],
    warned: BACK,
  },
];

for (const { name, edit, watched, forced, warned } of edits) {
  test(`dataLoader() with requireNewSerial, after ${name}`, async () => {
    const { files, load } = setup();
    deepEqual(answers((await load(true)).data), OLD);
    edit(files);
    const held = watched === OLD && forced !== OLD;
    await withLogs(async (lines) => {
      const { data, errors } = await load(false, { requireNewSerial: true });
      deepEqual(answers(data), watched);
      const warnings = lines.filter((line) => line.includes(" - WARNING - "));
      const said = held ? [HELD] : warned ? [warned] : [];
      deepEqual(warnings.map((line) => line.replace(/^.* - WARNING - /, "").trimEnd()), said);
      equal(errors.length, forced === OLD ? 1 : 0, "only a parse error is an error");
    });
    deepEqual(answers((await load(false)).data), forced, "forced (SIGHUP)");
  });
}

test("dataLoader() says once why a changed zone is held back, and a forced load ends it", async () => {
  const { files, load } = setup();
  await load(true);
  files[ZONE] = zone(1, "192.0.2.2");
  await withLogs(async (lines) => {
    for (let i = 0; i < 3; i++) deepEqual(answers((await load(false, { requireNewSerial: true })).data), OLD);
    equal(lines.filter((line) => line.includes(" - WARNING - ")).length, 1, lines.join(""));
    files[ZONE] = zone(1, "192.0.2.3"); // another text under the same serial is told again
    await load(false, { requireNewSerial: true });
    equal(lines.filter((line) => line.includes(" - WARNING - ")).length, 2, lines.join(""));

    deepEqual(answers((await load(false)).data), ["192.0.2.3", "192.0.2.5", "192.0.2.9"]);
    // What SIGHUP loaded is the zone now: the watcher's next reload has nothing to hold back.
    deepEqual(answers((await load(false, { requireNewSerial: true })).data), [
      "192.0.2.3",
      "192.0.2.5",
      "192.0.2.9",
    ]);
    equal(lines.filter((line) => line.includes(" - WARNING - ")).length, 2, lines.join(""));
  });
});

test("dataLoader() with requireNewSerial reloads an unchanged zone quietly and keeps other sources live", async () => {
  const files: Record<string, string> = {
    [ZONE]: zone(1),
    [INCLUDED]: "inc A 192.0.2.5\n",
    "/hosts": "192.0.2.7 h.lan\n",
  };
  const load = dataLoader({
    zones: [{ file: ZONE }],
    hosts: ["/hosts"],
    mappings: () => ({}),
    read: memoryRead(files),
  });
  await load(true);
  files["/hosts"] = "192.0.2.8 h.lan\n";
  await withLogs(async (lines) => {
    const { data } = await load(false, { requireNewSerial: true });
    deepEqual(answers(data), OLD);
    deepEqual(resolveLocal(data, "h.lan", RRType.A)?.answers.map((record) => record.data), [
      { type: "A", address: "192.0.2.8" },
    ]);
    ok(!lines.some((line) => line.includes(" - WARNING - ")), lines.join(""));
  });
});
