/**
 * The layering check run by `deno task check`: lib/ is split into folders by concern, each a small
 * package whose `mod.ts` is its public face. A file may import its own folder's files freely, but
 * another folder only through that folder's `mod.ts`, and only a folder of a lower layer. main.ts
 * and the root mod.ts see folders only through their `mod.ts`. Two rules keep the sockets in their
 * room: the codec (`proto/`) never touches `Deno.*`, and FFI appears only in `net/`.
 *
 * `deno run --allow-read scripts/check_layers.ts` prints one line per violation (file:line) and
 * exits 1 when there is any.
 * @module
 */

/** Each folder of lib/ and its layer: a folder imports only folders of a strictly lower layer. */
export const LAYERS: Readonly<Record<string, number>> = {
  proto: 0,
  observe: 1,
  net: 1,
  dnssec: 1,
  tsig: 1,
  zone: 2,
  resolve: 3,
  block: 3,
  policy: 3,
  cache: 4,
  upstream: 4,
  xfr: 4,
  server: 5,
  config: 6,
  workers: 7,
};

/** One broken rule, at a file and line. */
export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)"(\.{1,2}\/[^"]+)"/g;
const FFI = /\bDeno\.(?:dlopen|UnsafePointer|UnsafePointerView|UnsafeCallback|UnsafeFnPointer)\b/;

/** The path `specifier` names, relative to the project root, seen from `file` (also root-relative). */
function resolvePath(file: string, specifier: string): string {
  const parts = file.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** The lib/ folder a root-relative path lies in, or null outside lib/<folder>/. */
function folderOf(path: string): string | null {
  const match = /^lib\/([^/]+)\/[^/]+$/.exec(path);
  return match ? match[1]! : null;
}

/** Source text without comments, keeping line breaks so line numbers stay true. */
function withoutComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " "))
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/**
 * Checks one file's imports and calls against the rules.
 * @param file the path from the project root, such as `lib/zone/hosts.ts`
 * @param source the file's text
 */
export function checkFile(file: string, source: string): Violation[] {
  const violations: Violation[] = [];
  const own = folderOf(file);
  const atRoot = file === "main.ts" || file === "mod.ts";
  if (own === null && !atRoot) return violations;
  if (own !== null && !(own in LAYERS)) {
    violations.push({ file, line: 1, message: `lib/${own}/ has no layer in scripts/check_layers.ts` });
  }
  const code = withoutComments(source);
  const lines = code.split("\n");
  lines.forEach((text, index) => {
    const line = index + 1;
    if (own === "proto" && /\bDeno\./.test(text)) {
      violations.push({ file, line, message: "the codec (lib/proto/) uses Deno.*: it must stay pure" });
    }
    if (own !== "net" && FFI.test(text)) {
      violations.push({ file, line, message: "FFI outside lib/net/" });
    }
    for (const match of text.matchAll(SPECIFIER)) {
      const target = resolvePath(file, match[1]!);
      const folder = folderOf(target);
      if (folder === null || folder === own) continue;
      if (!target.endsWith("/mod.ts")) {
        violations.push({
          file,
          line,
          message: `imports ${target}: another folder is imported through its mod.ts`,
        });
      }
      if (own !== null && (LAYERS[folder] ?? Infinity) >= (LAYERS[own] ?? -Infinity)) {
        violations.push({
          file,
          line,
          message:
            `lib/${own}/ (layer ${LAYERS[own]}) imports lib/${folder}/ (layer ${
              LAYERS[folder] ?? "none"
            }): ` +
            "a folder imports only lower layers",
        });
      }
    }
  });
  return violations;
}

async function* sources(root: URL): AsyncGenerator<[string, string]> {
  for (const file of ["main.ts", "mod.ts"]) yield [file, await Deno.readTextFile(new URL(file, root))];
  for await (const folder of Deno.readDir(new URL("lib/", root))) {
    if (!folder.isDirectory) continue;
    for await (const entry of Deno.readDir(new URL(`lib/${folder.name}/`, root))) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      const path = `lib/${folder.name}/${entry.name}`;
      yield [path, await Deno.readTextFile(new URL(path, root))];
    }
  }
}

/** Checks main.ts, mod.ts and every file of lib/ under `root`; files directly in lib/ are a violation. */
export async function checkTree(root: URL): Promise<Violation[]> {
  const violations: Violation[] = [];
  for await (const entry of Deno.readDir(new URL("lib/", root))) {
    if (entry.isFile) {
      violations.push({
        file: `lib/${entry.name}`,
        line: 1,
        message: "a file directly in lib/: put it in a folder",
      });
    }
  }
  for await (const [file, source] of sources(root)) violations.push(...checkFile(file, source));
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (import.meta.main) {
  const violations = await checkTree(new URL("../", import.meta.url));
  for (const { file, line, message } of violations) {
    Deno.stderr.writeSync(new TextEncoder().encode(`${file}:${line}: ${message}\n`));
  }
  if (violations.length > 0) Deno.exit(1);
}
