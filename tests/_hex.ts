/**
 * Test helpers for byte vectors written as annotated hex: `#` starts a comment, whitespace is free.
 * @module
 */

/** Parses annotated hex text into octets. */
export function parseHex(text: string): Uint8Array {
  const digits = text.replace(/#[^\n]*/g, "").replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`Not hex: ${digits.slice(0, 40)}...`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** A tagged template for inline vectors: hex`abcd 0100 # id, flags`. */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): Uint8Array {
  return parseHex(String.raw(strings, ...values));
}

/** Reads a vector from tests/testdata/. */
export async function readVector(file: string): Promise<Uint8Array> {
  return parseHex(await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url)));
}

/** Formats octets as lowercase hex, for readable assertion failures. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (octet) => octet.toString(16).padStart(2, "0")).join("");
}
