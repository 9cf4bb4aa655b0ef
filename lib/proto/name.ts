/**
 * Name comparison: one function decides when two names are the same (RFC 4343: ASCII case
 * folding; a trailing root dot is optional), and the one case fold, for text and for wire octets.
 * @module
 */

const NON_ASCII = /[\u0080-\uffff]/;
const CAPITALS = /[A-Z]+/g;

/** The key two names share exactly when they are the same DNS name. */
export function nameKey(name: string): string {
  return foldCase(withoutRootDot(name));
}

/**
 * A name's text with its ASCII capitals in lower case and every other character as it is: the one
 * case fold for names in text (RFC 4343 section 3). `toLowerCase()` alone would also fold non-ASCII
 * letters, some into ASCII (U+212A KELVIN SIGN to "k").
 */
export function foldCase(text: string): string {
  // On ASCII text (every name read off the wire) the native fold is the ASCII fold, and faster.
  return NON_ASCII.test(text)
    ? text.replace(CAPITALS, (capitals) => capitals.toLowerCase())
    : text.toLowerCase();
}

/** An octet of a wire name with an ASCII capital in lower case: {@link foldCase} for bytes. */
export function foldOctet(octet: number): number {
  return octet >= 0x41 && octet <= 0x5a ? octet | 0x20 : octet;
}

/** Drops one trailing unescaped dot, so "example.com." and "example.com" are one name. */
export function withoutRootDot(name: string): string {
  if (!name.endsWith(".")) return name;
  let backslashes = 0;
  for (let i = name.length - 2; i >= 0 && name[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 0 ? name.slice(0, -1) : name;
}

/** A name as people read it in logs: the root shows as ".". */
export function displayName(name: string): string {
  return name === "" ? "." : name;
}

/** The index of the first dot that ends a label (not one escaped as `\.`), or -1. */
function labelEnd(name: string): number {
  let dot = name.indexOf(".");
  if (!name.includes("\\")) return dot;
  while (dot >= 0) {
    let backslashes = 0;
    for (let i = dot - 1; i >= 0 && name[i] === "\\"; i--) backslashes++;
    if (backslashes % 2 === 0) return dot;
    dot = name.indexOf(".", dot + 1);
  }
  return -1;
}

/** The name one label up (`www.example.com` -> `example.com`); the parent of a single label is the root, "". */
export function parentName(name: string): string {
  const dot = labelEnd(name);
  return dot < 0 ? "" : name.slice(dot + 1);
}

/** Whether `name` is `ancestor` or below it; both must be keys ({@link nameKey}). */
export function isAtOrBelow(name: string, ancestor: string): boolean {
  if (ancestor === "") return true;
  if (name === ancestor) return true;
  if (!name.endsWith(ancestor) || name[name.length - ancestor.length - 1] !== ".") return false;
  // The dot before the ancestor must end a label, not be an escaped `\.` inside one.
  let backslashes = 0;
  for (let i = name.length - ancestor.length - 2; i >= 0 && name[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 0;
}
