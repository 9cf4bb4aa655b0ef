/**
 * A cached upstream answer kept as its bytes ({@link WireAnswer}) and its cache key, written as one
 * blob of {@link BlobPages} and read back. The walk's offsets are 16-bit numbers here rather than
 * an object and two arrays per entry. Pure.
 *
 * After the pages' 6-octet header: key length, answer length (16 bits each), RCODE and the
 * restore-case flag (8 bits each), where the records end, ANCOUNT, NSCOUNT, ARCOUNT without OPT,
 * how many TTL offsets and how many of them come before the additional section, how many question
 * owners (16 bits each), the cache TTL (32 bits, all ones for none); then the key's octets, the TTL
 * offsets, the question owners' offsets (16 bits each) and the answer.
 * @module
 */
import { type ByteArena, type WireAnswer } from "../proto/mod.ts";
import { type BlobPages, MAX_BLOB } from "./blob_pages.ts";

const FIELDS = 6;
const HEADER = FIELDS + 24;
const NO_TTL = 0xffffffff;

/** The blob's length for `key` and `answer`, or -1 when it cannot be a blob (too long, or a key character over 255). */
export function blobLength(key: string, answer: WireAnswer): number {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return -1;
  const length = HEADER + key.length + 2 * (answer.ttlAt.length + answer.questionOwners.length) +
    answer.bytes.length;
  return length <= MAX_BLOB ? length : -1;
}

function put16(page: Uint8Array, at: number, value: number): void {
  page[at] = value >>> 8;
  page[at + 1] = value & 0xff;
}

function get16(page: Uint8Array, at: number): number {
  return (page[at]! << 8) | page[at + 1]!;
}

/** Writes `key` and `answer` into a blob of {@link blobLength} octets, owned by `owner`: its location. */
export function writeBlob(
  pages: BlobPages,
  owner: number,
  length: number,
  key: string,
  answer: WireAnswer,
  restoreCase: boolean,
): number {
  const location = pages.allocate(owner, length);
  const page = pages.page(location);
  const start = pages.offset(location);
  let at = start + FIELDS;
  put16(page, at, key.length);
  put16(page, at + 2, answer.bytes.length);
  page[at + 4] = answer.rcode;
  page[at + 5] = restoreCase ? 1 : 0;
  put16(page, at + 6, answer.end);
  put16(page, at + 8, answer.answerCount);
  put16(page, at + 10, answer.authorityCount);
  put16(page, at + 12, answer.additionalCount);
  put16(page, at + 14, answer.ttlAt.length);
  put16(page, at + 16, answer.ttlsBeforeAdditional);
  put16(page, at + 18, answer.questionOwners.length);
  const ttl = answer.ttl ?? NO_TTL;
  put16(page, at + 20, ttl >>> 16);
  put16(page, at + 22, ttl & 0xffff);
  at = start + HEADER;
  for (let i = 0; i < key.length; i++) page[at++] = key.charCodeAt(i);
  for (const offset of answer.ttlAt) at = (put16(page, at, offset), at + 2);
  for (const offset of answer.questionOwners) at = (put16(page, at, offset), at + 2);
  page.set(answer.bytes, at);
  return location;
}

/** Whether the blob at `location` was written for `key`. */
export function blobHasKey(pages: BlobPages, location: number, key: string): boolean {
  const page = pages.page(location);
  const start = pages.offset(location);
  if (get16(page, start + FIELDS) !== key.length) return false;
  const at = start + HEADER;
  for (let i = 0; i < key.length; i++) if (page[at + i] !== key.charCodeAt(i)) return false;
  return true;
}

/** Whether the answer in the blob at `location` is to have the question's case put back. */
export function blobRestoresCase(pages: BlobPages, location: number): boolean {
  const page = pages.page(location);
  return page[pages.offset(location) + FIELDS + 5] === 1;
}

function offsets(page: Uint8Array, at: number, count: number): number[] {
  const list = new Array<number>(count);
  for (let i = 0; i < count; i++) list[i] = get16(page, at + 2 * i);
  return list;
}

const NO_OWNERS: readonly number[] = [];

/**
 * The answer in the blob at `location`, its bytes copied into `copies`: the pages reuse their
 * room, and whoever holds the answer may hold it past that.
 */
export function readBlob(pages: BlobPages, location: number, copies: ByteArena): WireAnswer {
  const page = pages.page(location);
  const start = pages.offset(location);
  const at = start + FIELDS;
  const ttlCount = get16(page, at + 14);
  const ownerCount = get16(page, at + 18);
  const ttl = ((get16(page, at + 20) << 16) | get16(page, at + 22)) >>> 0;
  const ttlsAt = start + HEADER + get16(page, at);
  const bytesAt = ttlsAt + 2 * (ttlCount + ownerCount);
  return {
    bytes: copies.copy(page.subarray(bytesAt, bytesAt + get16(page, at + 2))),
    rcode: page[at + 4]!,
    end: get16(page, at + 6),
    answerCount: get16(page, at + 8),
    authorityCount: get16(page, at + 10),
    additionalCount: get16(page, at + 12),
    ttlAt: offsets(page, ttlsAt, ttlCount),
    ttlsBeforeAdditional: get16(page, at + 16),
    questionOwners: ownerCount === 0 ? NO_OWNERS : offsets(page, ttlsAt + 2 * ttlCount, ownerCount),
    ttl: ttl === NO_TTL ? null : ttl,
  };
}

/**
 * Whether the name in the key of the blob at `location` (up to its first "|", see `cacheKey`) is
 * `name` or below it, `suffix` being "." + `name`: compared in place, with no string made (a flush
 * of one name walks every entry).
 */
export function blobKeyAtOrBelow(pages: BlobPages, location: number, name: string, suffix: string): boolean {
  const page = pages.page(location);
  const start = pages.offset(location);
  const at = start + HEADER;
  const keyLength = get16(page, start + FIELDS);
  let owner = 0;
  while (owner < keyLength && page[at + owner] !== 0x7c) owner++; // "|"
  const matches = (text: string, from: number) => {
    for (let i = 0; i < text.length; i++) if (page[from + i] !== text.charCodeAt(i)) return false;
    return true;
  };
  if (owner === name.length && matches(name, at)) return true;
  return owner > suffix.length && matches(suffix, at + owner - suffix.length);
}
