/**
 * The registry row for LOC (RFC 1876): a location as latitude, longitude and altitude, with a size
 * and two precisions. The typed form keeps the wire values (thousandths of an arc second from
 * 2^31, centimetres above 100,000 m below the WGS 84 spheroid, sizes as mantissa and exponent), so
 * that every LOC read off the wire goes out as it came; the text form is RFC 1876 section 3's.
 * @module
 */
import type { Codecs, Of } from "./rdata_codec.ts";
import { formatHex, type RDataText } from "./rdata_text.ts";
import type { Reader, Writer } from "./wire.ts";
import type { Token } from "./zone_lexer.ts";

const EQUATOR = 2 ** 31;
/** Altitude 0 on the wire: the base is 100,000 m (10,000,000 cm) below the spheroid. */
const ALTITUDE_BASE = 10_000_000;
const MAX_U32 = 0xffffffff;
/** The defaults of RFC 1876 section 3, as wire octets: 1 m, 10,000 m and 10 m. */
const DEFAULT_SIZE = 0x12;
const DEFAULT_HORIZONTAL = 0x16;
const DEFAULT_VERTICAL = 0x13;

type Loc = Of<"LOC">;

/**
 * Whether a size octet has a text form that reads back as the same octet: a mantissa from 1 to 9
 * and an exponent from 0 to 9 (RFC 1876), or zero itself.
 */
function writtenSize(octet: number): boolean {
  const [mantissa, exponent] = [octet >> 4, octet & 0x0f];
  return exponent <= 9 && (mantissa === 0 ? exponent === 0 : mantissa <= 9);
}

/** Whether an angle on the wire lies within `maxDegrees` of the equator or meridian. */
function withinDegrees(value: number, maxDegrees: number): boolean {
  return Math.abs(value - EQUATOR) <= maxDegrees * 3_600_000;
}

/** A size octet as metres with two decimals (`30.00`). */
function sizeText(octet: number): string {
  return ((octet >> 4) * 10 ** (octet & 0x0f) / 100).toFixed(2);
}

/** An angle on the wire as `degrees minutes seconds.thousandths` and its hemisphere letter. */
function angleText(value: number, positive: string, negative: string): string {
  const offset = value - EQUATOR;
  const total = Math.abs(offset);
  const degrees = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  return `${degrees} ${minutes} ${seconds.toFixed(3)} ${offset >= 0 ? positive : negative}`;
}

/** A decimal number of metres, optionally followed by `m`, with at most two decimals, as centimetres. */
function centimetres(text: RDataText, what: string, token: Token, min: number, max: number): number {
  const match = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?m?$/i.exec(token.text);
  if (!match) text.fail(`bad ${what} "${token.text}": expected metres, like 10 or 2.50m`, token);
  const cm = (Number(match[2]) * 100 + Number((match[3] ?? "").padEnd(2, "0"))) * (match[1] ? -1 : 1);
  if (cm < min || cm > max) text.fail(`${what} "${token.text}" is out of range`, token);
  return cm;
}

/** Centimetres as RFC 1876's size octet: the largest power of ten at most the value, and its mantissa. */
function sizeOctet(cm: number): number {
  let exponent = 0;
  while (exponent < 9 && cm >= 10 ** (exponent + 1)) exponent++;
  return (Math.floor(cm / 10 ** exponent) << 4) | exponent;
}

/** `d [m [s]] H`: an angle up to `maxDegrees`, `positive` or `negative` of the equator or meridian. */
function angle(
  text: RDataText,
  what: string,
  maxDegrees: number,
  positive: string,
  negative: string,
): number {
  const parts: Token[] = [];
  let token = text.token(what);
  while (!/^[NSEW]$/i.test(token.text)) {
    if (parts.length === 3) {
      text.fail(`bad ${what}: expected ${positive} or ${negative} after "${token.text}"`, token);
    }
    parts.push(token);
    token = text.token(what);
  }
  const hemisphere = token.text.toUpperCase();
  if (parts.length === 0 || (hemisphere !== positive && hemisphere !== negative)) {
    text.fail(`bad ${what}: expected degrees, then ${positive} or ${negative}`, token);
  }
  const [degrees = 0, minutes = 0, seconds = 0] = parts.map((part, i) => {
    const ok = i === 2 ? /^[0-9]+(\.[0-9]{1,3})?$/.test(part.text) : /^[0-9]+$/.test(part.text);
    const value = Number(part.text);
    if (!ok || (i > 0 && value >= 60) || (i === 0 && value > maxDegrees)) {
      text.fail(`bad ${what} "${part.text}"`, part);
    }
    return value;
  });
  const thousandths = Math.round(((degrees * 60 + minutes) * 60 + seconds) * 1000);
  if (thousandths > maxDegrees * 3_600_000) text.fail(`${what} over ${maxDegrees} degrees`, parts[0]);
  return hemisphere === positive ? EQUATOR + thousandths : EQUATOR - thousandths;
}

function parseLoc(text: RDataText): Loc {
  const latitude = angle(text, "latitude", 90, "N", "S");
  const longitude = angle(text, "longitude", 180, "E", "W");
  const altitude = centimetres(
    text,
    "altitude",
    text.token("altitude"),
    -ALTITUDE_BASE,
    MAX_U32 - ALTITUDE_BASE,
  );
  const sizes = [DEFAULT_SIZE, DEFAULT_HORIZONTAL, DEFAULT_VERTICAL];
  for (const [i, what] of ["size", "horizontal precision", "vertical precision"].entries()) {
    if (text.done) break;
    sizes[i] = sizeOctet(centimetres(text, what, text.token(what), 0, 9_000_000_000));
  }
  return {
    type: "LOC",
    version: 0,
    size: sizes[0]!,
    horizontalPrecision: sizes[1]!,
    verticalPrecision: sizes[2]!,
    latitude,
    longitude,
    altitude: altitude + ALTITUDE_BASE,
  };
}

function encodeLoc(writer: Writer, data: Loc): void {
  for (const octet of [data.version, data.size, data.horizontalPrecision, data.verticalPrecision]) {
    writer.u8(octet);
  }
  for (const value of [data.latitude, data.longitude, data.altitude]) writer.u32(value);
}

function formatLoc(data: Loc): string {
  const sizes = [data.size, data.horizontalPrecision, data.verticalPrecision];
  if (
    data.version !== 0 || !sizes.every(writtenSize) || !withinDegrees(data.latitude, 90) ||
    !withinDegrees(data.longitude, 180)
  ) {
    // RFC 1876's text cannot say this (another version, a position off the globe, a size it
    // writes otherwise): the generic form can (RFC 3597), and reads back as the same octets.
    const bytes = [data.version, ...sizes];
    for (const value of [data.latitude, data.longitude, data.altitude]) {
      bytes.push(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
    }
    return `\\# 16 ${formatHex(Uint8Array.from(bytes))}`;
  }
  const altitude = `${((data.altitude - ALTITUDE_BASE) / 100).toFixed(2)}m`;
  const position = `${angleText(data.latitude, "N", "S")} ${angleText(data.longitude, "E", "W")} ${altitude}`;
  const defaults = data.size === DEFAULT_SIZE && data.horizontalPrecision === DEFAULT_HORIZONTAL &&
    data.verticalPrecision === DEFAULT_VERTICAL;
  return defaults ? position : `${position} ${sizes.map((octet) => `${sizeText(octet)}m`).join(" ")}`;
}

/** The LOC row. */
export const locCodecs: Codecs<"LOC"> = {
  LOC: {
    code: 29,
    decode: (r: Reader) => ({
      type: "LOC",
      version: r.u8(),
      size: r.u8(),
      horizontalPrecision: r.u8(),
      verticalPrecision: r.u8(),
      latitude: r.u32(),
      longitude: r.u32(),
      altitude: r.u32(),
    }),
    encode: encodeLoc,
    parse: parseLoc,
    format: formatLoc,
  },
};
