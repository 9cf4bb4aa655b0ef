/**
 * The layering check of `deno task check` (scripts/check_layers.ts): a table of wrong imports it
 * must catch, and the real tree, which must pass.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { checkFile, checkTree } from "../../scripts/check_layers.ts";
import { needsPermissions } from "../_tools.ts";

const rows: readonly { name: string; file: string; source: string; violations: number }[] = [
  {
    name: "an import of its own folder's file",
    file: "lib/zone/hosts.ts",
    source: 'import { nameKey } from "./zone.ts";',
    violations: 0,
  },
  {
    name: "an import of a lower folder's mod.ts",
    file: "lib/zone/hosts.ts",
    source: 'import { nameKey } from "../proto/mod.ts";',
    violations: 0,
  },
  {
    name: "an import of another folder's internals",
    file: "lib/zone/hosts.ts",
    source: 'import { nameKey } from "../proto/name.ts";',
    violations: 1,
  },
  {
    name: "an import of a higher layer",
    file: "lib/proto/codec.ts",
    source: 'import type { Zone } from "../zone/mod.ts";',
    violations: 1,
  },
  {
    name: "an import of a folder of the same layer",
    file: "lib/cache/cache.ts",
    source: 'import { forward } from "../upstream/mod.ts";',
    violations: 1,
  },
  {
    name: "an upward import of internals, on a later line",
    file: "lib/net/ffi_udp.ts",
    source: '// header\nimport type { Upstream } from "../upstream/udp_exchange.ts";',
    violations: 2,
  },
  {
    name: "main.ts reaching into a folder",
    file: "main.ts",
    source: 'import { startServer } from "./lib/server/app.ts";',
    violations: 1,
  },
  {
    name: "main.ts through a folder's mod.ts",
    file: "main.ts",
    source: 'import { startServer } from "./lib/server/mod.ts";',
    violations: 0,
  },
  {
    name: "Deno.* in the codec",
    file: "lib/proto/wire.ts",
    source: "const now = Deno.build.os;",
    violations: 1,
  },
  {
    name: "Deno.* in a comment of the codec",
    file: "lib/proto/wire.ts",
    source: "/** Pure: no `Deno.*`. */\n// Deno.listen is elsewhere",
    violations: 0,
  },
  {
    name: "FFI outside lib/net/",
    file: "lib/server/app.ts",
    source: 'const libc = Deno.dlopen("libc.so.6", {});',
    violations: 1,
  },
  {
    name: "a folder with no layer",
    file: "lib/misc/thing.ts",
    source: "",
    violations: 1,
  },
];

for (const row of rows) {
  test(`checkFile() on ${row.name}: ${row.violations} violation(s)`, () => {
    equal(checkFile(row.file, row.source).length, row.violations);
  });
}

test("checkFile() names the file and line of a wrong import", () => {
  const [violation] = checkFile("lib/zone/hosts.ts", '\n\nimport { nameKey } from "../proto/name.ts";');
  deepEqual({ file: violation!.file, line: violation!.line }, { file: "lib/zone/hosts.ts", line: 3 });
});

test(
  needsPermissions(["read"], "the project's lib/, main.ts and mod.ts follow the layering rules"),
  async () => {
    deepEqual(await checkTree(new URL("../../", import.meta.url)), []);
  },
);
