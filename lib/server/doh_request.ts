/**
 * The HTTP side of DNS over HTTPS (RFC 8484), apart from any socket: the query a request carries
 * (GET with `?dns=`, base64url without padding; POST with an `application/dns-message` body), the
 * HTTP status for a request that carries none, and the freshness an answer may be cached for.
 * @module
 */
import { concatBytes, decodeMessage, type ResourceRecord } from "../proto/mod.ts";

/** The media type of a DNS message over HTTP (RFC 8484 section 6). */
export const DNS_MESSAGE = "application/dns-message";

/** The largest DNS message, and so the largest body or decoded `dns` parameter taken. */
const MAX_MESSAGE = 65_535;

/** Why a request carries no query, as the HTTP status it is answered with. */
export const DohStatus = {
  /** GET without `dns=`, malformed base64url, or fewer octets than a DNS header. */
  BAD_REQUEST: 400,
  /** Any path but the DoH one. */
  NOT_FOUND: 404,
  /** A method other than GET and POST. */
  METHOD_NOT_ALLOWED: 405,
  /** A body (or a `dns` parameter) longer than the largest DNS message. */
  PAYLOAD_TOO_LARGE: 413,
  /** A POST whose Content-Type is not `application/dns-message`. */
  UNSUPPORTED_MEDIA_TYPE: 415,
} as const;

/** One of {@link DohStatus}. */
export type DohStatus = typeof DohStatus[keyof typeof DohStatus];

/** A request's query, or the status that says why it has none. */
export type DohQuery =
  | { readonly ok: true; readonly query: Uint8Array }
  | { readonly ok: false; readonly status: DohStatus; readonly reason: string };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function refuse(status: DohStatus, reason: string): DohQuery {
  return { ok: false, status, reason };
}

/**
 * The octets of base64url text without padding (RFC 4648 section 5; RFC 8484 section 6 has no
 * padding), or null for text that is not: padding, other characters, or a length no encoding has.
 */
export function decodeBase64Url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const standard = text.replaceAll("-", "+").replaceAll("_", "/");
  try {
    return Uint8Array.from(
      atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)),
      (c) => c.charCodeAt(0),
    );
  } catch {
    return null;
  }
}

/**
 * Reads a body, stopping as soon as it passes `max` octets (a client may send gigabytes): null
 * then. A declared Content-Length past `max` is refused before anything is read.
 */
async function boundedBody(request: Request, max: number): Promise<Uint8Array | null> {
  const length = request.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > max) return null;
  if (request.body === null) return new Uint8Array(0);
  // A declared length the HTTP layer holds the body to: read at once (a stream reader costs more).
  if (length !== null && /^\d+$/.test(length)) return new Uint8Array(await request.arrayBuffer());
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) return null;
      parts.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concatBytes(parts);
}

/** How much of a refused request's body is read and dropped before the status goes out. */
const DISCARD_MAX = 1024 * 1024;

/**
 * Reads and drops up to {@link DISCARD_MAX} octets of a body the status refuses: over HTTP/2 an
 * unread body makes the stream end in a reset, and clients (curl) then report an error, not the status.
 */
async function discardBody(request: Request): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  const reader = request.body.getReader();
  try {
    for (let read = 0; read <= DISCARD_MAX;) {
      const { value, done } = await reader.read();
      if (done) return;
      read += value.length;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing to answer
  } finally {
    reader.releaseLock();
  }
}

/**
 * The DNS query `request` carries to `path`, or the HTTP status for one that carries none: 404 for
 * another path, 405 for another method, 415 for a POST of another type, 413 for a query past
 * 65,535 octets, 400 for a missing or malformed one (or one shorter than a DNS header).
 */
export async function dohQuery(request: Request, path: string): Promise<DohQuery> {
  const found = await carried(request, path);
  if (!found.ok) await discardBody(request);
  return found;
}

/** The path of an absolute URL as `Request.url` gives it (`https://host:port/path?query`), without parsing it whole. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? url.length : query);
}

async function carried(request: Request, path: string): Promise<DohQuery> {
  // Every POST pays for this: a URL parsed whole costs more than the rest of the request's checks.
  const pathname = pathOf(request.url);
  if (pathname !== path) return refuse(DohStatus.NOT_FOUND, `no ${pathname} here`);
  let query: Uint8Array;
  if (request.method === "GET") {
    const dns = new URL(request.url).searchParams.get("dns");
    if (dns === null) return refuse(DohStatus.BAD_REQUEST, "GET without a dns parameter");
    const decoded = decodeBase64Url(dns);
    if (decoded === null) return refuse(DohStatus.BAD_REQUEST, "dns is not base64url without padding");
    query = decoded;
  } else if (request.method === "POST") {
    // Parameters (a charset) are allowed; the media type itself must match (RFC 8484 section 4.1).
    const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== DNS_MESSAGE) {
      return refuse(DohStatus.UNSUPPORTED_MEDIA_TYPE, `Content-Type ${type || "none"}, not ${DNS_MESSAGE}`);
    }
    const body = await boundedBody(request, MAX_MESSAGE);
    if (body === null) return refuse(DohStatus.PAYLOAD_TOO_LARGE, `a body over ${MAX_MESSAGE} octets`);
    query = body;
  } else {
    return refuse(DohStatus.METHOD_NOT_ALLOWED, `method ${request.method}`);
  }
  if (query.length > MAX_MESSAGE) {
    return refuse(DohStatus.PAYLOAD_TOO_LARGE, `a query over ${MAX_MESSAGE} octets`);
  }
  if (query.length < 12) return refuse(DohStatus.BAD_REQUEST, "shorter than a DNS header");
  return { ok: true, query };
}

/**
 * How long an HTTP cache may keep `response` (RFC 8484 section 5.1): the smallest TTL of its
 * answer section; with no answers, the negative TTL of the SOA in its authority section (the
 * lesser of its TTL and MINIMUM, RFC 2308 section 5); 0 for neither (an error) or bytes that
 * cannot be read.
 */
export function freshnessOf(response: Uint8Array): number {
  let answers: readonly ResourceRecord[];
  let authorities: readonly ResourceRecord[];
  try {
    ({ answers, authorities } = decodeMessage(response));
  } catch {
    return 0;
  }
  if (answers.length > 0) return Math.min(...answers.map(({ ttl }) => ttl));
  for (const { ttl, data } of authorities) {
    if (data.type === "SOA") return Math.min(ttl, data.minimum);
  }
  return 0;
}
