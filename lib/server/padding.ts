/**
 * EDNS padding (RFC 7830) of answers over encrypted transports, under the block-length policy of
 * RFC 8467 section 4.1: a response is padded to a multiple of 468 octets, so its size says less
 * about the name asked. Only a query that carries a Padding option is answered padded (RFC 7830
 * section 4: a server pads only when the client shows it understands padding), and a signed answer
 * is never padded (its TSIG MAC covers the bytes; see `withOption`).
 * @module
 */
import { findOpt, withOption } from "../policy/mod.ts";

/** The EDNS option code of Padding (RFC 7830 section 3). */
export const PADDING_OPTION = 12;

/** RFC 8467 section 4.1: responses are padded to a multiple of this many octets. */
export const RESPONSE_BLOCK = 468;

/** The largest DNS message: padding never takes a response past it. */
const MAX_MESSAGE = 65_535;

/** Whether `query` carries a Padding option in its OPT record (any length, any content). */
export function wantsPadding(query: Uint8Array): boolean {
  const opt = findOpt(query);
  if (opt === null) return false;
  for (let at = opt.rdlengthAt + 2; at + 4 <= opt.end;) {
    const code = (query[at]! << 8) | query[at + 1]!;
    if (code === PADDING_OPTION) return true;
    at += 4 + ((query[at + 2]! << 8) | query[at + 3]!);
  }
  return false;
}

/**
 * `response` with a Padding option of zeros that brings it to a multiple of `block` octets, or to
 * `limit` when the next multiple is past it. A response with no OPT record (the query had none),
 * one signed with TSIG, or one with no room for the option's four octets is returned as it is.
 */
export function padResponse(
  response: Uint8Array,
  options: { readonly block?: number; readonly limit?: number } = {},
): Uint8Array {
  const { block = RESPONSE_BLOCK, limit = MAX_MESSAGE } = options;
  const opt = findOpt(response);
  // A record after the OPT is a TSIG whose MAC covers these bytes: left alone.
  if (opt === null || opt.end !== response.length) return response;
  const bare = response.length + 4;
  if (bare > limit) return response;
  const target = Math.min(Math.ceil(bare / block) * block, limit);
  const option = new Uint8Array(target - response.length);
  option[1] = PADDING_OPTION;
  option[2] = (option.length - 4) >> 8;
  option[3] = (option.length - 4) & 0xff;
  return withOption(response, option);
}
