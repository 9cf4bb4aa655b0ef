/**
 * A digest of a file's text, to tell whether the file changed since it was last loaded.
 * @module
 */

const encoder = new TextEncoder();

/** SHA-256 of `text` (as UTF-8), in hex. */
export async function digestOf(text: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(hash, (octet) => octet.toString(16).padStart(2, "0")).join("");
}
