/**
 * Writes what the config file's schema says to the two places that show it: `docs/dnsd.schema.json`
 * (JSON Schema, for editors) and the key table of `docs/configuration.md`. `deno task config-docs`
 * runs it; tests/config/config_docs_test.ts checks both are current.
 * @module
 */
import { fileKey, loadConfigJsonSchema, OPTIONS, type OptionSpec } from "../lib/config/mod.ts";

/** Where the generated key table sits in docs/configuration.md. */
export const TABLE_START = "<!-- keys: made by scripts/config_reference.ts -->";
/** Where it ends. */
export const TABLE_END = "<!-- end of keys -->";

/** The JSON Schema file's text. */
export async function schemaText(): Promise<string> {
  return JSON.stringify(await loadConfigJsonSchema(), null, 2) + "\n";
}

function typeText(spec: OptionSpec): string {
  const type = spec.type;
  switch (type.kind) {
    case "flag":
      return "Boolean";
    case "integer":
      return `Integer, ${type.min} to ${type.max}`;
    case "choice":
      return `One of ${type.choices.map((choice) => `\`"${choice}"\``).join(", ")}`;
    case "text":
      return "String";
    case "list":
      return "List of strings";
  }
}

function defaultText(spec: OptionSpec): string {
  if (spec.default === undefined) return "none";
  return `\`${JSON.stringify(spec.default)}\``;
}

/** `text` wrapped at 110 characters, later lines indented two spaces (a Markdown list item). */
function wrapped(text: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > 110) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join("\n");
}

/** The key reference: one list item per key, from the option table. */
export function keyTable(): string {
  return OPTIONS.filter((spec) => !spec.cliOnly).map((spec) =>
    wrapped(
      `- \`${fileKey(spec)}\` (\`--${spec.flag}\`): ${spec.summary}. ${typeText(spec)}; default ` +
        `${defaultText(spec)}; ${spec.restart ? "needs a restart" : "applies on reload"}.`,
    )
  ).join("\n");
}

/** `markdown` with its key table replaced by the current one. */
export function withKeyTable(markdown: string): string {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`docs/configuration.md has no ${TABLE_START} ... ${TABLE_END}`);
  }
  return `${markdown.slice(0, start + TABLE_START.length)}\n\n${keyTable()}\n\n${markdown.slice(end)}`;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  await Deno.writeTextFile(new URL("docs/dnsd.schema.json", root), await schemaText());
  const docs = new URL("docs/configuration.md", root);
  await Deno.writeTextFile(docs, withKeyTable(await Deno.readTextFile(docs)));
  // deno-lint-ignore no-console
  console.log("wrote docs/dnsd.schema.json and the key table of docs/configuration.md");
}
