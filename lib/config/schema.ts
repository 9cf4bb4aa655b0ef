/**
 * The config file's schema, made once from the option table ({@link OPTIONS}) with zod: it checks
 * a parsed file, and `z.toJSONSchema` turns it into `docs/dnsd.schema.json` for editors. zod
 * rather than hand-written checks: its types are the ones the code uses, and the JSON Schema
 * comes from the same object, so the three cannot drift apart.
 * @module
 */
import { z } from "zod";
import { fileKey, OPTIONS, type OptionSpec } from "./options.ts";

/** What an `[[assert]]` may expect instead of a list of RDATA. */
export const OUTCOMES = ["NXDOMAIN", "NODATA", "BLOCKED", "REFUSED", "FORWARDED"] as const;

/** One outcome of {@link OUTCOMES}. */
export type Outcome = typeof OUTCOMES[number];

/** A value of `[mappings]`: an address, addresses, or a record set (type -> value(s), and `ttl`). */
const mappingValue = z.union([
  z.string(),
  z.array(z.string()),
  z.record(z.string(), z.union([z.string(), z.array(z.string()), z.number().int()])),
]);

/** An `[[assert]]` table: a question and what dnsd must answer to it, checked before a config is used. */
const assertion = z.strictObject({
  name: z.string().min(1).describe("the name to ask for"),
  type: z.string().min(1).default("A").describe("the record type (default A)"),
  expect: z.union([z.array(z.string()), z.enum(OUTCOMES)]).describe(
    "RDATA in presentation form, or NXDOMAIN, NODATA, BLOCKED, REFUSED or FORWARDED",
  ),
  upstream: z.string().optional().describe('with expect = "FORWARDED": the upstream, HOST:PORT'),
});

/** The zod type of one option's file value. */
function valueSchema(spec: OptionSpec): z.ZodType {
  const type = spec.type;
  switch (type.kind) {
    case "flag":
      return z.boolean();
    case "integer":
      return z.number().int().min(type.min).max(type.max);
    case "choice":
      return z.enum(type.choices as [string, ...string[]]);
    case "text":
      return z.string();
    case "list":
      return z.array(z.string());
  }
}

/** Keys of the file: every option that is not command-line only. */
const settings: Record<string, z.ZodType> = Object.fromEntries(
  OPTIONS.filter((spec) => !spec.cliOnly).map((spec) => [
    fileKey(spec),
    valueSchema(spec).optional().describe(spec.summary),
  ]),
);

/** The whole file: the settings, `[mappings]` and `[[assert]]`; any other key is an error. */
export const configSchema = z.strictObject({
  ...settings,
  mappings: z.record(z.string(), mappingValue).optional().describe(
    "local names in place of mappings.ts: name = address, [addresses] or { TYPE = value(s), ttl = N }",
  ),
  assert: z.array(assertion).optional().describe("self-test assertions, run before a config is used"),
});

/** A config file as the schema leaves it. */
export type ConfigFile = z.infer<typeof configSchema>;

/** One `[[assert]]`, as the schema leaves it. */
export type AssertionSpec = z.infer<typeof assertion>;

/** What a setting must be, in words, for an error message. */
export function allowedText(spec: OptionSpec): string {
  const type = spec.type;
  switch (type.kind) {
    case "flag":
      return "true or false";
    case "integer":
      return `a whole number from ${type.min} to ${type.max}`;
    case "choice":
      return `one of ${type.choices.map((choice) => `"${choice}"`).join(", ")}`;
    case "text":
      return "a string";
    case "list":
      return 'a list of strings, ["..."]';
  }
}

/** The JSON Schema of the file (draft 2020-12), for `docs/dnsd.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input" }),
    $id: "https://github.com/dnsd/dnsd/docs/dnsd.schema.json",
    title: "dnsd configuration",
  };
}
