/**
 * Bounded byte reader and compressing writer: the only place that touches raw octets.
 * Hostile input ends in a {@link DecodeError}, never a RangeError.
 * @module
 */
import { DecodeError, type DecodeReason, EncodeError } from "./errors.ts";
import { foldCase, foldOctet, withoutRootDot } from "./name.ts";

/** The longest label, in octets: a length octet above it is a pointer or not a label (RFC 1035 section 3.1). */
export const MAX_LABEL = 63;
/** The longest name, counted in wire octets (RFC 1035 section 3.1). */
export const MAX_NAME = 255;
const MAX_POINTER_TARGET = 0x3fff;
const MAX_MESSAGE = 0xffff;

/** Octets dig writes with a backslash in presentation form (RFC 1035 section 5.1). */
const SPECIAL = [0x22, 0x24, 0x28, 0x29, 0x2e, 0x3b, 0x40, 0x5c];

/** How each octet is written in a label: 0 as itself, 1 after a backslash, 2 as `\DDD`. */
const ESCAPE = Uint8Array.from({ length: 256 }, (_, octet) => {
  if (SPECIAL.includes(octet)) return 1;
  return octet > 0x20 && octet < 0x7f ? 0 : 2;
});

/** Writes one label's octets in presentation form, escaping what needs it. */
function labelText(bytes: Uint8Array, start: number, length: number): string {
  // Built one character at a time: for labels this short it is several times faster than
  // String.fromCharCode(...bytes), which goes through the iterator protocol.
  let text = "";
  for (let i = start; i < start + length; i++) {
    const octet = bytes[i]!;
    const escape = ESCAPE[octet];
    if (escape === 0) text += String.fromCharCode(octet);
    else if (escape === 1) text += "\\" + String.fromCharCode(octet);
    else text += "\\" + String(octet).padStart(3, "0");
  }
  return text;
}

/*
 * Names are walked in three places: Reader.name() decodes them into text; nameEnd() in
 * wire_answer.ts only checks and skips them, and adds a rule of its own (no pointer into the header);
 * labelsAt() follows the pointers of a name already checked. One loop serving all three would cost
 * the decoder a callback or a second pass per name, so they share the rules instead: the limits
 * above, and the pointer rule below.
 */

/**
 * Where the compression pointer at `pos` leads, or -1 when it does not point strictly before
 * `lowest` (the previous pointer's target, or the name's own start). That rule, dnspython's, makes
 * loops impossible without a counter (RFC 1035 section 4.1.4: a pointer is to a prior occurrence).
 * The walkers add the rule's other half: the labels pointed to end before the pointer itself.
 * The caller has checked that both of the pointer's octets are there.
 */
export function pointerTarget(bytes: Uint8Array, pos: number, lowest: number): number {
  const target = ((bytes[pos]! & 0x3f) << 8) | bytes[pos + 1]!;
  return target < lowest ? target : -1;
}

/** Where the labels of the name at `pos` continue, past any pointers; the name must have been checked. */
export function labelsAt(bytes: Uint8Array, pos: number): number {
  // In a checked name every pointer points before itself, so none is refused and none loops.
  while ((bytes[pos]! & 0xc0) === 0xc0) pos = pointerTarget(bytes, pos, pos);
  return pos;
}

/** A cursor over a message that refuses to read past its current limit. */
export class Reader {
  readonly #bytes: Uint8Array;
  #pos = 0;
  #end: number;
  /** Running into `#end` inside `within` means the RDATA is short, not that the message is. */
  #overrun: DecodeReason = "truncated";

  /** @param bytes the whole message; pointers may target any earlier octet of it */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#end = bytes.length;
  }

  /** The current offset from the start of the message. */
  get offset(): number {
    return this.#pos;
  }

  /** Octets left before the current limit. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(count: number): void {
    if (this.#pos + count > this.#end) throw new DecodeError(this.#overrun, this.#pos);
  }

  /** Reads one octet. */
  u8(): number {
    this.#need(1);
    return this.#bytes[this.#pos++]!;
  }

  /** Reads a big-endian 16-bit integer. */
  u16(): number {
    this.#need(2);
    const bytes = this.#bytes;
    const value = (bytes[this.#pos]! << 8) | bytes[this.#pos + 1]!;
    this.#pos += 2;
    return value;
  }

  /** Reads a big-endian 32-bit unsigned integer. */
  u32(): number {
    this.#need(4);
    const bytes = this.#bytes;
    const pos = this.#pos;
    const value =
      ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0;
    this.#pos += 4;
    return value;
  }

  /**
   * Returns a view of the next `count` octets. Decoded values alias the input (a copy costs a
   * typed-array allocation, about as much as decoding the whole query), so callers hand the
   * decoder a buffer they will not overwrite.
   */
  take(count: number): Uint8Array {
    this.#need(count);
    const slice = this.#bytes.subarray(this.#pos, this.#pos + count);
    this.#pos += count;
    return slice;
  }

  /**
   * Runs `read` with reads limited to the next `length` octets, which it must consume exactly
   * (dnspython's `restrict_to`; a short or long RDATA is "rdata-length").
   */
  within<T>(length: number, read: (reader: Reader) => T): T {
    this.#need(length);
    const outer = this.#end;
    const outerOverrun = this.#overrun;
    this.#end = this.#pos + length;
    this.#overrun = "rdata-length";
    try {
      const value = read(this);
      if (this.#pos !== this.#end) throw new DecodeError("rdata-length", this.#pos);
      return value;
    } finally {
      this.#end = outer;
      this.#overrun = outerOverrun;
    }
  }

  /**
   * Reads a possibly compressed name. Every pointer must point strictly before the previous one
   * (or before the name's start), which rules out loops without a counter (RFC 1035 section 4.1.4).
   */
  name(): string {
    const bytes = this.#bytes;
    let pos = this.#pos;
    let lowest = pos; // a pointer must target an offset below this
    let limit = this.#end; // until the first pointer, the current read limit applies
    let overrun = this.#overrun;
    let resume = -1;
    let wireLength = 1;
    let text = "";
    while (true) {
      if (pos >= limit) throw new DecodeError(overrun, pos);
      const length = bytes[pos]!;
      if (length === 0) {
        pos += 1;
        break;
      }
      if ((length & 0xc0) === 0xc0) {
        if (pos + 1 >= limit) throw new DecodeError(overrun, pos);
        const target = pointerTarget(bytes, pos, lowest);
        if (target < 0) throw new DecodeError("bad-pointer", pos);
        if (resume < 0) resume = pos + 2;
        // The name pointed to is a prior occurrence: it ends before this pointer. Labels that ran on
        // past it would read the bytes of later fields (and of an OPT record a forwarder drops).
        limit = pos;
        pos = lowest = target;
        overrun = "bad-pointer";
        continue;
      }
      // 0x40 and 0x80 are not DNS labels (RFC 6891 section 5).
      if (length > MAX_LABEL) throw new DecodeError("bad-label", pos);
      wireLength += length + 1;
      if (wireLength > MAX_NAME) throw new DecodeError("name-too-long", pos);
      if (pos + 1 + length > limit) throw new DecodeError(overrun, pos);
      text += (text === "" ? "" : ".") + labelText(bytes, pos + 1, length);
      pos += 1 + length;
    }
    this.#pos = resume < 0 ? pos : resume;
    return text;
  }
}

/** A name's labels (octets, or ASCII text when no escapes were needed) and where each starts in the text. */
interface Labels {
  readonly labels: readonly (Uint8Array | string)[];
  readonly starts: readonly number[];
}

/** The fast path for names without escapes: labels are the text between dots. */
function splitPlain(text: string): Labels {
  const labels = text.split(".");
  const starts: number[] = [];
  let start = 0;
  for (const label of labels) {
    if (label.length === 0) throw new EncodeError("bad-name", `empty label in "${text}"`);
    if (label.length > MAX_LABEL) {
      throw new EncodeError("label-too-long", `label over 63 octets in "${text}"`);
    }
    for (let i = 0; i < label.length; i++) {
      if (label.charCodeAt(i) > 0x7f) {
        throw new EncodeError("bad-name", `non-ASCII character in "${text}" (use punycode)`);
      }
    }
    starts.push(start);
    start += label.length + 1;
  }
  return { labels, starts };
}

/** Splits presentation text into wire labels, honouring `\.` and `\DDD` escapes. */
function parseLabels(text: string): Labels {
  const labels: Uint8Array[] = [];
  const starts: number[] = [];
  let label: number[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    let octet = text.charCodeAt(i);
    if (octet === 0x2e) {
      if (label.length === 0) throw new EncodeError("bad-name", `empty label in "${text}"`);
      labels.push(Uint8Array.from(label));
      starts.push(start);
      label = [];
      start = i + 1;
      continue;
    }
    if (octet === 0x5c) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0x30 && next <= 0x39) {
        // \DDD: exactly three decimal digits naming one octet (RFC 1035 section 5.1)
        const digits = text.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(digits) || Number(digits) > 0xff) {
          throw new EncodeError("bad-name", `bad escape "\\${digits}" in "${text}"`);
        }
        octet = Number(digits);
        i += 3;
      } else if (i + 1 < text.length) {
        octet = text.charCodeAt(++i);
      } else {
        throw new EncodeError("bad-name", `dangling backslash in "${text}"`);
      }
    }
    if (octet > 0x7f && text.charCodeAt(i) === octet) {
      throw new EncodeError("bad-name", `non-ASCII character in "${text}" (use punycode)`);
    }
    label.push(octet);
    if (label.length > MAX_LABEL) {
      throw new EncodeError("label-too-long", `label over 63 octets in "${text}"`);
    }
  }
  if (label.length === 0) throw new EncodeError("bad-name", `empty label in "${text}"`);
  labels.push(Uint8Array.from(label));
  starts.push(start);
  return { labels, starts };
}

/**
 * A name's presentation text with each octet written as {@link Reader.name} writes it (`\*` as `*`,
 * `\046` as `\.`, `\065` as `A`), so that a name read from a zone file and the same name read off
 * the wire are one string, and one key. Text without a backslash comes back as it is, and so does
 * text that does not parse (checkName says why).
 */
export function normalizeEscapes(text: string): string {
  if (!text.includes("\\")) return text;
  const bare = withoutRootDot(text);
  if (bare === "") return text;
  let labels: Labels["labels"];
  try {
    labels = parseLabels(bare).labels;
  } catch {
    return text;
  }
  const written = labels.map((label) => typeof label === "string" ? label : labelText(label, 0, label.length))
    .join(".");
  return bare === text ? written : `${written}.`;
}

/** The labels of a name without its root dot, checked against the limits of RFC 1035 section 3.1. */
function checkedLabels(text: string): Labels {
  const found = text.includes("\\") ? parseLabels(text) : splitPlain(text);
  let wireLength = 1;
  for (const label of found.labels) wireLength += label.length + 1;
  if (wireLength > MAX_NAME) throw new EncodeError("name-too-long", `name over 255 octets: "${text}"`);
  return found;
}

/**
 * Checks that presentation text is a name that can be written to the wire.
 * @throws {EncodeError} for an empty label, a bad escape, non-ASCII text, or a label or name too long
 */
export function checkName(name: string): void {
  const text = withoutRootDot(name);
  // Most names are plain ASCII labels: checked in one pass with nothing made. Anything else (or a
  // plain name that breaks a rule) takes the careful path, which says what is wrong.
  if (text !== "" && !plainNameOk(text)) checkedLabels(text);
}

/** Whether `text` is a name of plain ASCII labels within the limits, with no escapes. */
export function plainNameOk(text: string): boolean {
  if (text.length + 2 > MAX_NAME) return false; // the wire form: a length octet per label, the root
  let label = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e) {
      if (label === 0) return false;
      label = 0;
    } else if (code > 0x7f || code === 0x5c || ++label > MAX_LABEL) {
      return false;
    }
  }
  return label > 0;
}

/** Entries a compression table searches in order before it builds a Map. */
const LINEAR_ENTRIES = 32;

/**
 * Name suffixes already written in a message, and where (RFC 1035 section 4.1.4). A message has a
 * few, so a short list searched in order beats a Map: no hashing, and nothing to allocate when the
 * table is reused. Past {@link LINEAR_ENTRIES} it indexes them in a Map, so a long message stays linear.
 */
export class CompressionTable {
  readonly #suffixes: string[] = [];
  readonly #offsets: number[] = [];
  #size = 0;
  #index: Map<string, number> | null = null;

  /** Forgets every entry (for the next message). */
  clear(): void {
    this.#size = 0;
    this.#index = null;
  }

  /** Where `suffix` (lower case) was first written, if it was. */
  get(suffix: string): number | undefined {
    if (this.#index) return this.#index.get(suffix);
    for (let i = 0; i < this.#size; i++) if (this.#suffixes[i] === suffix) return this.#offsets[i];
    return undefined;
  }

  /** Records that `suffix` was written at `offset` (the caller checked it was not yet). */
  set(suffix: string, offset: number): void {
    if (this.#index) {
      this.#index.set(suffix, offset);
      return;
    }
    this.#suffixes[this.#size] = suffix;
    this.#offsets[this.#size++] = offset;
    if (this.#size > LINEAR_ENTRIES) {
      this.#index = new Map();
      for (let i = 0; i < this.#size; i++) this.#index.set(this.#suffixes[i]!, this.#offsets[i]!);
    }
  }
}

/** A growable output buffer that remembers where names were written, for compression. */
export class Writer {
  // One allocation per message at most: DataView and a final copy would each cost as much again.
  #bytes: Uint8Array;
  #pos = 0;
  /** Lower-cased name suffix -> offset of its first occurrence (compression is case-insensitive). */
  readonly #names: CompressionTable;

  /**
   * @param scratch a buffer to write into (reused by the caller), instead of a fresh one
   * @param names a map for the compression table (reused by the caller, cleared here), instead of a fresh one
   */
  constructor(scratch?: Uint8Array, names?: CompressionTable) {
    this.#bytes = scratch ?? new Uint8Array(512);
    this.#names = names ?? new CompressionTable();
    this.#names.clear();
  }

  /** The number of octets written so far. */
  get offset(): number {
    return this.#pos;
  }

  #room(count: number): void {
    const needed = this.#pos + count;
    if (needed <= this.#bytes.length) return;
    if (needed > MAX_MESSAGE) throw new EncodeError("message-too-long", `message over ${MAX_MESSAGE} octets`);
    const grown = new Uint8Array(Math.min(MAX_MESSAGE, Math.max(needed, this.#bytes.length * 2)));
    grown.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = grown;
  }

  /** Writes one octet. */
  u8(value: number): void {
    this.#room(1);
    this.#bytes[this.#pos++] = value;
  }

  /** Writes a big-endian 16-bit integer. */
  u16(value: number): void {
    this.#room(2);
    this.#bytes[this.#pos++] = value >>> 8;
    this.#bytes[this.#pos++] = value;
  }

  /** Writes a big-endian 32-bit unsigned integer. */
  u32(value: number): void {
    this.#room(4);
    this.#bytes[this.#pos++] = value >>> 24;
    this.#bytes[this.#pos++] = value >>> 16;
    this.#bytes[this.#pos++] = value >>> 8;
    this.#bytes[this.#pos++] = value;
  }

  /** Writes octets as they are. */
  bytes(value: Uint8Array): void {
    this.#room(value.length);
    this.#bytes.set(value, this.#pos);
    this.#pos += value.length;
  }

  /** Overwrites a 16-bit integer written earlier (an RDLENGTH once the RDATA is known). */
  patchU16(offset: number, value: number): void {
    this.#bytes[offset] = value >>> 8;
    this.#bytes[offset + 1] = value;
  }

  /**
   * Writes a name. With `compress`, a suffix already in the message becomes a pointer to it
   * (RFC 1035 section 4.1.4). Either way the suffixes written here become targets for later
   * names; types newer than RFC 1035 are written with `compress` off (RFC 3597 section 4).
   */
  name(name: string, compress: boolean): void {
    const text = withoutRootDot(name);
    if (text === "") return this.u8(0);
    // Escapes and over-long names take the careful path, which splits and checks every label first.
    if (text.length > MAX_NAME - 2 || text.includes("\\")) return this.#checkedName(text, compress);
    // Plain text: the labels are the text between dots, written and checked in one pass, in the
    // order splitPlain() checks them (so a name fails with the same error on either path).
    const lower = foldCase(text);
    for (let start = 0;;) {
      const suffix = start === 0 ? lower : lower.substring(start);
      const pointer = this.#names.get(suffix);
      if (compress && pointer !== undefined) return this.u16(0xc000 | pointer);
      // only offsets that fit in 14 bits can be pointer targets
      if (pointer === undefined && this.#pos <= MAX_POINTER_TARGET) this.#names.set(suffix, this.#pos);
      let dot = text.indexOf(".", start);
      if (dot < 0) dot = text.length;
      const length = dot - start;
      if (length === 0) throw new EncodeError("bad-name", `empty label in "${text}"`);
      if (length > MAX_LABEL) throw new EncodeError("label-too-long", `label over 63 octets in "${text}"`);
      this.#room(length + 1); // may swap the buffer: read it after
      const out = this.#bytes;
      out[this.#pos++] = length;
      for (let i = start; i < dot; i++) {
        const octet = text.charCodeAt(i);
        if (octet > 0x7f) {
          throw new EncodeError("bad-name", `non-ASCII character in "${text}" (use punycode)`);
        }
        out[this.#pos++] = octet;
      }
      if (dot === text.length) break;
      start = dot + 1;
    }
    this.u8(0);
  }

  /** Writes a name after splitting it into checked labels (escapes, limits). */
  #checkedName(text: string, compress: boolean): void {
    const { labels, starts } = checkedLabels(text);
    const lower = foldCase(text);
    for (let i = 0; i < labels.length; i++) {
      const suffix = i === 0 ? lower : lower.substring(starts[i]!);
      const pointer = this.#names.get(suffix);
      if (compress && pointer !== undefined) return this.u16(0xc000 | pointer);
      if (pointer === undefined && this.#pos <= MAX_POINTER_TARGET) this.#names.set(suffix, this.#pos);
      const label = labels[i]!;
      this.#room(label.length + 1);
      this.#bytes[this.#pos++] = label.length;
      if (typeof label === "string") {
        for (let j = 0; j < label.length; j++) this.#bytes[this.#pos++] = label.charCodeAt(j);
      } else {
        this.#bytes.set(label, this.#pos);
        this.#pos += label.length;
      }
    }
    this.u8(0);
  }

  /** The message written so far: a view of the writer's buffer, valid until that buffer is reused. */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#pos);
  }
}

/**
 * A name in canonical wire form (RFC 4034 section 6.2): uncompressed, every ASCII capital in lower
 * case, escaped octets (`\065`) included. What DNSSEC signs, orders and hashes names by.
 * @throws {EncodeError} for a name that cannot be written to the wire
 */
export function canonicalName(name: string): Uint8Array {
  const writer = new Writer(new Uint8Array(MAX_NAME + 1));
  writer.name(name, false);
  const wire = writer.finish().slice();
  for (let pos = 0; wire[pos]! !== 0; pos += wire[pos]! + 1) {
    for (let i = pos + 1; i <= pos + wire[pos]!; i++) wire[i] = foldOctet(wire[i]!);
  }
  return wire;
}
