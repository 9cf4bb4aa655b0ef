/**
 * The local stages of issue 13 (CHAOS, the default zones of RFC 6761, RFC 6303 and RFC 8375, the
 * single-label rule) in the order `buildResolver` puts them, with forwarding replaced by a stage
 * that records where each question would have gone: every default zone's apex and a name below
 * it, the localhost names, the PTR of 127.0.0.1 and ::1, local data and forward zones winning over
 * the defaults, and the switches. Queries go in as wire bytes through `respond()`.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { buildResolver, DEFAULT_LOCAL_SETTINGS, type LocalSettings } from "../../lib/server/app.ts";
import { respond } from "../../lib/server/respond.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { Rcode, RRClass, typeFromText } from "../../lib/proto/types.ts";
import { parseHosts } from "../../lib/zone/hosts.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import type { Stage } from "../../lib/resolve/request.ts";
import { compileDefaultZones, DEFAULT_ZONES, defaultZoneOf } from "../../lib/resolve/default_zones.ts";
import { characterStrings } from "../../lib/resolve/chaos.ts";
import { isSingleLabelAddressQuery } from "../../lib/resolve/single_label.ts";
import type { ForwardZone } from "../../lib/upstream/forward_zones.ts";
import type { ServerCounters } from "../../lib/server/app.ts";
import { contextOf } from "../_request.ts";
import { line } from "../_zone_fixture.ts";
import { hex } from "../_hex.ts";

const HOSTS = "192.168.1.10 nas.home.arpa nas\n10.0.0.5 printer\n";
const LAN: ForwardZone = { domain: "lan.home.arpa", upstreams: [{ hostname: "127.0.0.1", port: 5301 }] };
const REVERSE: ForwardZone = {
  domain: "10.in-addr.arpa",
  upstreams: [{ hostname: "127.0.0.1", port: 5302 }],
};

/** The SOA unbound makes for a default zone, as a negative answer carries it. */
function soa(zone: string): string {
  return `${zone} 10800 SOA localhost. nobody.invalid. 1 3600 1200 604800 10800`;
}

interface Outcome {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  /** The names forwarding was asked for. */
  readonly forwarded: readonly string[];
}

/** Asks `question` (`name TYPE [CLASS]`) through respond() and the local stages. */
async function ask(
  question: string,
  settings: Partial<LocalSettings> = {},
  forwardZones: readonly ForwardZone[] = [LAN],
  transport: "udp" | "tcp" = "udp",
): Promise<Outcome> {
  const [name = "", type = "A", rrClass = "IN"] = question.split(" ");
  const forwarded: string[] = [];
  const forwarder: Stage = (request) => {
    forwarded.push(request.message.questions[0]!.name);
    return Promise.resolve(reply(request.message, { rcode: Rcode.NOERROR }));
  };
  const { resolve } = buildResolver(
    {
      host: "127.0.0.1",
      port: 0,
      upstreams: [{ hostname: "127.0.0.1", port: 5300 }],
      timeoutMs: 100,
      localData: fixedData({ hosts: parseHosts(HOSTS, "/etc/hosts").records }),
      forwardZones,
      version: "9.9.9",
      local: () => ({ ...DEFAULT_LOCAL_SETTINGS, ...settings }),
    },
    {} as ServerCounters,
    { forwarder },
  );
  const classCode = RRClass[rrClass as keyof typeof RRClass];
  const bytes = encodeMessage(query({ name, type: typeFromText(type)!, class: classCode }, { id: 7 }));
  const response = await respond(bytes, contextOf({ transport }), {
    resolve,
    report: (error) => forwarded.push(`!${error}`),
  });
  const message = decodeMessage(response!);
  return {
    rcode: message.rcode,
    aa: message.authoritative,
    answer: message.answers.map(line),
    authority: message.authorities.map(line),
    forwarded,
  };
}

function nxdomain(zone: string): Omit<Outcome, "forwarded"> {
  return { rcode: Rcode.NXDOMAIN, aa: true, answer: [], authority: [soa(zone)] };
}

function nodata(zone: string): Omit<Outcome, "forwarded"> {
  return { rcode: Rcode.NOERROR, aa: true, answer: [], authority: [soa(zone)] };
}

const FORWARDED = { rcode: Rcode.NOERROR, aa: false, answer: [], authority: [] };

// ---- every default zone: NODATA at its apex, NXDOMAIN below, never forwarded ----

for (const zone of DEFAULT_ZONES.filter((zone) => zone !== "localhost")) {
  test(`default zone ${zone}: NODATA at the apex, SOA and NS there, NXDOMAIN below`, async () => {
    const ptrAtApex = zone.startsWith("1.0.0.0.");
    const apexPtr = await ask(`${zone} PTR`);
    if (ptrAtApex) {
      deepEqual(apexPtr.answer, [`${zone} 10800 PTR localhost.`]);
    } else {
      deepEqual(apexPtr, { ...nodata(zone), forwarded: [] });
    }
    deepEqual(await ask(`${zone} SOA`), {
      rcode: Rcode.NOERROR,
      aa: true,
      answer: [soa(zone)],
      authority: [],
      forwarded: [],
    });
    deepEqual((await ask(`${zone} NS`)).answer, [`${zone} 10800 NS localhost.`]);
    deepEqual(await ask(`x.y.${zone} A`), { ...nxdomain(zone), forwarded: [] });
    deepEqual(await ask(`Below.${zone} PTR`), { ...nxdomain(zone), forwarded: [] });
  });
}

interface Row {
  readonly name: string;
  readonly question: string;
  readonly settings?: Partial<LocalSettings>;
  readonly zones?: readonly ForwardZone[];
  readonly transport?: "udp" | "tcp";
  readonly want: Outcome;
}

const rows: readonly Row[] = [
  {
    name: "localhost A is 127.0.0.1, AA=1",
    question: "localhost A",
    want: { rcode: 0, aa: true, answer: ["localhost 10800 A 127.0.0.1"], authority: [], forwarded: [] },
  },
  {
    name: "a name below localhost, any case, is 127.0.0.1 and ::1",
    question: "Db.Dev.LOCALHOST AAAA",
    want: { rcode: 0, aa: true, answer: ["Db.Dev.LOCALHOST 10800 AAAA ::1"], authority: [], forwarded: [] },
  },
  {
    name: "localhost MX is NODATA with localhost's SOA",
    question: "www.localhost MX",
    want: { ...nodata("localhost"), forwarded: [] },
  },
  {
    name: "a CGNAT address's reverse name (100.64.0.0/10, RFC 7793) is NXDOMAIN here, never forwarded",
    question: "1.0.65.100.in-addr.arpa PTR",
    want: { ...nxdomain("65.100.in-addr.arpa"), forwarded: [] },
  },
  {
    name: "the reverse name of 100.128.0.1, outside 100.64.0.0/10, is forwarded",
    question: "1.0.128.100.in-addr.arpa PTR",
    want: { ...FORWARDED, forwarded: ["1.0.128.100.in-addr.arpa"] },
  },
  {
    name: "localhost ANY over UDP is the apex's first RRset only (RFC 8482), as a zone's is",
    question: "localhost ANY",
    want: { rcode: 0, aa: true, answer: ["localhost 10800 A 127.0.0.1"], authority: [], forwarded: [] },
  },
  {
    name: "localhost ANY over TCP is every record at the apex",
    question: "localhost ANY",
    transport: "tcp",
    want: {
      rcode: 0,
      aa: true,
      answer: [
        "localhost 10800 A 127.0.0.1",
        "localhost 10800 AAAA ::1",
        soa("localhost"),
        "localhost 10800 NS localhost.",
      ],
      authority: [],
      forwarded: [],
    },
  },
  {
    name: "the PTR of 127.0.0.1 is localhost.",
    question: "1.0.0.127.in-addr.arpa PTR",
    want: {
      rcode: 0,
      aa: true,
      answer: ["1.0.0.127.in-addr.arpa 10800 PTR localhost."],
      authority: [],
      forwarded: [],
    },
  },
  {
    name: "the PTR of ::1 is localhost.",
    question: `1${".0".repeat(31)}.ip6.arpa PTR`,
    want: {
      rcode: 0,
      aa: true,
      answer: [`1${".0".repeat(31)}.ip6.arpa 10800 PTR localhost.`],
      authority: [],
      forwarded: [],
    },
  },
  {
    name: "the PTR of 127.0.0.2 is NXDOMAIN",
    question: "2.0.0.127.in-addr.arpa PTR",
    want: { ...nxdomain("127.in-addr.arpa"), forwarded: [] },
  },
  {
    name: "an empty non-terminal above 1.0.0.127.in-addr.arpa is NODATA",
    question: "0.0.127.in-addr.arpa PTR",
    want: { ...nodata("127.in-addr.arpa"), forwarded: [] },
  },
  {
    name: "a hosts file naming 192.168.1.10 answers its PTR (local data wins)",
    question: "10.1.168.192.in-addr.arpa PTR",
    want: {
      rcode: 0,
      aa: true,
      answer: ["10.1.168.192.in-addr.arpa 300 PTR nas.home.arpa."],
      authority: [],
      forwarded: [],
    },
  },
  {
    name: "another name under 168.192.in-addr.arpa stays NXDOMAIN",
    question: "11.1.168.192.in-addr.arpa PTR",
    want: { ...nxdomain("168.192.in-addr.arpa"), forwarded: [] },
  },
  {
    name: "the empty non-terminal above a hosts name is NODATA",
    question: "1.168.192.in-addr.arpa PTR",
    want: { ...nodata("168.192.in-addr.arpa"), forwarded: [] },
  },
  {
    name: "a hosts name in home.arpa answers; others there are NXDOMAIN",
    question: "nas.home.arpa A",
    want: { rcode: 0, aa: true, answer: ["nas.home.arpa 300 A 192.168.1.10"], authority: [], forwarded: [] },
  },
  {
    name: "x.home.arpa is NXDOMAIN",
    question: "x.home.arpa A",
    want: { ...nxdomain("home.arpa"), forwarded: [] },
  },
  {
    name: "a forward zone inside a default zone wins: its names are forwarded",
    question: "nas.lan.home.arpa A",
    want: { ...FORWARDED, forwarded: ["nas.lan.home.arpa"] },
  },
  {
    name: "a forward zone's own domain inside a default zone is forwarded",
    question: "LAN.home.arpa SOA",
    want: { ...FORWARDED, forwarded: ["LAN.home.arpa"] },
  },
  {
    name: "a forward zone equal to a default zone wins (reverse)",
    question: "6.0.0.10.in-addr.arpa PTR",
    zones: [REVERSE],
    want: { ...FORWARDED, forwarded: ["6.0.0.10.in-addr.arpa"] },
  },
  {
    name: "local data wins over a forward zone too: a hosts name in it answers",
    question: "5.0.0.10.in-addr.arpa PTR",
    zones: [REVERSE],
    want: {
      rcode: 0,
      aa: true,
      answer: ["5.0.0.10.in-addr.arpa 300 PTR printer."],
      authority: [],
      forwarded: [],
    },
  },
  {
    name: "a forward zone above a default zone does not: the default zone is the longer match",
    question: "1.1.168.192.in-addr.arpa PTR",
    zones: [{ domain: "in-addr.arpa", upstreams: [{ hostname: "127.0.0.1", port: 5303 }] }],
    want: { ...nxdomain("168.192.in-addr.arpa"), forwarded: [] },
  },
  {
    name: "test is not a default zone",
    question: "www.test A",
    want: { ...FORWARDED, forwarded: ["www.test"] },
  },
  {
    name: "a public reverse name is forwarded",
    question: "8.8.8.8.in-addr.arpa PTR",
    want: { ...FORWARDED, forwarded: ["8.8.8.8.in-addr.arpa"] },
  },
  {
    name: "172.32/16 is not RFC 1918: forwarded",
    question: "1.0.32.172.in-addr.arpa PTR",
    want: { ...FORWARDED, forwarded: ["1.0.32.172.in-addr.arpa"] },
  },
  {
    name: "--no-default-zones forwards them",
    question: "x.home.arpa A",
    settings: { defaultZones: false },
    want: { ...FORWARDED, forwarded: ["x.home.arpa"] },
  },
  // ---- single-label names ----
  {
    name: "A for a single-label name is NXDOMAIN without a SOA, not forwarded",
    question: "nas2 A",
    want: { rcode: Rcode.NXDOMAIN, aa: false, answer: [], authority: [], forwarded: [] },
  },
  {
    name: "AAAA for a single-label name is NXDOMAIN too",
    question: "NAS2. AAAA",
    want: { rcode: Rcode.NXDOMAIN, aa: false, answer: [], authority: [], forwarded: [] },
  },
  {
    name: "a single-label name in local data answers",
    question: "printer A",
    want: { rcode: 0, aa: true, answer: ["printer 300 A 10.0.0.5"], authority: [], forwarded: [] },
  },
  {
    name: "other types for a single label are forwarded (com DS)",
    question: "com DS",
    want: { ...FORWARDED, forwarded: ["com"] },
  },
  {
    name: "--forward-single-label forwards it",
    question: "nas2 A",
    settings: { forwardSingleLabel: true },
    want: { ...FORWARDED, forwarded: ["nas2"] },
  },
  {
    name: "a single-label forward zone's own name is forwarded",
    question: "corp A",
    zones: [{ domain: "corp", upstreams: [{ hostname: "127.0.0.1", port: 5304 }] }],
    want: { ...FORWARDED, forwarded: ["corp"] },
  },
  {
    name: "with --no-default-zones, localhost is a single-label name: NXDOMAIN",
    question: "localhost A",
    settings: { defaultZones: false },
    want: { rcode: Rcode.NXDOMAIN, aa: false, answer: [], authority: [], forwarded: [] },
  },
  // ---- CHAOS ----
  {
    name: "version.bind TXT CH is dnsd VERSION, TTL 0, AA clear",
    question: "version.bind TXT CH",
    want: { rcode: 0, aa: false, answer: ['version.bind 0 TXT "dnsd 9.9.9"'], authority: [], forwarded: [] },
  },
  {
    name: "VERSION.SERVER ANY CH is the version too",
    question: "VERSION.SERVER ANY CH",
    want: {
      rcode: 0,
      aa: false,
      answer: ['VERSION.SERVER 0 TXT "dnsd 9.9.9"'],
      authority: [],
      forwarded: [],
    },
  },
  {
    name: "--hide-version refuses version.bind",
    question: "version.bind TXT CH",
    settings: { hideVersion: true },
    want: { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], forwarded: [] },
  },
  {
    name: "hostname.bind without --identity is REFUSED",
    question: "hostname.bind TXT CH",
    want: { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], forwarded: [] },
  },
  {
    name: "id.server with --identity answers it",
    question: "id.server TXT CH",
    settings: { identity: "ns1.example" },
    want: { rcode: 0, aa: false, answer: ['id.server 0 TXT "ns1.example"'], authority: [], forwarded: [] },
  },
  {
    name: "version.bind A CH is REFUSED",
    question: "version.bind A CH",
    want: { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], forwarded: [] },
  },
  {
    name: "any other CH name is REFUSED, never forwarded",
    question: "authors.bind TXT CH",
    want: { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], forwarded: [] },
  },
  {
    name: "a CH name inside a forward zone is still not forwarded",
    question: "x.lan.home.arpa TXT CH",
    want: { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], forwarded: [] },
  },
];

for (const row of rows) {
  test(`local stages: ${row.name}`, async () => {
    deepEqual(await ask(row.question, row.settings, row.zones ?? [LAN], row.transport), row.want);
  });
}

test("local stages: version.bind TXT CH answers these exact bytes", async () => {
  // dig @127.0.0.1 version.bind TXT CH +noedns, id 0x1234, RD=1
  const asked = hex`
    1234 0100 0001 0000 0000 0000
    07 76657273696f6e 04 62696e64 00   # version.bind
    0010 0003                          # TXT CH
  `;
  const { resolve } = buildResolver(
    {
      host: "127.0.0.1",
      port: 0,
      upstreams: [],
      timeoutMs: 100,
      localData: fixedData({}),
      version: "0.1.0",
    },
    {} as ServerCounters,
    { forwarder: () => Promise.reject(new Error("forwarded")) },
  );
  const bytes = await respond(asked, contextOf(), { resolve, report: (error) => Promise.reject(error) });
  deepEqual(
    bytes,
    hex`
    1234 8180 0001 0001 0000 0000      # QR RD RA, NOERROR, AA clear
    07 76657273696f6e 04 62696e64 00 0010 0003
    c00c 0010 0003 00000000 000b       # TXT CH, TTL 0, RDLENGTH 11
    0a 646e73642030 2e312e30           # "dnsd 0.1.0"
  `,
  );
});

test("defaultZoneOf: longest default zone, or null when a forward zone inside it covers the name", () => {
  const table = compileDefaultZones(["lan.home.arpa", "in-addr.arpa"]);
  const cases: readonly [string, string | null][] = [
    ["a.b.home.arpa", "home.arpa"],
    ["home.arpa.", "home.arpa"],
    ["x.lan.home.arpa", null],
    ["1.0.0.127.in-addr.arpa", "127.in-addr.arpa"],
    ["1.1.1.1.in-addr.arpa", null],
    ["1.0.31.172.in-addr.arpa", "31.172.in-addr.arpa"],
    ["1.0.15.172.in-addr.arpa", null],
    ["a.b.c.8.b.d.0.1.0.0.2.ip6.arpa", "8.b.d.0.1.0.0.2.ip6.arpa"],
    ["1.b.e.f.ip6.arpa", "b.e.f.ip6.arpa"],
    ["1.c.e.f.ip6.arpa", null],
    ["x.onion", "onion"],
    ["printer.local", "local"],
    ["example.com", null],
    ["foo\\.localhost", null], // one label "foo.localhost", escaped: not below localhost
    ["", null],
  ];
  for (const [name, zone] of cases) equal(defaultZoneOf(table, name), zone, name);
});

test("isSingleLabelAddressQuery: A and AAAA of IN or ANY for one label", () => {
  const cases: readonly [string, string, number, boolean][] = [
    ["nas", "A", RRClass.IN, true],
    ["nas.", "AAAA", RRClass.IN, true],
    ["nas", "A", RRClass.ANY, true],
    ["nas", "MX", RRClass.IN, false],
    ["nas", "A", RRClass.CH, false],
    ["nas.lan", "A", RRClass.IN, false],
    ["a\\.b", "A", RRClass.IN, true],
    ["", "A", RRClass.IN, false],
  ];
  for (const [name, type, rrClass, want] of cases) {
    equal(isSingleLabelAddressQuery(name, typeFromText(type)!, rrClass), want, `${name} ${type} ${rrClass}`);
  }
});

test("characterStrings: 255 octets a string", () => {
  deepEqual(characterStrings("").map((s) => s.length), [0]);
  deepEqual(characterStrings("x".repeat(300)).map((s) => s.length), [255, 45]);
});
