/**
 * SOA serial arithmetic (RFC 1982): serials wrap at 2^32, and one is newer than another when it
 * is less than 2^31 ahead. Primaries and secondaries compare serials only this way.
 * @module
 */

/** Whether serial `a` is newer than `b` (RFC 1982 section 3.2; undefined pairs, 2^31 apart, are not). */
export function serialNewer(a: number, b: number): boolean {
  const difference = (a - b) >>> 0;
  return difference !== 0 && difference < 0x8000_0000;
}
