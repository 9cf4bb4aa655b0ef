/**
 * Name comparison: one function decides when two names are the same (RFC 4343: ASCII case
 * folding; a trailing root dot is optional).
 * @module
 */
import { withoutRootDot } from "./wire.ts";

/** The key two names share exactly when they are the same DNS name. */
export function nameKey(name: string): string {
  return withoutRootDot(name).toLowerCase();
}

/** A name as people read it in logs: the root shows as ".". */
export function displayName(name: string): string {
  return name === "" ? "." : name;
}
