/**
 * mappings.ts read again on reload, when dnsd runs from source. Deno keeps every module it has
 * imported for the life of the process, and a module is evaluated afresh only under a new URL, so
 * each import is memory never given back (10,000 reloads once cost 95 MiB). The file is therefore
 * imported again only when its text changed: a SHA-256 of the text is compared with the one last
 * imported, and a new URL is taken per change, not per reload.
 * @module
 */
import { DataError } from "../proto/mod.ts";
import { digestOf } from "./digest.ts";
import type { Mappings } from "./static_map.ts";

/** Where mappings.ts is and how to read and import it. */
export interface MappingsModuleOptions {
  /** The module's `file:` URL. */
  readonly url: URL;
  /** The table the process started with (the static import), taken to be the file's text now. */
  readonly initial: Mappings;
  /** Imports a module by specifier (main.ts passes `import()`, which a library cannot analyse). */
  readonly importer: (specifier: string) => Promise<unknown>;
  /** Reads the file's text; defaults to `Deno.readTextFile`. */
  readonly read?: (url: URL) => Promise<string>;
}

/** The default export of an imported mappings.ts, if it is an object. */
function tableOf(module: unknown, url: URL): Mappings {
  const table = typeof module === "object" && module !== null && "default" in module
    ? module.default
    : undefined;
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new DataError(`${url.pathname}: the default export is not a table of names`);
  }
  return table as Mappings; // each entry is checked by mappingRecords()
}

/**
 * Returns the current table on each call: the last one imported while the text is unchanged, or
 * the file imported afresh once it changed. A text that fails to import fails again, without
 * another import, until it changes.
 */
export function mappingsModule(options: MappingsModuleOptions): () => Promise<Mappings> {
  const read = options.read ?? ((url: URL) => Deno.readTextFile(url));
  let table = options.initial;
  let digest: string | undefined; // of the text `table` came from; unknown until the first call
  let failed: { readonly digest: string; readonly error: unknown } | undefined;
  let imports = 0;

  return async function mappings() {
    const now = await digestOf(await read(options.url));
    if (digest === undefined) digest = now; // the first call follows the static import at startup
    if (now === digest) return table;
    if (failed?.digest === now) throw failed.error;
    try {
      const fresh = tableOf(await options.importer(`${options.url.href}?change=${++imports}`), options.url);
      [table, digest, failed] = [fresh, now, undefined];
      return table;
    } catch (error) {
      failed = { digest: now, error };
      throw error;
    }
  };
}
