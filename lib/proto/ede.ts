/**
 * Extended DNS Errors (RFC 8914): an EDNS option that tells a user why an answer failed.
 * @module
 */
import type { Edns } from "./types.ts";

/** The EDNS option code of an Extended DNS Error (RFC 8914 section 2). */
export const EDE_OPTION = 15;

/** INFO-CODEs dnsd uses (RFC 8914 section 4). */
export const EdeCode = {
  OTHER: 0,
  STALE_ANSWER: 3,
  NOT_READY: 14,
  BLOCKED: 15,
  PROHIBITED: 18,
  NOT_SUPPORTED: 21,
  NO_REACHABLE_AUTHORITY: 22,
  NETWORK_ERROR: 23,
} as const;

/** One Extended DNS Error. */
export interface ExtendedError {
  /** The INFO-CODE. */
  readonly code: number;
  /** EXTRA-TEXT for people, UTF-8; may be empty. */
  readonly text: string;
}

const encoder = new TextEncoder();

/** The OPT record with an EDE option added; none when the client sent no EDNS (the option needs an OPT). */
export function withEde(edns: Edns | null, error: ExtendedError | undefined): Edns | null {
  if (!edns || !error) return edns;
  const text = encoder.encode(error.text);
  const data = new Uint8Array(2 + text.length);
  data[0] = error.code >>> 8;
  data[1] = error.code & 0xff;
  data.set(text, 2);
  return { ...edns, options: [...edns.options, { code: EDE_OPTION, data }] };
}

/** The Extended DNS Errors carried by an OPT record. */
export function edeOf(edns: Edns | null): ExtendedError[] {
  if (!edns) return [];
  const decoder = new TextDecoder();
  return edns.options
    .filter((option) => option.code === EDE_OPTION && option.data.length >= 2)
    .map((option) => ({
      code: (option.data[0]! << 8) | option.data[1]!,
      text: decoder.decode(option.data.subarray(2)),
    }));
}
