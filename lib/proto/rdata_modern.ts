/**
 * Registry rows for CAA (RFC 8659) and the service binding types SVCB and HTTPS (RFC 9460).
 * The SvcParams' presentation form lives in svc_params.ts.
 * @module
 */
import { EncodeError } from "./errors.ts";
import type { Codecs, Of } from "./rdata_codec.ts";
import { formatCharacterString, formatName, type RDataText, unescapeText } from "./rdata_text.ts";
import { decodeSvcParams, encodeSvcParams, formatSvcParams, parseSvcParams } from "./svc_params.ts";
import type { Reader, Writer } from "./wire.ts";

// SVCB and HTTPS share one layout (RFC 9460 section 2.2). The `as Of<T>` casts are needed because
// TypeScript does not narrow Extract<RData, { type: T }> for a generic T.

/** Decodes SVCB or HTTPS. */
function decodeService<T extends "SVCB" | "HTTPS">(type: T, reader: Reader): Of<T> {
  const priority = reader.u16();
  const target = reader.name();
  return { type, priority, target, params: decodeSvcParams(reader) } as Of<T>;
}

function encodeService(writer: Writer, data: Of<"SVCB" | "HTTPS">): void {
  writer.u16(data.priority);
  writer.name(data.target, false); // RFC 9460 section 2.2: "MUST NOT be compressed"
  encodeSvcParams(writer, data.params);
}

function parseService<T extends "SVCB" | "HTTPS">(type: T, text: RDataText): Of<T> {
  const first = text.peek();
  const priority = text.u16("priority");
  const target = text.name("target name");
  const params = parseSvcParams(text);
  if (priority === 0 && params.length > 0) {
    text.fail("AliasMode (priority 0) takes no SvcParams (RFC 9460 section 2.4.2)", first);
  }
  return { type, priority, target, params } as Of<T>;
}

function formatService(data: Of<"SVCB" | "HTTPS">): string {
  const params = formatSvcParams(data.params);
  return `${data.priority} ${formatName(data.target)}${params === "" ? "" : " " + params}`;
}

/** A CAA tag: ASCII letters and digits, 1 to 15 of them (RFC 8659 section 4.1). */
const TAG = /^[A-Za-z0-9]{1,15}$/;

/** The rows. CAA's tag is kept as written on the wire (one character per octet), so any RDATA round-trips. */
export const modernCodecs: Codecs<"CAA" | "SVCB" | "HTTPS"> = {
  CAA: {
    code: 257,
    decode: (r) => ({
      type: "CAA",
      flags: r.u8(),
      tag: String.fromCharCode(...r.take(r.u8())),
      value: r.take(r.remaining),
    }),
    encode: (w, d) => {
      if (d.tag.length > 255 || Array.from(d.tag).some((char) => char.charCodeAt(0) > 0xff)) {
        throw new EncodeError("bad-value", `CAA tag "${d.tag}" is not up to 255 octets`);
      }
      w.u8(d.flags);
      w.u8(d.tag.length);
      for (let i = 0; i < d.tag.length; i++) w.u8(d.tag.charCodeAt(i));
      w.bytes(d.value);
    },
    parse: (t: RDataText) => {
      const flags = t.u8("flags");
      const token = t.token("tag");
      if (!TAG.test(token.text)) {
        t.fail(`bad CAA tag "${token.text}": expected 1 to 15 ASCII letters and digits`, token);
      }
      // The value is the rest of the RDATA, so unlike a character-string it may pass 255 octets.
      const valueToken = t.token("value");
      const value = unescapeText(valueToken.text);
      if (typeof value === "string") t.fail(`bad value: ${value}`, valueToken);
      return { type: "CAA", flags, tag: token.text, value };
    },
    format: (d) => `${d.flags} ${d.tag} ${formatCharacterString(d.value)}`,
  },
  SVCB: {
    code: 64,
    decode: (r) => decodeService("SVCB", r),
    encode: encodeService,
    parse: (t) => parseService("SVCB", t),
    format: formatService,
  },
  HTTPS: {
    code: 65,
    decode: (r) => decodeService("HTTPS", r),
    encode: encodeService,
    parse: (t) => parseService("HTTPS", t),
    format: formatService,
  },
};
