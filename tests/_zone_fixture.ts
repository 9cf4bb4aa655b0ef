/**
 * Local data for the authority tests: four zones as in-memory zone files, a hosts file and a
 * mappings table, built the way dnsd builds them, plus a stub upstream and a way to ask a
 * question through `respond()` with dnsd's own stages.
 * @module
 */
import { contextOf } from "./_request.ts";
import { deepEqual } from "node:assert/strict";
import { test } from "./_limit.ts";
import { authoritative, MAX_CNAME_CHAIN } from "../lib/resolve/authority.ts";
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { forward } from "../lib/upstream/forward.ts";
import { parseHosts } from "../lib/zone/hosts.ts";
import { buildLocalData, type LocalData } from "../lib/zone/local_data.ts";
import { query, reply } from "../lib/proto/message.ts";
import { formatRData, typeCode } from "../lib/proto/rdata.ts";
import { chain, requireRecursion } from "../lib/resolve/resolver.ts";
import { respond } from "../lib/server/respond.ts";
import { mappingRecords, type Mappings } from "../lib/zone/static_map.ts";
import { type Message, type ResourceRecord, RRClass, typeFromText, typeName } from "../lib/proto/types.ts";
import { recursionGate } from "../lib/policy/acl.ts";
import type { Request } from "../lib/resolve/request.ts";
import type { Exchange } from "../lib/upstream/udp_exchange.ts";
import { buildZone } from "../lib/zone/zone.ts";
import { parseZoneFile } from "../lib/zone/zone_parser.ts";

/** `prefix1 CNAME prefix2 ... prefix{count} CNAME prefix{count+1}`, then an A at the end. */
function cnameChain(prefix: string, count: number, address: string): string {
  const links = Array.from({ length: count }, (_, i) => `${prefix}${i + 1} CNAME ${prefix}${i + 2}`);
  return [...links, `${prefix}${count + 1} A ${address}`].join("\n");
}

/** SOA TTL 3600 above MINIMUM 300: negative answers carry TTL 300 (RFC 2308 section 3). */
const DNSD_TEST = `$ORIGIN dnsd.test.
$TTL 3600
@          SOA   ns1 hostmaster 2024010101 7200 900 1209600 300
@          NS    ns1
@          MX    10 mail
ns1        A     192.0.2.53
mail       A     192.0.2.25
mail       AAAA  2001:db8::25
www        A     192.0.2.80
alias      CNAME www
alias2     CNAME alias
cross      CNAME host.other.test.
toHosts    CNAME inzone
loop1      CNAME loop2
loop2      CNAME loop1
dangling   CNAME nowhere
external   CNAME cdn.upstream.net.
intoCut    CNAME host.subdel
a.b.c      A     192.0.2.9
_sip._udp  SRV   0 5 5060 sip
sip        A     192.0.2.60
subdel     NS    ns.subdel
subdel     NS    ns.elsewhere.net.
subdel     DS    60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
ns.subdel  A     192.0.2.54
redirect   DNAME other.test.
inside     DNAME dnsd.test.
out        DNAME upstream.net.
long       DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.dnsd.test.
$INCLUDE chains.inc
`;

/** Exactly MAX_CNAME_CHAIN CNAMEs (followed to the end), and one more (cut short). */
const CHAINS = `${cnameChain("long", MAX_CNAME_CHAIN, "192.0.2.99")}
${cnameChain("over", MAX_CNAME_CHAIN + 1, "192.0.2.98")}
`;

/** SOA TTL 60 below MINIMUM 600: negative answers carry TTL 60. */
const OTHER_TEST = `other.test. 60 IN SOA ns.other.test. hostmaster.other.test. 1 7200 900 1209600 600
other.test.      60  NS  ns.other.test.
ns.other.test.   60  A   192.0.2.153
host.other.test. 120 A   192.0.2.77
`;

/** RFC 4592 section 2.2.1, with its <SOA RDATA> and <SRV RDATA> filled in. */
const EXAMPLE = `$ORIGIN example.
example.                 3600 IN  SOA   ns.example.com. hostmaster.example.com. 1 7200 900 1209600 3600
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
`;

/** A wildcard CNAME, and a wildcard that is an empty non-terminal (RFC 4592 section 4.2). */
const WILD_TEST = `$ORIGIN wild.test.
$TTL 600
@          SOA   ns hostmaster 7 7200 900 1209600 600
@          NS    ns
ns         A     192.0.2.200
*.cn       CNAME host1.example.
x.*.ent    TXT   "below an empty wildcard"
`;

/** The zone files by path; `$INCLUDE chains.inc` resolves next to its zone. */
export const ZONE_FILES: Readonly<Record<string, string>> = {
  "/zones/dnsd.test.zone": DNSD_TEST,
  "/zones/chains.inc": CHAINS,
  "/zones/other.test.zone": OTHER_TEST,
  "/zones/example.zone": EXAMPLE,
  "/zones/wild.test.zone": WILD_TEST,
};

/** The zone files to load, in order (chains.inc comes in through dnsd.test's `$INCLUDE`). */
export const ZONE_PATHS = [
  "/zones/dnsd.test.zone",
  "/zones/other.test.zone",
  "/zones/example.zone",
  "/zones/wild.test.zone",
] as const;

/**
 * A hosts file: one name a zone also has, one inside a zone that it lacks (and one below a name the
 * zone lacks), one over a mapping.
 */
export const HOSTS = `192.0.2.100 printer.lan
192.0.2.101 inzone.dnsd.test
192.0.2.104 host.under.dnsd.test
192.0.2.102 www.dnsd.test
192.0.2.103 shared.lan
2001:db8::5 nas6.lan
`;

/** Mappings: www.dnsd.test loses to the zone, shared.lan to the hosts file, mapped.lan wins. */
export const MAPPINGS: Mappings = {
  "www.dnsd.test": "198.51.100.1",
  "shared.lan": { A: "198.51.100.2", TXT: "from mappings" },
  "mapped.lan": "198.51.100.3",
};

/** A `read` over a file map that the test may change between loads; a missing path rejects. */
export function memoryRead(files: Readonly<Record<string, string>>): (path: string) => Promise<string> {
  return function read(path) {
    const text = files[path];
    if (text === undefined) return Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`));
    return Promise.resolve(text);
  };
}

/** Builds the fixture's local data as dnsd does: parse, build each zone, combine. */
export async function fixtureData(): Promise<LocalData> {
  const read = memoryRead(ZONE_FILES);
  const zones = await Promise.all(
    ZONE_PATHS.map(async (path) => buildZone(await parseZoneFile(path, { read }), path)),
  );
  const hosts = parseHosts(HOSTS, "/etc/hosts").records;
  return buildLocalData({ zones, hosts, mappings: mappingRecords(MAPPINGS) });
}

/** A record as one line: `owner TTL TYPE rdata` (rdata in zone-file text). */
export function line(record: ResourceRecord): string {
  return `${record.name} ${record.ttl} ${typeName(typeCode(record.data))} ${formatRData(record.data)}`;
}

/** The address the stub upstream gives every A question. */
export const UPSTREAM_ADDRESS = "203.0.113.1";

/** An upstream that records each question (`name TYPE CLASS`) and answers A questions. */
export function stubUpstream(): { readonly exchange: Exchange; readonly asked: string[] } {
  const asked: string[] = [];
  const exchange: Exchange = (query) => {
    const request = decodeMessage(query);
    const question = request.questions[0]!;
    asked.push(`${question.name} ${typeName(question.type)} ${question.class}`);
    const answers: ResourceRecord[] = question.type === typeFromText("A")
      ? [{ name: question.name, class: RRClass.IN, ttl: 30, data: { type: "A", address: UPSTREAM_ADDRESS } }]
      : [];
    return Promise.resolve(encodeMessage(reply(request, { answers })));
  };
  return { exchange, asked };
}

/** How {@link ask} asks: RD (default 1), the transport (UDP), DO (0), and whether the client may recurse (yes). */
export interface AskOptions {
  readonly rd?: boolean;
  readonly transport?: "udp" | "tcp";
  readonly dnssecOk?: boolean;
  readonly mayRecurse?: boolean;
}

/** What one question through `respond()` gives back. */
export interface Asked {
  /** The decoded response. */
  readonly response: Message;
  /** The questions the stub upstream was asked. */
  readonly upstream: readonly string[];
  /** Errors `respond()` reported. */
  readonly reports: readonly unknown[];
}

/**
 * Asks `question` (`name TYPE [CLASS code]`) through respond() and dnsd's stages: authoritative
 * local data, then RD=1 only, then forwarding to the stub.
 */
export async function ask(
  data: LocalData,
  question: string,
  options: AskOptions = {},
): Promise<Asked> {
  const [name = "", type = "A", rrClass = String(RRClass.IN)] = question.split(" ");
  const { exchange, asked } = stubUpstream();
  const reports: unknown[] = [];
  const resolve = chain([
    authoritative(() => data),
    requireRecursion(),
    // The recursion gate dnsd places before the cache and upstreams.
    recursionGate<Request, Message>(() => options.mayRecurse ?? true),
    forward([{ name: "stub", exchange }], { timeoutMs: 1000, nextId: () => 0x2222 }),
  ]);
  const request = query({ name, type: typeFromText(type)!, class: Number(rrClass) }, {
    id: 0x4d4d,
    recursionDesired: options.rd ?? true,
    edns: { udpPayloadSize: 4096, version: 0, dnssecOk: options.dnssecOk ?? false, flags: 0, options: [] },
  });
  const bytes = await respond(encodeMessage(request), contextOf({ transport: options.transport ?? "udp" }), {
    resolve,
    report: (error) => reports.push(error),
  });
  if (!bytes) throw new Error(`no response to ${question}`);
  return { response: decodeMessage(bytes), upstream: asked, reports };
}

/** One row of a semantics table: a question and everything the response must hold. */
export interface Row {
  /** Completes "respond() ..." in the test name. */
  readonly name: string;
  /** `name TYPE [CLASS code]`, as {@link ask} takes it. */
  readonly question: string;
  /** RD; true unless given. */
  readonly rd?: boolean;
  /** The transport the question comes over; UDP unless given. */
  readonly transport?: "udp" | "tcp";
  /** DO; false unless given. */
  readonly dnssecOk?: boolean;
  /** Whether the recursion gate lets the client recurse; true unless given. */
  readonly mayRecurse?: boolean;
  /** The response code expected. */
  readonly rcode: number;
  /** AA expected. */
  readonly aa: boolean;
  /** Each section as {@link line}s, in order; empty unless given. */
  readonly answer?: readonly string[];
  readonly authority?: readonly string[];
  readonly additional?: readonly string[];
  /** The questions the upstream must have been asked; none unless given. */
  readonly upstream?: readonly string[];
}

/** Registers one test per row, all against one {@link fixtureData} (or what `load` builds). */
export function testRows(rows: readonly Row[], load: () => Promise<LocalData> = fixtureData): void {
  let data: Promise<LocalData> | undefined;
  for (const row of rows) {
    test(`respond() ${row.name}`, async () => {
      data ??= load();
      const { response, upstream, reports } = await ask(await data, row.question, {
        rd: row.rd ?? true,
        transport: row.transport ?? "udp",
        dnssecOk: row.dnssecOk ?? false,
        mayRecurse: row.mayRecurse ?? true,
      });
      const [name, type = "A", rrClass = String(RRClass.IN)] = row.question.split(" ");
      deepEqual({
        question: response.questions.map((q) => `${q.name} ${typeName(q.type)} ${q.class}`),
        rcode: response.rcode,
        aa: response.authoritative,
        tc: response.truncated,
        answer: response.answers.map(line),
        authority: response.authorities.map(line),
        additional: response.additionals.map(line),
        upstream,
        reports,
      }, {
        question: [`${name} ${type} ${rrClass}`],
        rcode: row.rcode,
        aa: row.aa,
        tc: false,
        answer: row.answer ?? [],
        authority: row.authority ?? [],
        additional: row.additional ?? [],
        upstream: row.upstream ?? [],
        reports: [],
      });
    });
  }
}
