/**
 * The local-network defaults: names that must never leave the network (RFC 6761 special-use names,
 * the RFC 6303 reverse zones of private and special addresses, RFC 8375 `home.arpa`) are answered
 * here, as unbound's default `local-zone`s are: NXDOMAIN below a zone's apex, NODATA at it, with a
 * SOA made for the zone; `localhost` and every name below it are 127.0.0.1 and ::1, and the reverse
 * names of 127.0.0.1 and ::1 are `localhost`. Local data answers before this stage and so wins; a
 * forward zone at or below a default zone wins too (its names go on to be forwarded).
 * @module
 */
import {
  isAtOrBelow,
  nameKey,
  negativeTtl,
  parentName,
  Rcode,
  reply,
  type ResourceRecord,
  RRClass,
  RRType,
  typeCode,
} from "../proto/mod.ts";
import type { LocalData } from "../zone/mod.ts";
import type { Stage } from "./request.ts";

/** The TTL of every record made here, and the SOA's MINIMUM: unbound's 10800 (3 hours). */
export const DEFAULT_ZONE_TTL = 10_800;

/** The reverse (ip6.arpa) zone of a /`4 × hex.length` IPv6 prefix written as nibbles. */
function ip6Zone(nibbles: string): string {
  return [...nibbles].reverse().join(".") + ".ip6.arpa";
}

const LOCALHOST = "localhost";
/** The ip6.arpa name of ::1, which is a zone of its own (RFC 6303 section 4.3). */
const IPV6_LOOPBACK = ip6Zone("0".repeat(31) + "1");

/**
 * The default zones, as listed by issue 13: RFC 6761 (`localhost`, `invalid`, `onion` from RFC
 * 7686, `local` from RFC 6762), RFC 8375 (`home.arpa`), RFC 6303 (RFC 1918, 0/8, 127/8,
 * 169.254/16, the three TEST-NETs, 255.255.255.255, ::, ::1, fd00::/8, fe80::/10, 2001:db8::/32),
 * and RFC 7793's 100.64.0.0/10 (shared address space, `64.100` to `127.100.in-addr.arpa`), as
 * unbound has them.
 * `test` is not among them: people use it for real test zones forwarded elsewhere.
 */
export const DEFAULT_ZONES: readonly string[] = [
  LOCALHOST,
  "invalid",
  "onion",
  "local",
  "home.arpa",
  "0.in-addr.arpa",
  "10.in-addr.arpa",
  ...Array.from({ length: 64 }, (_, i) => `${64 + i}.100.in-addr.arpa`),
  "127.in-addr.arpa",
  "254.169.in-addr.arpa",
  ...Array.from({ length: 16 }, (_, i) => `${16 + i}.172.in-addr.arpa`),
  "168.192.in-addr.arpa",
  "2.0.192.in-addr.arpa",
  "100.51.198.in-addr.arpa",
  "113.0.203.in-addr.arpa",
  "255.255.255.255.in-addr.arpa",
  ip6Zone("0".repeat(32)),
  IPV6_LOOPBACK,
  ip6Zone("fd"),
  ip6Zone("fe8"),
  ip6Zone("fe9"),
  ip6Zone("fea"),
  ip6Zone("feb"),
  ip6Zone("20010db8"),
];

/** Names with a PTR of their own: the reverse names of 127.0.0.1 and ::1 (as unbound answers). */
const PTR_NAMES: ReadonlyMap<string, string> = new Map([
  ["1.0.0.127.in-addr.arpa", LOCALHOST],
  [IPV6_LOOPBACK, LOCALHOST],
]);

/** The last label of every default zone: most names end in none of them, and pass at once. */
const TAILS: ReadonlySet<string> = new Set(
  DEFAULT_ZONES.map((zone) => zone.slice(zone.lastIndexOf(".") + 1)),
);

/** What a default zone answers: always authoritative (AA=1), as unbound's local zones are. */
export interface DefaultAnswer {
  /** NOERROR or NXDOMAIN. */
  readonly rcode: number;
  /** The answer section. */
  readonly answers: readonly ResourceRecord[];
  /** The zone's SOA for a negative answer, else empty. */
  readonly authorities: readonly ResourceRecord[];
}

/** The default zones, ready for lookups, with the forward zones that take names from them. */
export interface DefaultZones {
  /** The zone apex keys. */
  readonly zones: ReadonlySet<string>;
  /** Forward zones' domains (keys): a name at or below one inside a default zone is not answered. */
  readonly forwarded: ReadonlySet<string>;
  /** Names that exist because a name below them does (empty non-terminals): NODATA, not NXDOMAIN. */
  readonly above: ReadonlySet<string>;
}

/**
 * Prepares the default zones.
 * @param forwardDomains the forward zones' domains: those at or below a default zone win over it
 */
export function compileDefaultZones(forwardDomains: readonly string[] = []): DefaultZones {
  const zones = new Set(DEFAULT_ZONES);
  const forwarded = new Set(forwardDomains.map(nameKey));
  const above = new Set<string>();
  for (const name of [...PTR_NAMES.keys(), ...forwarded]) {
    for (let at = parentName(name); at !== ""; at = parentName(at)) above.add(at);
  }
  return { zones, forwarded, above };
}

function record(name: string, data: ResourceRecord["data"], ttl = DEFAULT_ZONE_TTL): ResourceRecord {
  return { name, class: RRClass.IN, ttl, data };
}

/** The SOA unbound makes for a local zone: `ZONE 10800 IN SOA localhost. nobody.invalid. 1 3600 1200 604800 10800`. */
function soaOf(zone: string): ResourceRecord {
  return record(zone, {
    type: "SOA",
    mname: LOCALHOST,
    rname: "nobody.invalid",
    serial: 1,
    refresh: 3600,
    retry: 1200,
    expire: 604_800,
    minimum: DEFAULT_ZONE_TTL,
  });
}

/** Every record made for `key` in `zone`, owned by `owner` (the name as asked). */
function recordsAt(zone: string, key: string, owner: string): ResourceRecord[] {
  const records: ResourceRecord[] = [];
  if (zone === LOCALHOST) {
    records.push(
      record(owner, { type: "A", address: "127.0.0.1" }),
      record(owner, { type: "AAAA", address: "::1" }),
    );
  }
  const ptr = PTR_NAMES.get(key);
  if (ptr !== undefined) records.push(record(owner, { type: "PTR", target: ptr }));
  if (key === zone) {
    const soa = soaOf(zone);
    records.push({ ...soa, name: owner }, record(owner, { type: "NS", host: LOCALHOST }));
  }
  return records;
}

/** The code of a record's type, for the types made here. */
const CODES: Readonly<Record<string, number>> = {
  A: RRType.A,
  AAAA: RRType.AAAA,
  PTR: RRType.PTR,
  SOA: RRType.SOA,
  NS: RRType.NS,
};

/**
 * The default zone that answers `name`, or null when none does: the closest enclosing default zone,
 * unless a forward zone at or below it covers the name first.
 */
export function defaultZoneOf(table: DefaultZones, name: string): string | null {
  const end = name.endsWith(".") ? name.length - 1 : name.length;
  const tail = name.slice(name.lastIndexOf(".", end - 1) + 1, end).toLowerCase();
  if (!TAILS.has(tail)) return null; // a prefilter only: an escaped dot is handled below
  // One walk up from the name: a forward zone met before a default zone is inside it (or there is none).
  for (let at = nameKey(name); at !== ""; at = parentName(at)) {
    if (table.forwarded.has(at)) return null;
    if (table.zones.has(at)) return at;
  }
  return null;
}

/**
 * What the default zones answer for a question, or null when no default zone holds the name.
 * @param exists whether local data has names below `key` (an empty non-terminal, so NODATA)
 */
export function defaultZoneAnswer(
  table: DefaultZones,
  name: string,
  type: number,
  exists: (key: string) => boolean = () => false,
): DefaultAnswer | null {
  const zone = defaultZoneOf(table, name);
  if (zone === null) return null;
  const key = nameKey(name);
  const all = recordsAt(zone, key, name);
  const answers = type === RRType.ANY ? all : all.filter((one) => CODES[one.data.type] === type);
  if (answers.length > 0) return { rcode: Rcode.NOERROR, answers, authorities: [] };
  const soa = soaOf(zone);
  const negative = { ...soa, ttl: negativeTtl(soa.ttl, DEFAULT_ZONE_TTL) };
  const found = all.length > 0 || table.above.has(key) || exists(key);
  return { rcode: found ? Rcode.NOERROR : Rcode.NXDOMAIN, answers: [], authorities: [negative] };
}

/** Whether local data holds a name below `key`: a hosts or mappings name, or a zone's apex. */
export function hasNamesBelow(data: LocalData, key: string): boolean {
  if (data.namesAbove.has(key)) return true;
  for (const apex of data.zones.keys()) if (apex !== key && isAtOrBelow(apex, key)) return true;
  return false;
}

/** An ANY answer cut to its first RRset, as local data's is over UDP (RFC 8482 section 4.1). */
function firstRRset(answer: DefaultAnswer): DefaultAnswer {
  const first = answer.answers[0];
  if (!first) return answer;
  const type = typeCode(first.data);
  return { ...answer, answers: answer.answers.filter((record) => typeCode(record.data) === type) };
}

/** Options for {@link defaultZones}. */
export interface DefaultZonesOptions {
  /** Whether the default zones are answered (`--no-default-zones` turns them off); read per query. */
  readonly enabled: () => boolean;
  /** The forward zones' domains: names at or below one inside a default zone are forwarded. */
  readonly forwardDomains?: readonly string[];
  /** The local data, to tell an empty non-terminal above its names from a name that does not exist. */
  readonly localData?: () => LocalData;
}

/** The stage that answers the default zones (class IN, or ANY), never passing their names on. */
export function defaultZones(options: DefaultZonesOptions): Stage {
  const table = compileDefaultZones(options.forwardDomains);
  const { localData } = options;
  const exists = localData ? (key: string) => hasNamesBelow(localData(), key) : undefined;
  return function defaultZones(request, next) {
    const query = request.message;
    const question = query.questions[0];
    if (!question || (question.class !== RRClass.IN && question.class !== RRClass.ANY)) return next(request);
    if (!options.enabled()) return next(request);
    const found = defaultZoneAnswer(table, question.name, question.type, exists);
    if (!found) return next(request);
    const answer = question.type === RRType.ANY && request.transport === "udp" ? firstRRset(found) : found;
    // For QCLASS ANY no server holds every class, so no answer is authoritative (as NSD answers).
    return Promise.resolve(reply(query, { authoritative: question.class !== RRClass.ANY, ...answer }));
  };
}
