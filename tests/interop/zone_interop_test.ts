/**
 * Authoritative answers from a zone file, checked against real DNS software: dig and kdig read
 * every RRset of tests/testdata/zones/example.org.zone from dnsd and must print what the file
 * says; NSD serves the same file and must agree with dnsd on a table of questions; and a CNAME
 * leaving the zone is completed through an upstream NSD.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { nameKey } from "../../lib/proto/name.ts";
import { formatRData, typeCode } from "../../lib/proto/rdata.ts";
import { dataLoader } from "../../lib/zone/sources.ts";
import {
  type Message,
  Rcode,
  type ResourceRecord,
  RRType,
  typeFromText,
  typeName,
} from "../../lib/proto/types.ts";
import { dig, kdig, needsTools, type ToolAnswer, withNsd } from "../_nsd.ts";
import { exchange, freeUdpPort, queryBytes } from "../_udp_client.ts";

const ZONES = new URL("../testdata/zones/", import.meta.url);
const ZONE_FILES = ["example.org.zone", "included.zone"];
const QUERY_TIMEOUT_MS = 2_000;

/**
 * Appended to the temporary copy for the dig and kdig tests only. RFC 5155 section 7.2.8
 * (erratum 4622) makes the zone's NSEC3 owner name answer NXDOMAIN, so this one, which holds an
 * A record too, is where the tools see an NSEC3 record. dig rejects an NSEC3 whose owner's first
 * label is not a base32hex hash ("bad owner name"), hence the hash-like name.
 */
const NSEC3_PROBE = `
1avvqn74sg75ukfvf25dgcethgq638el A     192.0.2.45
1avvqn74sg75ukfvf25dgcethgq638el NSEC3 1 0 0 - 1AVVQN74SG75UKFVF25DGCETHGQ638EM A RRSIG
`;

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Copies the zone folder into a fresh temporary folder (plus `extra` at the end of the zone). */
async function copyZones(extra = ""): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_zone_interop_" });
  for (const file of ZONE_FILES) {
    await Deno.copyFile(new URL(file, ZONES), `${dir}/${file}`);
  }
  if (extra) await Deno.writeTextFile(`${dir}/example.org.zone`, extra, { append: true });
  return dir;
}

/** Starts dnsd in-process on a free port, serving `zoneFile`, forwarding RD=1 misses to `upstream`. */
async function startZoneServer(zoneFile: string, upstream: number): Promise<RunningServer> {
  const load = dataLoader({ zones: [{ file: zoneFile }], hosts: [], mappings: () => ({}) });
  const loaded = await load(true);
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [{ hostname: "127.0.0.1", port: upstream }],
    timeoutMs: QUERY_TIMEOUT_MS,
    localData: () => loaded.data,
  });
}

/**
 * Runs `fn` with dnsd serving a temporary copy of the zone folder (`extra` appended to the zone),
 * forwarding RD=1 misses to 127.0.0.1:`upstream`; always stops it and removes the copy.
 */
async function withZoneServer(
  options: { readonly extra?: string; readonly upstream?: number },
  fn: (port: number, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await copyZones(options.extra);
  try {
    // Without an upstream nothing listens on its port: such tests ask with RD=0, never forwarded.
    const server = await startZoneServer(`${dir}/example.org.zone`, options.upstream ?? freeUdpPort());
    try {
      await fn(server.address.port, dir);
    } finally {
      server.close();
      await server.finished;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// dig and kdig against the zone file's text

/**
 * How many leading RDATA fields stay apart for types whose tail dig prints as base64 or hex
 * split into groups (kdig does not split): the rest is joined, and hex is compared without case.
 */
const SPLIT_TAIL: Readonly<Record<string, { readonly keep: number; readonly hex?: boolean }>> = {
  DNSKEY: { keep: 3 },
  RRSIG: { keep: 8 },
  DS: { keep: 3, hex: true },
  TYPE65534: { keep: 2, hex: true },
};

/**
 * A record line reduced to what must match: single spaces, a split base64/hex tail joined,
 * SvcParam values unquoted (dig writes `alpn="h2"`, the zone file and kdig `alpn=h2`), and the
 * NSEC3 next hashed owner in one case (base32hex is case-insensitive, RFC 5155 section 3.3;
 * kdig prints it in lower case).
 */
function normalise(line: string): string {
  const fields = line.trim().split(/\s+/);
  const [owner, ttl, rrClass, type, ...rdata] = fields;
  let data = rdata;
  const split = SPLIT_TAIL[type!];
  if (split) {
    const tail = rdata.slice(split.keep).join("");
    data = [...rdata.slice(0, split.keep), split.hex ? tail.toUpperCase() : tail];
  }
  if (type === "SVCB" || type === "HTTPS") data = data.map((field) => field.replaceAll('"', ""));
  if (type === "NSEC3") data = data.map((field, i) => i === 4 ? field.toUpperCase() : field);
  return [owner, ttl, rrClass, type, ...data].join(" ");
}

interface ZoneRow {
  readonly name: string;
  readonly type: string;
  /** The answer section, in zone-file presentation (names made absolute, TTLs in seconds). */
  readonly answer: readonly string[];
  /** For a referral: the authority and additional sections instead. */
  readonly referral?: { readonly authority: readonly string[]; readonly additional: readonly string[] };
  readonly status?: "NOERROR" | "NXDOMAIN";
  /** Also asked with kdig. */
  readonly kdig?: boolean;
}

const SOA_TEXT = "ns1.example.org. hostmaster.example.org. 2026112601 7200 3600 1209600 300";
const SUB_REFERRAL = {
  authority: ["sub.example.org. 3600 IN NS ns.sub.example.org."],
  additional: ["ns.sub.example.org. 3600 IN A 192.0.2.53"],
};

/** Every RRset of example.org.zone (and included.zone), asked by its own name and type. */
const zoneRows: readonly ZoneRow[] = [
  // "1h" and "2w" in the file are 3600 and 1209600 seconds.
  { name: "example.org", type: "SOA", answer: [`example.org. 3600 IN SOA ${SOA_TEXT}`], kdig: true },
  {
    name: "example.org",
    type: "NS",
    answer: ["example.org. 3600 IN NS ns1.example.org.", "example.org. 3600 IN NS ns2.example.org."],
  },
  {
    name: "example.org",
    type: "MX",
    answer: ["example.org. 3600 IN MX 10 mail.example.org.", "example.org. 3600 IN MX 20 mail2.example.net."],
  },
  {
    name: "example.org",
    type: "TXT",
    answer: [String.raw`example.org. 3600 IN TXT "v=spf1 -all" "second \"quoted\" string; not a comment"`],
    kdig: true,
  },
  {
    name: "example.org",
    type: "CAA",
    answer: ['example.org. 3600 IN CAA 0 issue "letsencrypt.org"'],
    kdig: true,
  },
  {
    name: "example.org",
    type: "DNSKEY",
    answer: [
      "example.org. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
    ],
    kdig: true,
  },
  {
    name: "example.org",
    type: "HTTPS",
    answer: ["example.org. 3600 IN HTTPS 1 . alpn=h2 ipv4hint=192.0.2.10"],
    kdig: true,
  },
  { name: "ns1.example.org", type: "A", answer: ["ns1.example.org. 3600 IN A 192.0.2.1"] },
  { name: "ns2.example.org", type: "A", answer: ["ns2.example.org. 60 IN A 192.0.2.2"] },
  // The AAAA line has no TTL: $TTL applies, not the 60 of the line above (RFC 2308 section 4).
  { name: "ns2.example.org", type: "AAAA", answer: ["ns2.example.org. 3600 IN AAAA 2001:db8::2"] },
  { name: "mail.example.org", type: "A", answer: ["mail.example.org. 3600 IN A 192.0.2.25"] },
  { name: "www.example.org", type: "CNAME", answer: ["www.example.org. 3600 IN CNAME web.example.org."] },
  { name: "web.example.org", type: "A", answer: ["web.example.org. 3600 IN A 192.0.2.10"] },
  { name: "web.example.org", type: "AAAA", answer: ["web.example.org. 3600 IN AAAA 2001:db8::10"] },
  { name: "alias.example.org", type: "CNAME", answer: ["alias.example.org. 3600 IN CNAME www.example.org."] },
  {
    name: "loop1.example.org",
    type: "CNAME",
    answer: ["loop1.example.org. 3600 IN CNAME loop2.example.org."],
  },
  {
    name: "loop2.example.org",
    type: "CNAME",
    answer: ["loop2.example.org. 3600 IN CNAME loop1.example.org."],
  },
  {
    name: "external.example.org",
    type: "CNAME",
    answer: ["external.example.org. 3600 IN CNAME target.example.net."],
  },
  {
    name: "dangling.example.org",
    type: "CNAME",
    answer: ["dangling.example.org. 3600 IN CNAME nothing.example.org."],
  },
  { name: "*.wild.example.org", type: "A", answer: ["*.wild.example.org. 3600 IN A 192.0.2.99"] },
  { name: "*.wild.example.org", type: "TXT", answer: ['*.wild.example.org. 3600 IN TXT "synthesised"'] },
  {
    name: "*.cname-wild.example.org",
    type: "CNAME",
    answer: ["*.cname-wild.example.org. 3600 IN CNAME web.example.org."],
  },
  { name: "a.b.c.example.org", type: "A", answer: ["a.b.c.example.org. 3600 IN A 192.0.2.3"] },
  {
    name: "_sip._udp.example.org",
    type: "SRV",
    answer: ["_sip._udp.example.org. 3600 IN SRV 0 5 5060 sip.example.org."],
    kdig: true,
  },
  { name: "sip.example.org", type: "A", answer: ["sip.example.org. 3600 IN A 192.0.2.50"] },
  {
    name: "svc.example.org",
    type: "SVCB",
    answer: ["svc.example.org. 3600 IN SVCB 1 . alpn=h2,h3 port=8443"],
    kdig: true,
  },
  { name: "ptr.example.org", type: "PTR", answer: ["ptr.example.org. 3600 IN PTR web.example.org."] },
  // NS at a delegation is not the zone's data: the answer is a referral with glue.
  { name: "sub.example.org", type: "NS", answer: [], referral: SUB_REFERRAL },
  {
    name: "sub.example.org",
    type: "DS",
    answer: [
      "sub.example.org. 3600 IN DS 60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
    ],
    kdig: true,
  },
  { name: "ns.sub.example.org", type: "A", answer: [], referral: SUB_REFERRAL },
  {
    name: "generic.example.org",
    type: "TYPE65534",
    answer: [String.raw`generic.example.org. 3600 IN TYPE65534 \# 3 abcdef`],
    kdig: true,
  },
  { name: "signed.example.org", type: "A", answer: ["signed.example.org. 3600 IN A 192.0.2.44"] },
  {
    name: "signed.example.org",
    type: "RRSIG",
    answer: [
      "signed.example.org. 3600 IN RRSIG A 13 3 3600 20261231000000 20261101000000 12345 example.org. " +
      "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI=",
    ],
    kdig: true,
  },
  {
    name: "signed.example.org",
    type: "NSEC",
    answer: ["signed.example.org. 3600 IN NSEC web.example.org. A RRSIG NSEC"],
    kdig: true,
  },
  // RFC 5155 section 7.2.8: a name holding only NSEC3 data is answered as if it did not exist.
  { name: "1avvqn74sg75ukfvf25dgcethgq638ek.example.org", type: "NSEC3", answer: [], status: "NXDOMAIN" },
  {
    name: "1avvqn74sg75ukfvf25dgcethgq638el.example.org",
    type: "NSEC3",
    answer: [
      "1avvqn74sg75ukfvf25dgcethgq638el.example.org. 3600 IN NSEC3 1 0 0 - 1AVVQN74SG75UKFVF25DGCETHGQ638EM A RRSIG",
    ],
    kdig: true,
  },
  {
    name: String.raw`escaped\.dot.example.org`,
    type: "A",
    answer: [String.raw`escaped\.dot.example.org. 3600 IN A 192.0.2.77`],
    kdig: true,
  },
  { name: "inc.example.org", type: "A", answer: ["inc.example.org. 3600 IN A 192.0.2.200"] },
  { name: "host.inc.example.org", type: "A", answer: ["host.inc.example.org. 3600 IN A 192.0.2.201"] },
  { name: "after.example.org", type: "A", answer: ["after.example.org. 3600 IN A 192.0.2.88"] },
];

function checkZoneRow(row: ZoneRow, got: ToolAnswer): void {
  const status = row.status ?? "NOERROR";
  assert.equal(got.status, status, got.text);
  const flags = got.flags.split(" ");
  assert.equal(flags.includes("aa"), !row.referral, `AA only when not a referral:\n${got.text}`);
  const sorted = (lines: readonly string[]) => lines.map(normalise).sort();
  assert.deepEqual(sorted(got.answer), sorted(row.answer), got.text);
  if (row.referral) {
    assert.deepEqual(sorted(got.authority), sorted(row.referral.authority), got.text);
    assert.deepEqual(sorted(got.additional), sorted(row.referral.additional), got.text);
  } else if (status === "NXDOMAIN") {
    assert.deepEqual(got.authority, [`example.org. 300 IN SOA ${SOA_TEXT}`], got.text);
  }
}

test(
  needsTools(["dig"], "dig reads every RRset of example.org.zone from dnsd as the zone file writes it"),
  async (t) => {
    await withZoneServer({ extra: NSEC3_PROBE }, async (port) => {
      for (const row of zoneRows) {
        await t.step(`${row.name} ${row.type}`, async () => {
          checkZoneRow(row, await dig(port, "+norecurse", row.name, row.type));
        });
      }
    });
  },
);

test(
  needsTools(["kdig"], "kdig reads the RRsets with the richest presentation forms from dnsd"),
  async (t) => {
    await withZoneServer({ extra: NSEC3_PROBE }, async (port) => {
      for (const row of zoneRows.filter((row) => row.kdig)) {
        await t.step(`${row.name} ${row.type}`, async () => {
          checkZoneRow(row, await kdig(port, "+norecurse", row.name, row.type));
        });
      }
    });
  },
);

// ---------------------------------------------------------------------------------------------
// dnsd and NSD on the same zone file

/** Questions both servers answer from example.org.zone, asked with RD=0, with and without EDNS. */
const crossChecked: readonly { readonly name: string; readonly type: string; readonly what: string }[] = [
  { name: "example.org", type: "SOA", what: "apex SOA" },
  { name: "example.org", type: "NS", what: "apex NS" },
  { name: "example.org", type: "MX", what: "apex MX" },
  { name: "example.org", type: "TXT", what: "apex TXT" },
  { name: "example.org", type: "CAA", what: "apex CAA" },
  { name: "example.org", type: "DNSKEY", what: "apex DNSKEY" },
  { name: "example.org", type: "HTTPS", what: "HTTPS at the apex" },
  { name: "www.example.org", type: "A", what: "a CNAME chased in the zone" },
  { name: "alias.example.org", type: "A", what: "a 2-step CNAME chain" },
  { name: "loop1.example.org", type: "A", what: "a CNAME loop: each CNAME once" },
  { name: "external.example.org", type: "A", what: "a CNAME out of the zone, RD=0: the CNAME alone" },
  { name: "dangling.example.org", type: "A", what: "a CNAME to a missing name: NXDOMAIN (RFC 6604)" },
  { name: "nope.example.org", type: "A", what: "NXDOMAIN" },
  { name: "b.c.example.org", type: "A", what: "an empty non-terminal: NODATA (RFC 8020)" },
  { name: "c.example.org", type: "TXT", what: "an empty non-terminal one level up" },
  { name: "web.example.org", type: "MX", what: "NODATA" },
  { name: "x.wild.example.org", type: "A", what: "a wildcard A" },
  { name: "x.wild.example.org", type: "TXT", what: "a wildcard TXT" },
  { name: "x.wild.example.org", type: "MX", what: "a wildcard NODATA" },
  { name: "y.z.wild.example.org", type: "A", what: "a wildcard two labels down" },
  { name: "y.cname-wild.example.org", type: "AAAA", what: "a wildcard CNAME, chased" },
  { name: "a.b.c.example.org", type: "A", what: "a name below empty non-terminals" },
  { name: "host.sub.example.org", type: "A", what: "a referral below the cut" },
  { name: "sub.example.org", type: "NS", what: "a referral at the cut" },
  { name: "sub.example.org", type: "A", what: "a referral for another type at the cut" },
  { name: "ns.sub.example.org", type: "A", what: "glue is not an answer: a referral" },
  { name: "sub.example.org", type: "DS", what: "DS on the parent side (RFC 4035 section 3.1.4.1)" },
  { name: "_sip._udp.example.org", type: "SRV", what: "SRV" },
  { name: "svc.example.org", type: "SVCB", what: "SVCB" },
  { name: "ptr.example.org", type: "PTR", what: "PTR" },
  { name: "generic.example.org", type: "TYPE65534", what: "an RFC 3597 type" },
  { name: "signed.example.org", type: "RRSIG", what: "RRSIG asked for" },
  { name: "signed.example.org", type: "NSEC", what: "NSEC" },
  {
    name: "1avvqn74sg75ukfvf25dgcethgq638ek.example.org",
    type: "NSEC3",
    what: "an NSEC3 owner name: NXDOMAIN (RFC 5155 section 7.2.8)",
  },
  { name: "ns2.example.org", type: "AAAA", what: "a TTL from $TTL after an explicit one" },
  { name: "inc.example.org", type: "A", what: "$INCLUDE with an origin" },
  { name: "host.inc.example.org", type: "A", what: "a name in the $INCLUDE" },
  { name: "after.example.org", type: "A", what: "the origin restored after $INCLUDE" },
  { name: String.raw`escaped\.dot.example.org`, type: "A", what: "an escaped dot in a label" },
  { name: "WWW.Example.ORG", type: "A", what: "mixed case, CNAME chased" },
  { name: "X.Wild.EXAMPLE.org", type: "TXT", what: "mixed case, wildcard" },
  { name: "NoPe.example.ORG", type: "A", what: "mixed case, NXDOMAIN" },
  { name: "Sub.Example.Org", type: "NS", what: "mixed case, referral" },
  { name: String.raw`ESCAPED\.Dot.example.org`, type: "A", what: "mixed case, escaped dot" },
];

/** A record as compared: owner lower-cased, class, TTL, type and RDATA in presentation form. */
function recordText(record: ResourceRecord): string {
  const type = typeName(typeCode(record.data));
  return `${nameKey(record.name)} ${record.class} ${record.ttl} ${type} ${formatRData(record.data)}`;
}

function rrsets(records: readonly ResourceRecord[], ...types: number[]): string[] {
  return records.filter((record) => types.includes(typeCode(record.data))).map(recordText).sort();
}

/** What dnsd must match in NSD's response; see the comments for what is left out and why. */
function compareWithNsd(got: Message, want: Message): void {
  assert.equal(got.rcode, want.rcode, "RCODE");
  assert.equal(got.authoritative, want.authoritative, "AA");
  assert.equal(got.truncated, want.truncated, "TC");
  assert.deepEqual(got.answers.map(recordText).sort(), want.answers.map(recordText).sort(), "answer");
  // Negative answers (NXDOMAIN, NODATA, and chains ending in either) carry the SOA (RFC 2308
  // section 3). Positive answers carry none, from either server.
  assert.deepEqual(rrsets(got.authorities, RRType.SOA), rrsets(want.authorities, RRType.SOA), "SOA");
  const referral = want.rcode === Rcode.NOERROR && !want.authoritative && want.answers.length === 0;
  if (referral) {
    assert.deepEqual(rrsets(got.authorities, RRType.NS), rrsets(want.authorities, RRType.NS), "NS");
    const glue = [RRType.A, RRType.AAAA];
    assert.deepEqual(rrsets(got.additionals, ...glue), rrsets(want.additionals, ...glue), "glue");
  }
  // On positive answers NSD also adds the apex NS RRset to the authority section and the
  // addresses of those servers to the additional section; dnsd sends minimal responses (RFC
  // 2181 section 5.4.1 ranks them as optional data), so those sections are not compared there.
}

test(
  needsTools(["nsd"], "dnsd and NSD serving example.org.zone agree on rcode, flags and RRsets"),
  async (t) => {
    await withZoneServer({}, async (port, dir) => {
      const zones = [{ name: "example.org", file: "example.org.zone" }];
      await withNsd({ zones, zonesDir: dir }, async (nsd) => {
        for (const { name, type, what } of crossChecked) {
          for (const edns of [false, true]) {
            await t.step(`${name} ${type}${edns ? " with EDNS" : ""}: ${what}`, async () => {
              const code = typeFromText(type);
              assert.ok(code !== null, type);
              const query = queryBytes(name, code, { recursionDesired: false, edns });
              const fromNsd = await exchange(nsd.port, query, QUERY_TIMEOUT_MS);
              const fromDnsd = await exchange(port, query, QUERY_TIMEOUT_MS);
              assert.ok(fromNsd, "NSD answers");
              assert.ok(fromDnsd, "dnsd answers");
              const want = decodeMessage(fromNsd);
              const got = decodeMessage(fromDnsd);
              assert.equal(got.edns !== null, edns, "OPT only for an EDNS query");
              compareWithNsd(got, want);
            });
          }
        }
      });
    });
  },
);

// ---------------------------------------------------------------------------------------------
// A CNAME out of the zone, completed upstream

const EXAMPLE_NET_ZONE = `$ORIGIN example.net.
$TTL 300
@       SOA   ns hostmaster 1 3600 900 604800 300
@       NS    ns
ns      A     192.0.2.150
target  A     192.0.2.80
`;

test(
  needsTools(["nsd", "dig"], "dig gets a CNAME out of the zone and its target's A from the upstream"),
  async () => {
    const zone = { name: "example.net", file: "example.net.zone", text: EXAMPLE_NET_ZONE };
    await withNsd({ zones: [zone] }, async (nsd) => {
      await withZoneServer({ upstream: nsd.port }, async (port) => {
        const got = await dig(port, "external.example.org", "A");
        assert.equal(got.status, "NOERROR", got.text);
        // AA is clear: the A record is not dnsd's data.
        assert.equal(got.flags, "qr rd ra", got.text);
        assert.deepEqual(got.answer, [
          "external.example.org. 3600 IN CNAME target.example.net.",
          "target.example.net. 300 IN A 192.0.2.80",
        ], got.text);

        const reply = await exchange(port, queryBytes("external.example.org", RRType.A), QUERY_TIMEOUT_MS);
        assert.ok(reply, "dnsd answers");
        const message = decodeMessage(reply);
        assert.equal(message.rcode, Rcode.NOERROR);
        assert.deepEqual(message.questions.map((q) => q.name), ["external.example.org"]);
        assert.deepEqual(message.answers.map(recordText), [
          "external.example.org 1 3600 CNAME target.example.net.",
          "target.example.net 1 300 A 192.0.2.80",
        ]);
      });
    });
  },
);
