/**
 * Byte blobs for the answer cache, packed into 64 KiB pages instead of one ArrayBuffer (and one
 * typed-array object) each: an ArrayBuffer costs a microsecond to make and a few hundred octets of
 * bookkeeping beside its contents, more than a typical cached answer. Blobs are written one after
 * another into the newest page; a freed blob leaves a hole, and a page less than half full of live
 * blobs has them copied to the newest page and is reused, so the pages never hold much more than
 * twice what is live. Pure: no I/O, no clock.
 * @module
 */

/** Octets per page: a blob's location is its page's number times this plus its offset. */
export const PAGE_SIZE = 1 << 16;
/** The largest blob kept in pages; a larger one is the caller's to keep elsewhere. */
export const MAX_BLOB = PAGE_SIZE >>> 2;
/** Emptied pages kept for reuse; more are let go (to the garbage collector). */
const SPARE_PAGES = 4;

/**
 * What a page's owner tells the pages about the blob at a location when it is moved: whether it
 * is still live (its owner's record of where it lies is that location), and then where it now is.
 */
export interface BlobOwners {
  /** Whether the blob whose header names `owner` and lies at `location` is still live. */
  isLive(owner: number, location: number): boolean;
  /** The live blob of `owner` moved to `location`. */
  moved(owner: number, location: number): void;
}

/**
 * The pages. Each blob starts with a 4-octet owner number (the caller's entry index) and a 2-octet
 * length covering the whole blob, which is how a page is walked when it is compacted.
 */
export class BlobPages {
  readonly #pages: (Uint8Array | null)[] = [];
  /** Live octets per page (by page number). */
  readonly #live: number[] = [];
  /** Octets written per page: where a walk of the page stops. */
  readonly #filled: number[] = [];
  readonly #spare: number[] = [];
  readonly #owners: BlobOwners;
  #head = -1;
  /** The page that was the head before the current one. */
  #retired = -1;
  /** Set while a page is compacted: its moves do not start another compaction. */
  #compacting = false;

  /**
   * Makes an empty set of pages.
   * @param owners asked about blobs when a page is compacted
   */
  constructor(owners: BlobOwners) {
    this.#owners = owners;
  }

  /** Pages held now (with the spares), for the memory they take. */
  get pageCount(): number {
    return this.#pages.filter((page) => page !== null).length;
  }

  /**
   * Room for a blob of `length` octets (header included, at most {@link MAX_BLOB}) owned by `owner`:
   * its location. The header is written here; the caller writes the rest at {@link page} and
   * {@link offset} of the location.
   */
  allocate(owner: number, length: number): number {
    if (this.#head < 0 || this.#filled[this.#head]! + length > PAGE_SIZE) {
      this.#newHead();
      // The page written until now may have lost most of its blobs already (an entry replaced soon
      // after it was stored): frees while it was the head do not compact it, so it is looked at now.
      // Its blobs (under half a page) and this one (at most a quarter) fit in the new head.
      if (this.#retired >= 0 && !this.#compacting) this.#settle(this.#retired);
    }
    const head = this.#head;
    const at = this.#filled[head]!;
    this.#filled[head] = at + length;
    this.#live[head]! += length;
    const page = this.#pages[head]!;
    page[at] = owner >>> 24;
    page[at + 1] = (owner >>> 16) & 0xff;
    page[at + 2] = (owner >>> 8) & 0xff;
    page[at + 3] = owner & 0xff;
    page[at + 4] = length >>> 8;
    page[at + 5] = length & 0xff;
    return head * PAGE_SIZE + at;
  }

  /** The page holding the blob at `location`. */
  page(location: number): Uint8Array {
    return this.#pages[Math.floor(location / PAGE_SIZE)]!;
  }

  /** The blob's offset in its page. */
  offset(location: number): number {
    return location % PAGE_SIZE;
  }

  /** The blob's whole length, as its header says. */
  lengthAt(location: number): number {
    const page = this.page(location);
    const at = location % PAGE_SIZE;
    return (page[at + 4]! << 8) | page[at + 5]!;
  }

  /**
   * Gives back the blob at `location`. Its owner must no longer name that location (so a walk
   * of the page skips it): a page left less than half live is compacted here.
   */
  free(location: number): void {
    const number = Math.floor(location / PAGE_SIZE);
    const live = (this.#live[number]! -= this.lengthAt(location));
    if (number !== this.#head) this.#settle(number, live);
  }

  /** Drops every page. */
  clear(): void {
    this.#pages.length = 0;
    this.#live.length = 0;
    this.#filled.length = 0;
    this.#spare.length = 0;
    this.#head = -1;
    this.#retired = -1;
  }

  /** A spare page, or a new one, to write into from its start. */
  #newHead(): number {
    let number = this.#spare.pop();
    if (number === undefined) {
      number = this.#pages.indexOf(null);
      if (number < 0) number = this.#pages.length;
      this.#pages[number] = new Uint8Array(PAGE_SIZE);
    }
    this.#live[number] = 0;
    this.#filled[number] = 0;
    this.#retired = this.#head;
    this.#head = number;
    return number;
  }

  /** Reuses page `number` (not the head) when empty, or compacts it when less than half is live. */
  #settle(number: number, live = this.#live[number]!): void {
    if (live === 0) this.#recycle(number);
    else if (live < PAGE_SIZE >>> 1 && !this.#compacting) this.#compact(number);
  }

  /** Moves the live blobs of page `number` to the head, then reuses the page. */
  #compact(number: number): void {
    const page = this.#pages[number]!;
    const end = this.#filled[number]!;
    this.#compacting = true;
    for (let at = 0; at < end;) {
      const owner = ((page[at]! << 24) | (page[at + 1]! << 16) | (page[at + 2]! << 8) | page[at + 3]!) >>> 0;
      const length = (page[at + 4]! << 8) | page[at + 5]!;
      if (this.#owners.isLive(owner, number * PAGE_SIZE + at)) {
        const location = this.allocate(owner, length);
        this.page(location).set(page.subarray(at, at + length), location % PAGE_SIZE);
        this.#owners.moved(owner, location);
      }
      at += length;
    }
    this.#compacting = false;
    this.#recycle(number);
  }

  #recycle(number: number): void {
    if (number === this.#retired) this.#retired = -1;
    this.#live[number] = 0;
    this.#filled[number] = 0;
    if (this.#spare.length < SPARE_PAGES) this.#spare.push(number);
    else this.#pages[number] = null;
  }
}
