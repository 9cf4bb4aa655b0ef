/**
 * createReloader(): the swap is one assignment, reloads never overlap (one running, at most one
 * queued), a failed load keeps the old data, and errors reach the log with their file:line:column.
 * Loaders are gated by promises the test settles, so nothing sleeps.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, strictEqual } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { resolveLocal } from "../../lib/resolve/authority.ts";
import { buildLocalData, type LocalData } from "../../lib/zone/local_data.ts";
import { formatLogRecord } from "../../lib/observe/log_format.ts";
import { createReloader } from "../../lib/zone/reloader.ts";
import { dataLoader, type LoadedData, type ReloadOptions } from "../../lib/zone/sources.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { RRType } from "../../lib/proto/types.ts";
import { memoryRead } from "../_zone_fixture.ts";

/** Loaded data with one mapping, `x.lan` -> `address`, read from `files`. */
function loaded(address: string, files: readonly string[] = ["/mappings.ts"]): LoadedData {
  const data = buildLocalData({ zones: [], hosts: [], mappings: mappingRecords({ "x.lan": address }) });
  return { data, files, errors: [] };
}

/** The addresses local data answers for `name` A. */
function addresses(data: LocalData, name: string): string[] {
  const local = resolveLocal(data, name, RRType.A);
  return (local?.answers ?? []).flatMap((record) => record.data.type === "A" ? [record.data.address] : []);
}

/** A loader whose every call waits until the test settles it; `called(n)` resolves at the nth call. */
function gatedLoader() {
  const gates: PromiseWithResolvers<LoadedData>[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    gates,
    load(): Promise<LoadedData> {
      const gate = Promise.withResolvers<LoadedData>();
      gates.push(gate);
      for (const waiter of waiters) if (gates.length >= waiter.count) waiter.resolve();
      return gate.promise;
    },
    called(count: number): Promise<void> {
      if (gates.length >= count) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.push({ count, resolve });
      return promise;
    },
  };
}

/** Runs `body` with LogTape writing dnsd's lines, formatted as dnsd formats them, into an array. */
async function withLogs(body: (lines: readonly string[]) => Promise<void>): Promise<void> {
  const lines: string[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  try {
    await body(lines);
  } finally {
    resetSync();
  }
}

test("createReloader() serves the old data until the new is loaded, then swaps it whole", async () => {
  const files: Record<string, string> = {
    "/zones/a.zone":
      "a.test. 60 SOA ns.a.test. h.a.test. 1 7200 900 1209600 60\nwww.a.test. 60 A 192.0.2.1\n",
    "/etc/hosts": "192.0.2.2 h.lan\n",
  };
  const load = dataLoader({
    zones: [{ file: "/zones/a.zone" }],
    hosts: ["/etc/hosts"],
    mappings: () => ({}),
    read: memoryRead(files),
  });
  const gated = gatedLoader();
  const reloader = createReloader(await load(true), gated.load);
  const held = reloader.current(); // what a query in flight holds

  files["/zones/a.zone"] = files["/zones/a.zone"]!.replace("192.0.2.1", "192.0.2.11");
  files["/etc/hosts"] = "192.0.2.12 h.lan\n";
  const done = reloader.reload("test");
  await gated.called(1);
  strictEqual(reloader.current(), held, "swapped before the load finished");
  gated.gates[0]!.resolve(await load(false));
  await done;

  const now = reloader.current();
  ok(now !== held);
  deepEqual([addresses(now, "www.a.test"), addresses(now, "h.lan")], [["192.0.2.11"], ["192.0.2.12"]]);
  // The held data is untouched by the reload: both sources still give the old answers.
  deepEqual([addresses(held, "www.a.test"), addresses(held, "h.lan")], [["192.0.2.1"], ["192.0.2.2"]]);
});

test("createReloader() runs overlapping reloads as one running and one queued", async () => {
  const gated = gatedLoader();
  const reloader = createReloader(loaded("192.0.2.1"), gated.load);
  const first = reloader.reload("first");
  const second = reloader.reload("second");
  const third = reloader.reload("third");
  strictEqual(second, first);
  strictEqual(third, first);
  await gated.called(1);
  equal(gated.gates.length, 1);

  gated.gates[0]!.resolve(loaded("192.0.2.2"));
  await gated.called(2); // the queued reload, for the second and third calls together
  deepEqual(addresses(reloader.current(), "x.lan"), ["192.0.2.2"]);
  gated.gates[1]!.resolve(loaded("192.0.2.3"));
  await first;
  equal(gated.gates.length, 2);
  deepEqual(addresses(reloader.current(), "x.lan"), ["192.0.2.3"]);

  const later = reloader.reload("later"); // nothing runs now, so this starts afresh
  await gated.called(3);
  gated.gates[2]!.resolve(loaded("192.0.2.4"));
  await later;
  equal(gated.gates.length, 3);
  deepEqual(addresses(reloader.current(), "x.lan"), ["192.0.2.4"]);
});

test("createReloader() gives the loader its options, and a SIGHUP queued behind watcher reloads is kept", async () => {
  const gated = gatedLoader();
  const seen: (ReloadOptions | undefined)[] = [];
  const reloader = createReloader(loaded("192.0.2.1"), (options) => {
    seen.push(options);
    return gated.load();
  });
  const watched = { requireNewSerial: true } as const;
  const first = reloader.reload("a data file changed", watched);
  void reloader.reload("a data file changed", watched);
  void reloader.reload("SIGHUP");
  void reloader.reload("a data file changed", watched); // does not turn the queued SIGHUP into a watched one
  await withLogs(async (lines) => {
    await gated.called(1);
    gated.gates[0]!.resolve(loaded("192.0.2.2"));
    await gated.called(2);
    gated.gates[1]!.resolve(loaded("192.0.2.3"));
    await first;
    ok(lines.some((line) => line.includes(" - INFO - Reloading local data (SIGHUP)\n")), lines.join(""));
  });
  deepEqual(seen, [watched, {}]);

  // Watcher reloads queued together stay watched ones.
  const again = reloader.reload("a data file changed", watched);
  void reloader.reload("a data file changed", watched);
  await gated.called(3);
  gated.gates[2]!.resolve(loaded("192.0.2.4"));
  await gated.called(4);
  gated.gates[3]!.resolve(loaded("192.0.2.5"));
  await again;
  deepEqual(seen, [watched, {}, watched, watched]);
});

test("createReloader() keeps the old data and files when the loader throws", async () => {
  const told: (readonly string[])[] = [];
  const initial = loaded("192.0.2.1", ["/old"]);
  const reloader = createReloader(
    initial,
    () => Promise.reject(new Error("disk on fire")),
    (files) => told.push(files),
  );
  await withLogs(async (lines) => {
    await reloader.reload("test"); // resolves: a failed reload is logged, not thrown
    strictEqual(reloader.current(), initial.data);
    deepEqual(reloader.files(), ["/old"]);
    deepEqual(told, []);
    ok(
      lines.some((line) =>
        / - ERROR - Reload failed, keeping the running configuration and data: disk on fire/.test(line)
      ),
    );
  });
});

test("createReloader() tells onFiles the files of the new data", async () => {
  const told: (readonly string[])[] = [];
  const reloader = createReloader(
    loaded("192.0.2.1", ["/old"]),
    () => Promise.resolve(loaded("192.0.2.2", ["/zones/a.zone", "/zones/a.inc"])),
    (files) => told.push(files),
  );
  await reloader.reload("test");
  deepEqual(told, [["/zones/a.zone", "/zones/a.inc"]]);
  deepEqual(reloader.files(), ["/zones/a.zone", "/zones/a.inc"]);
});

test("createReloader() logs a broken zone file's file:line:column at ERROR and keeps all the data", async () => {
  const good = "$ORIGIN a.test.\n$TTL 60\n@ SOA ns h 1 7200 900 1209600 60\nwww A 192.0.2.1\n";
  const files: Record<string, string> = { "/zones/a.zone": good };
  const load = dataLoader({
    zones: [{ file: "/zones/a.zone" }],
    hosts: [],
    mappings: () => ({}),
    read: memoryRead(files),
  });
  const reloader = createReloader(await load(true), () => load(false));
  files["/zones/a.zone"] = `${good}www AAAA 2001:db8::1\nmail MX ten mail\n`;
  await withLogs(async (lines) => {
    await reloader.reload("file changed");
    const errors = lines.filter((line) => line.includes(" - ERROR - "));
    equal(errors.length, 2, lines.join(""));
    ok(errors[0]!.includes("/zones/a.zone:6:9: "), errors[0]);
    ok(
      errors[1]!.includes("Reload failed, keeping the running configuration and data (1 errors)"),
      errors[1],
    );
    // A reload is a transaction: nothing of it is used, and the log does not say it reloaded.
    ok(!lines.some((line) => line.includes("Local data reloaded")), lines.join(""));
  });
  deepEqual(addresses(reloader.current(), "www.a.test"), ["192.0.2.1"]);
  equal(resolveLocal(reloader.current(), "www.a.test", RRType.AAAA)?.answers.length, 0);
});
