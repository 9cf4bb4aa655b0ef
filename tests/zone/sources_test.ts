/**
 * dataLoader() over an in-memory file map that tests change between loads: a strict first load
 * throws, a non-strict reload keeps the last good data of each failed source and still picks up
 * the others, and `files` names every file read.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { resolveLocal } from "../../lib/resolve/authority.ts";
import { DataError, ParseError } from "../../lib/proto/errors.ts";
import type { LocalData } from "../../lib/zone/local_data.ts";
import { dataLoader } from "../../lib/zone/sources.ts";
import type { Mappings } from "../../lib/zone/static_map.ts";
import { RRType } from "../../lib/proto/types.ts";
import { memoryRead } from "../_zone_fixture.ts";

/** A zone with one A record at www; `extra` lines go at the end (line 5 on). */
function zone(apex: string, address: string, extra = ""): string {
  return `$ORIGIN ${apex}.\n$TTL 60\n@ SOA ns hostmaster 1 7200 900 1209600 60\nwww A ${address}\n${extra}`;
}

/** A line 5 whose address, at column 11, is not one. */
const BROKEN_LINE = "bad     A 999.0.0.1\n";

/** The addresses local data answers for `name` A, or null when it is not local data's name. */
function addresses(data: LocalData, name: string): string[] | null {
  const local = resolveLocal(data, name, RRType.A);
  if (!local) return null;
  return local.answers.flatMap((record) => record.data.type === "A" ? [record.data.address] : []);
}

/** A loader over two zones, a hosts file and a mappings table, all of which the test may change. */
function setup() {
  const files: Record<string, string> = {
    "/zones/a.zone": zone("a.test", "192.0.2.10"),
    "/zones/b.zone": zone("b.test", "192.0.2.20"),
    "/etc/hosts": "192.0.2.30 h.lan\n",
  };
  const source = { mappings: (): Mappings => ({ "m.lan": "192.0.2.40" }) };
  const load = dataLoader({
    zones: [{ file: "/zones/a.zone" }, { file: "/zones/b.zone", origin: "b.test" }],
    hosts: ["/etc/hosts"],
    mappings: () => source.mappings(),
    read: memoryRead(files),
  });
  return { files, source, load };
}

test("dataLoader() reads zones, hosts and mappings", async () => {
  const { load } = setup();
  const { data, files, errors } = await load(true);
  deepEqual(errors, []);
  deepEqual(files, ["/zones/a.zone", "/zones/b.zone", "/etc/hosts"]);
  deepEqual(
    ["www.a.test", "www.b.test", "h.lan", "m.lan"].map((name) => addresses(data, name)),
    [["192.0.2.10"], ["192.0.2.20"], ["192.0.2.30"], ["192.0.2.40"]],
  );
  equal(data.size, 2 + 2 + 2 + 1); // SOA + A per zone, A + PTR from hosts, one mapping
});

test("dataLoader() throws a ParseError with file:line:column on a strict first load", async () => {
  const { files, load } = setup();
  files["/zones/b.zone"] += BROKEN_LINE;
  await rejects(load(true), (error: unknown) => {
    ok(error instanceof ParseError, String(error));
    deepEqual(error.location, { file: "/zones/b.zone", line: 5, column: 11 });
    ok(error.message.startsWith("/zones/b.zone:5:11: "), error.message);
    return true;
  });
});

test("dataLoader() keeps a broken zone file's previous zone and picks up the other files", async () => {
  const { files, load } = setup();
  await load(true);
  files["/zones/a.zone"] = zone("a.test", "192.0.2.11", BROKEN_LINE);
  files["/zones/b.zone"] = zone("b.test", "192.0.2.21");
  files["/etc/hosts"] = "192.0.2.31 h.lan\n";
  const broken = await load(false);
  equal(broken.errors.length, 1);
  const [error] = broken.errors;
  ok(error instanceof ParseError && error.message.startsWith("/zones/a.zone:5:11: "), String(error));
  deepEqual(broken.files, ["/zones/a.zone", "/zones/b.zone", "/etc/hosts"]);
  deepEqual(
    ["www.a.test", "www.b.test", "h.lan"].map((name) => addresses(broken.data, name)),
    [["192.0.2.10"], ["192.0.2.21"], ["192.0.2.31"]],
  );

  files["/zones/a.zone"] = zone("a.test", "192.0.2.12");
  const fixed = await load(false);
  deepEqual(fixed.errors, []);
  deepEqual(addresses(fixed.data, "www.a.test"), ["192.0.2.12"]);
});

test("dataLoader() keeps the previous zone of a zone file that disappears", async () => {
  const { files, load } = setup();
  await load(true);
  delete files["/zones/a.zone"];
  const { data, errors } = await load(false);
  equal(errors.length, 1);
  ok(errors[0] instanceof DataError && errors[0].message.includes("/zones/a.zone"), String(errors[0]));
  deepEqual(addresses(data, "www.a.test"), ["192.0.2.10"]);
});

test("dataLoader() keeps a broken hosts file's previous records", async () => {
  const { files, load } = setup();
  await load(true);
  files["/etc/hosts"] = "192.0.2.32 g.lan\n999.1.1.1 h.lan\n";
  const { data, errors } = await load(false);
  equal(errors.length, 1);
  ok(errors[0] instanceof ParseError && errors[0].message.startsWith("/etc/hosts:2:1: "), String(errors[0]));
  deepEqual(addresses(data, "h.lan"), ["192.0.2.30"]);
  equal(addresses(data, "g.lan"), null); // nothing from the broken file, not even its good lines
  deepEqual(addresses(data, "www.b.test"), ["192.0.2.20"]);
});

test("dataLoader() keeps the previous mappings when the table is bad or cannot be read", async () => {
  const { source, load } = setup();
  await load(true);
  source.mappings = () => ({ "m.lan": "999.1.1.1", "n.lan": "192.0.2.41" });
  const bad = await load(false);
  equal(bad.errors.length, 1);
  ok(bad.errors[0] instanceof DataError && bad.errors[0].message.includes('"m.lan"'), String(bad.errors[0]));
  deepEqual(addresses(bad.data, "m.lan"), ["192.0.2.40"]);
  equal(addresses(bad.data, "n.lan"), null);

  source.mappings = () => {
    throw new SyntaxError("mappings.ts: Unexpected token");
  };
  const unreadable = await load(false);
  equal(unreadable.errors.length, 1);
  ok(unreadable.errors[0] instanceof DataError, String(unreadable.errors[0]));
  ok(unreadable.errors[0].message.includes("Unexpected token"), unreadable.errors[0].message);
  deepEqual(addresses(unreadable.data, "m.lan"), ["192.0.2.40"]);

  source.mappings = () => ({ "n.lan": "192.0.2.41" });
  const fixed = await load(false);
  deepEqual(fixed.errors, []);
  equal(addresses(fixed.data, "m.lan"), null);
  deepEqual(addresses(fixed.data, "n.lan"), ["192.0.2.41"]);
});

test("dataLoader() lists $INCLUDEd files among the files read", async () => {
  const { files, load } = setup();
  files["/zones/b.zone"] = zone("b.test", "192.0.2.20", "$INCLUDE more.inc\n");
  files["/zones/more.inc"] = "extra A 192.0.2.22\n$INCLUDE /shared/deep.inc\n";
  files["/shared/deep.inc"] = "deep.b.test. A 192.0.2.23\n";
  const { data, files: read } = await load(true);
  deepEqual(read, ["/zones/a.zone", "/zones/b.zone", "/zones/more.inc", "/shared/deep.inc", "/etc/hosts"]);
  deepEqual(addresses(data, "extra.b.test"), ["192.0.2.22"]);
  deepEqual(addresses(data, "deep.b.test"), ["192.0.2.23"]);
});

test("dataLoader() rejects two zone files with the same apex with a DataError", async () => {
  const files = {
    "/zones/a.zone": zone("a.test", "192.0.2.10"),
    "/zones/copy.zone": zone("A.test", "192.0.2.20"),
  };
  const load = dataLoader({
    zones: [{ file: "/zones/a.zone" }, { file: "/zones/copy.zone" }],
    hosts: [],
    mappings: () => ({}),
    read: memoryRead(files),
  });
  await rejects(load(true), (error: unknown) => {
    ok(error instanceof DataError && !(error instanceof ParseError), String(error));
    equal(error.message, 'zone "A.test" is loaded twice');
    return true;
  });
});

test("dataLoader() loads a zone in any order: names together are built as read, others from all records", async () => {
  const head = "$ORIGIN o.test.\n$TTL 60\n@ SOA ns h 1 7200 900 1209600 60\n@ NS ns\nns A 192.0.2.53\n";
  const together = `${head}www A 192.0.2.1\nwww AAAA 2001:db8::1\nmail MX 10 www\n`;
  const apart = `${head}www A 192.0.2.1\nmail MX 10 www\nwww AAAA 2001:db8::1\n`; // www comes back
  const answers = async (text: string) => {
    const load = dataLoader({
      zones: [{ file: "/o.zone" }],
      hosts: [],
      mappings: () => ({}),
      read: memoryRead({ "/o.zone": text }),
    });
    const { data, errors } = await load(true);
    deepEqual(errors, []);
    return [RRType.A, RRType.AAAA, RRType.MX].map((type) =>
      resolveLocal(data, "www.o.test", type)?.answers.length ?? -1
    ).concat(resolveLocal(data, "mail.o.test", RRType.MX)?.answers.length ?? -1);
  };
  deepEqual(await answers(together), [1, 1, 0, 1]);
  deepEqual(await answers(apart), [1, 1, 0, 1]);
});
