/**
 * mappingsModule(): mappings.ts is imported again only when its text changed, since Deno keeps
 * every module it imports for the life of the process. The importer and the file are injected,
 * so the test counts imports and changes the text at will.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, rejects, strictEqual } from "node:assert/strict";
import { DataError } from "../../lib/proto/errors.ts";
import { mappingsModule } from "../../lib/zone/mappings_module.ts";
import type { Mappings } from "../../lib/zone/static_map.ts";

const URL_OF = new URL("file:///srv/dnsd/mappings.ts");
const INITIAL: Mappings = { "example.com": "8.8.8.8" };

/** A mappings.ts whose text the test sets, and an importer that records each specifier. */
function setup() {
  const file = { text: `export default { "example.com": "8.8.8.8" };\n` };
  const imported: string[] = [];
  const modules = new Map<string, unknown>(); // what importing the text gives, by text
  const source = mappingsModule({
    url: URL_OF,
    initial: INITIAL,
    read: () => Promise.resolve(file.text),
    importer: (specifier) => {
      imported.push(specifier);
      const module = modules.get(file.text);
      if (module instanceof Error) return Promise.reject(module);
      return Promise.resolve(module ?? { default: { "example.com": "192.0.2.1" } });
    },
  });
  return { file, imported, modules, source };
}

test("mappingsModule() does not import an unchanged mappings.ts again, over 1,000 reloads", async () => {
  const { imported, source } = setup();
  for (let i = 0; i < 1_000; i++) strictEqual(await source(), INITIAL);
  deepEqual(imported, []);
});

test("mappingsModule() imports once per change, each under a URL of its own", async () => {
  const { file, imported, modules, source } = setup();
  await source(); // startup: the static import's table
  const edited = { "example.com": "192.0.2.99" };
  file.text = `export default { "example.com": "192.0.2.99" };\n`;
  modules.set(file.text, { default: edited });
  for (let i = 0; i < 10; i++) strictEqual(await source(), edited);
  deepEqual(imported, [`${URL_OF.href}?change=1`]);

  file.text = `export default { "example.com": "8.8.8.8" };\n`; // back as it was: a change too
  modules.set(file.text, { default: INITIAL });
  for (let i = 0; i < 10; i++) deepEqual(await source(), INITIAL);
  deepEqual(imported, [`${URL_OF.href}?change=1`, `${URL_OF.href}?change=2`]);
});

test("mappingsModule() fails again without importing again until a broken mappings.ts changes", async () => {
  const { file, imported, modules, source } = setup();
  await source();
  file.text = `export default { "example.com": "8.8.8.8" ;\n`;
  modules.set(file.text, new SyntaxError("Expected ',', got ';'"));
  for (let i = 0; i < 5; i++) await rejects(source(), SyntaxError);
  equal(imported.length, 1);

  file.text = `export const nothing = 1;\n`;
  modules.set(file.text, { nothing: 1 });
  await rejects(
    source(),
    (error: unknown) => error instanceof DataError && /default export/.test(error.message),
  );
  equal(imported.length, 2);

  const fixed = { "example.com": "192.0.2.98" };
  file.text = `export default { "example.com": "192.0.2.98" };\n`;
  modules.set(file.text, { default: fixed });
  strictEqual(await source(), fixed);
  strictEqual(await source(), fixed);
  equal(imported.length, 3);
});
