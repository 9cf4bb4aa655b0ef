/**
 * Comparing two servers' answers to the same query as sets: rcode, AA and TC, and each section as a
 * set of records (owner lower-cased, type, TTL, RDATA octets from the codec), the additional
 * section without OPT. Order within a section never matters. Also the RFC 4035 section 3.1.1 check
 * that no answer or authority RRset comes without its RRSIG.
 * @module
 */
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { query } from "../lib/proto/message.ts";
import { nameKey } from "../lib/proto/name.ts";
import { encodeRData, formatRData, typeCode } from "../lib/proto/rdata.ts";
import { type Message, rcodeName, type ResourceRecord, RRType, typeName } from "../lib/proto/types.ts";
import { Writer } from "../lib/proto/wire.ts";
import { connectTcp } from "./_tcp_client.ts";
import { udpAsk } from "./_udp_client.ts";

/** How a query is sent: transport, DO, and the EDNS buffer size offered. */
export interface Ask {
  readonly tcp?: boolean;
  readonly dnssecOk: boolean;
  readonly bufferSize: number;
}

/** Sends `name`/`type` (RD=0) to 127.0.0.1:`port` as `how` says and decodes the reply. */
export async function ask(port: number, name: string, type: number, how: Ask): Promise<Message> {
  const bytes = encodeMessage(query({ name, type }, {
    id: Math.floor(Math.random() * 0x10000),
    recursionDesired: false,
    edns: { udpPayloadSize: how.bufferSize, version: 0, dnssecOk: how.dnssecOk, flags: 0, options: [] },
  }));
  if (!how.tcp) return decodeMessage(await udpAsk({ transport: "udp", hostname: "127.0.0.1", port }, bytes));
  const client = await connectTcp({ transport: "tcp", hostname: "127.0.0.1", port });
  try {
    return decodeMessage(await client.ask(bytes));
  } finally {
    client.close();
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The record's RDATA octets as the codec writes them (a fresh writer: no pointer leaves the RDATA). */
function rdataHex(record: ResourceRecord): string {
  const writer = new Writer();
  encodeRData(writer, record.data);
  return hex(writer.finish());
}

/** A section as a set: identity key (owner, class, TTL, type, RDATA octets) -> readable line. */
export function recordSet(records: readonly ResourceRecord[]): Map<string, string> {
  const set = new Map<string, string>();
  for (const record of records) {
    const owner = nameKey(record.name);
    const type = typeName(typeCode(record.data));
    const key = `${owner} ${record.class} ${record.ttl} ${type} ${rdataHex(record)}`;
    set.set(key, `${owner || "."}. ${record.ttl} ${type} ${formatRData(record.data)}`);
  }
  return set;
}

/** The three record sections of a message. */
export const SECTIONS = ["answers", "authorities", "additionals"] as const;
/** One record section of a message. */
export type Section = (typeof SECTIONS)[number];

/**
 * What differs between `expected` (the reference server, `refName`) and `actual` (dnsd), as
 * readable lines: header fields, then each record present in only one server's section. In a
 * `loose` section dnsd may send more than the reference (never less).
 */
export function answerDiff(
  expected: Message,
  actual: Message,
  options: { readonly refName?: string; readonly loose?: readonly Section[] } = {},
): string[] {
  const refName = options.refName ?? "nsd";
  const lines: string[] = [];
  const header = (m: Message) => ({ rcode: rcodeName(m.rcode), aa: m.authoritative, tc: m.truncated });
  const [e, a] = [header(expected), header(actual)];
  for (const field of ["rcode", "aa", "tc"] as const) {
    if (e[field] !== a[field]) lines.push(`  ${field}: ${refName} ${e[field]}, dnsd ${a[field]}`);
  }
  for (const section of SECTIONS) {
    const [mine, theirs] = [recordSet(expected[section]), recordSet(actual[section])];
    for (const [key, line] of mine) if (!theirs.has(key)) lines.push(`  ${section} ${refName} only: ${line}`);
    if (options.loose?.includes(section)) continue;
    for (const [key, line] of theirs) if (!mine.has(key)) lines.push(`  ${section} dnsd only: ${line}`);
  }
  return lines;
}

/** Whether `section` of an authoritative answer may hold `type` unsigned (RFC 4035 section 2.2). */
function unsignedAllowed(message: Message, type: number): boolean {
  // Delegation NS records and (in an unsigned delegation) nothing else go unsigned; the parent
  // signs no NS of a child, and a referral has AA=0.
  return type === RRType.RRSIG || (type === RRType.NS && !message.authoritative);
}

/**
 * The RRsets (owner/type) of `sections` (default answer and authority) sent without an RRSIG
 * covering them in the same section: RFC 4035 section 3.1.1 says to set TC rather than send
 * answer and authority RRsets so (and to add the RRSIGs of additional ones if space permits).
 */
export function rrsetsWithoutRrsig(
  message: Message,
  sections: readonly Section[] = ["answers", "authorities"],
): string[] {
  const missing: string[] = [];
  for (const section of sections) {
    const covered = new Set<string>();
    for (const { name, data } of message[section]) {
      if (data.type === "RRSIG") covered.add(`${nameKey(name)}/${data.typeCovered}`);
    }
    for (const { name, data } of message[section]) {
      const type = typeCode(data);
      const key = `${nameKey(name)}/${type}`;
      if (unsignedAllowed(message, type) || covered.has(key)) continue;
      missing.push(`${section}: ${nameKey(name)}. ${typeName(type)}`);
      covered.add(key); // once per RRset
    }
  }
  return missing;
}
