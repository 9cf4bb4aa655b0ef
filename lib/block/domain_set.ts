/**
 * A set of domains that answers "which listed domain is the longest suffix of this name?" without
 * allocating: the name is hashed once from its last character to its first, and the hash at each
 * label boundary is the hash of that suffix, looked up in a map from hash to listed name. Slicing
 * the name at each dot and asking a `Set<string>` would make a string per label per query.
 * @module
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Keys stay small integers (Smis), which a Map looks up fastest. */
const SLOT_MASK = 0x3fffffff;
const DOT = 46;
const BACKSLASH = 92;

/** One step of FNV-1a over an ASCII-folded character code. */
function step(hash: number, code: number): number {
  return Math.imul(hash ^ (code >= 65 && code <= 90 ? code | 0x20 : code), FNV_PRIME);
}

/** The slot of a key: FNV-1a over its characters from last to first. */
function slotOf(key: string): number {
  let hash = FNV_OFFSET;
  for (let i = key.length - 1; i >= 0; i--) hash = step(hash, key.charCodeAt(i));
  return hash & SLOT_MASK;
}

/** Whether the dot at `i` is escaped (`\.` inside a label): an odd run of backslashes before it. */
function escapedAt(name: string, i: number): boolean {
  let backslashes = 0;
  for (let j = i - 1; j >= 0 && name.charCodeAt(j) === BACKSLASH; j--) backslashes++;
  return backslashes % 2 === 1;
}

/** Whether `name[from, end)` is `key`, ASCII case folded (`key` is folded already). */
function sameText(key: string, name: string, from: number, end: number): boolean {
  if (key.length !== end - from) return false;
  for (let i = 0; i < key.length; i++) {
    const code = name.charCodeAt(from + i);
    if ((code >= 65 && code <= 90 ? code | 0x20 : code) !== key.charCodeAt(i)) return false;
  }
  return true;
}

/** Domains (folded keys, no trailing dot), each standing for itself and every name below it. */
export class DomainSet {
  /** Listed names by slot; the rare slot two names share holds both. */
  readonly #slots = new Map<number, string | string[]>();
  #size = 0;

  /**
   * Makes a set of `keys`.
   * @param keys folded names without a trailing dot (as lib/block/list_parser.ts gives them)
   */
  constructor(keys: Iterable<string> = []) {
    for (const key of keys) this.add(key);
  }

  /** Adds `key` (folded, no trailing dot); adding it again changes nothing. */
  add(key: string): void {
    const slot = slotOf(key);
    const held = this.#slots.get(slot);
    if (held === undefined) this.#slots.set(slot, key);
    else if (typeof held === "string") {
      if (held === key) return;
      this.#slots.set(slot, [held, key]);
    } else {
      if (held.includes(key)) return;
      held.push(key);
    }
    this.#size++;
  }

  /** How many domains are listed. */
  get size(): number {
    return this.#size;
  }

  #holds(slot: number, name: string, from: number, end: number): boolean {
    const held = this.#slots.get(slot);
    if (held === undefined) return false;
    if (typeof held === "string") return sameText(held, name, from, end);
    return held.some((key) => sameText(key, name, from, end));
  }

  /**
   * The length of the longest listed suffix of `name` that ends a label (`name` itself
   * included), or -1 when none is listed. `name` is presentation text as the decoder gives it
   * (escapes such as `\.` stay inside their label); case does not matter.
   */
  longestSuffix(name: string): number {
    if (this.#size === 0) return -1;
    let end = name.length;
    const escapes = name.includes("\\");
    if (end > 0 && name.charCodeAt(end - 1) === DOT && !(escapes && escapedAt(name, end - 1))) end--;
    let hash = FNV_OFFSET;
    let longest = -1;
    for (let i = end - 1; i >= 0; i--) {
      const code = name.charCodeAt(i);
      // Here `hash` covers name[i + 1, end): a whole suffix when this dot ends a label.
      if (code === DOT && i + 1 < end && !(escapes && escapedAt(name, i))) {
        if (this.#holds(hash & SLOT_MASK, name, i + 1, end)) longest = end - i - 1;
      }
      hash = step(hash, code);
    }
    if (end > 0 && this.#holds(hash & SLOT_MASK, name, 0, end)) longest = end;
    return longest;
  }
}
