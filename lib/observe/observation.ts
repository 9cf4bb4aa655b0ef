/**
 * The observation point: what the servers tell an observer once a query's response is decided
 * (sent, refused, dropped by the rate limit, answered from the memo or not), over UDP and TCP. The
 * observer gets the query and response BYTES, which every path has, and reads what it needs from
 * them; the stages say where the answer came from on a small per-request {@link Trace}, made only
 * when an observer is configured. Everything here is pure apart from the observer's own I/O.
 * @module
 */

/** Where an answer came from, as small integers so a counter is an index into a typed array. */
export const Source = {
  LOCAL: 0,
  CACHE: 1,
  UPSTREAM: 2,
  STALE: 3,
  BLOCKED: 4,
  ERROR: 5,
  /** REFUSED by policy in the chain (the recursion gate, RD=0, nothing answers). */
  REFUSED: 6,
  /** REFUSED (or dropped) by an admission hook (`--allow`/`--deny`). */
  ADMISSION: 7,
} as const;

/** How many {@link Source} values there are. */
export const SOURCE_COUNT = 8;

/** The label each {@link Source} is shown as: both refusals are `refused`. */
export const SOURCE_NAMES: readonly string[] = [
  "local",
  "cache",
  "upstream",
  "stale",
  "blocked",
  "error",
  "refused",
  "refused",
];

/** What the stages write about one query while it is answered; made only when an observer is configured. */
export interface Trace {
  /** Where the answer came from ({@link Source}); the deepest stage that ran sets it last. */
  source: number;
  /** The upstream that answered ("ip:port"), or null when not forwarded. */
  upstream: string | null;
  /** The rate limit dropped the answer or sent it truncated (slipped). */
  limited: boolean;
}

/** A fresh trace: an error until a stage says otherwise, or refused by an admission hook. */
export function newTrace(admissionRefused = false): Trace {
  return { source: admissionRefused ? Source.ADMISSION : Source.ERROR, upstream: null, limited: false };
}

/**
 * Told once per query when its response is decided. `query` and `client` are good only during
 * the call (the UDP batch's memory is reused): copy what you keep. `response` is the response as
 * decided before the rate limit (null: none, as for a query an admission hook dropped).
 */
export interface QueryObserver {
  /**
   * One query's outcome.
   * @param query the query as received
   * @param response the response's bytes, or null when none was made
   * @param client who asked
   * @param transport how (`udp`, `tcp`)
   * @param receivedAt when it arrived, ms on the server's monotonic clock
   * @param source where the answer came from ({@link Source})
   * @param upstream the upstream that answered, or null
   * @param limited whether the rate limit dropped or slipped the answer
   */
  observe(
    query: Uint8Array,
    response: Uint8Array | null,
    client: Deno.NetAddr,
    transport: string,
    receivedAt: number,
    source: number,
    upstream: string | null,
    limited: boolean,
  ): void;
}

/** Several observers as one; null when there are none. */
export function observers(list: readonly QueryObserver[]): QueryObserver | null {
  if (list.length === 0) return null;
  if (list.length === 1) return list[0]!;
  return {
    observe(query, response, client, transport, receivedAt, source, upstream, limited) {
      for (const one of list) {
        one.observe(query, response, client, transport, receivedAt, source, upstream, limited);
      }
    },
  };
}

/** Offset just past the first question's name, or -1 when the name runs off the message or is compressed. */
export function questionNameEnd(message: Uint8Array): number {
  let at = 12;
  while (at < message.length) {
    const length = message[at]!;
    if (length === 0) return at + 1;
    if (length > 63) return -1; // a pointer or reserved label type: no question written that way
    at += length + 1;
  }
  return -1;
}

/** The first question's TYPE, or -1 when there is none (QDCOUNT 0, or cut short). */
export function questionType(message: Uint8Array): number {
  if (message.length < 12 || (message[4]! | message[5]!) === 0) return -1;
  const end = questionNameEnd(message);
  if (end < 0 || end + 2 > message.length) return -1;
  return (message[end]! << 8) | message[end + 1]!;
}

/** The first question's name in presentation form, lower case, "." for the root; null when there is none. */
export function questionName(message: Uint8Array): string | null {
  if (message.length < 13 || (message[4]! | message[5]!) === 0 || questionNameEnd(message) < 0) return null;
  let at = 12;
  let name = "";
  while (message[at]! !== 0) {
    const length = message[at]!;
    for (let i = at + 1; i <= at + length; i++) {
      const octet = message[i]!;
      // Escaped as in zone files (RFC 4343): a dot, backslash or unprintable octet cannot mislead a reader.
      if (octet === 0x2e || octet === 0x5c) name += "\\" + String.fromCharCode(octet);
      else if (octet <= 0x20 || octet >= 0x7f) name += "\\" + String(octet).padStart(3, "0");
      else name += String.fromCharCode(octet >= 0x41 && octet <= 0x5a ? octet | 0x20 : octet);
    }
    name += ".";
    at += length + 1;
  }
  return name === "" ? "." : name.slice(0, -1);
}

/** The header flags, in the order the query log writes them. */
const FLAGS: readonly (readonly [string, number, number])[] = [
  ["qr", 2, 0x80],
  ["aa", 2, 0x04],
  ["tc", 2, 0x02],
  ["rd", 2, 0x01],
  ["ra", 3, 0x80],
  ["ad", 3, 0x20],
  ["cd", 3, 0x10],
];

/** The set flags of a message's header, as dig names them: `["qr","aa","rd"]`. */
export function responseFlags(message: Uint8Array): string[] {
  const set: string[] = [];
  if (message.length < 12) return set;
  for (const [name, octet, mask] of FLAGS) if ((message[octet]! & mask) !== 0) set.push(name);
  return set;
}

/** The answer count (ANCOUNT) of a message. */
export function answerCount(message: Uint8Array): number {
  return message.length < 12 ? 0 : (message[6]! << 8) | message[7]!;
}

/** Skips a name (labels or a pointer) at `at`; -1 when it runs off the message. */
function skipName(message: Uint8Array, at: number): number {
  while (at < message.length) {
    const length = message[at]!;
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2;
    at += length + 1;
  }
  return -1;
}

/** A response's Extended DNS Error (RFC 8914): its INFO-CODE and EXTRA-TEXT; null when it has none. */
export function extendedError(message: Uint8Array): { readonly code: number; readonly text: string } | null {
  if (message.length < 12) return null;
  const count = (offset: number) => (message[offset]! << 8) | message[offset + 1]!;
  let at = 12;
  for (let i = count(4); i > 0; i--) {
    at = skipName(message, at);
    if (at < 0) return null;
    at += 4;
  }
  const records = count(6) + count(8) + count(10);
  for (let i = 0; i < records; i++) {
    at = skipName(message, at);
    if (at < 0 || at + 10 > message.length) return null;
    const type = count(at);
    const length = count(at + 8);
    at += 10;
    if (at + length > message.length) return null;
    if (type === 41) {
      for (let option = at; option + 4 <= at + length;) {
        const code = count(option);
        const size = count(option + 2);
        if (code === 15 && size >= 2 && option + 4 + size <= at + length) {
          const text = new TextDecoder().decode(message.subarray(option + 6, option + 4 + size));
          return { code: count(option + 4), text };
        }
        option += 4 + size;
      }
    }
    at += length;
  }
  return null;
}
