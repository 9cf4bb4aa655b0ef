/**
 * Serving signed zones (issue 16, RFC 4035 section 3, RFC 5155 section 7), against real NSD:
 * three zones signed in the test with ldns-signzone (NSEC, NSEC3 with salt and iterations, NSEC3
 * opt-out) are served by NSD and by dnsd from the same files, and for a table of queries, each
 * with DO=1 and DO=0, both answers must hold the same records (see tests/_answer_diff.ts). With
 * small EDNS buffers the TC bit must match NSD's and no RRset may come without its RRSIG
 * (RFC 4035 section 3.1.1).
 * @module
 */
import { test } from "../_limit.ts";
import { fail, ok } from "node:assert/strict";
import { answerDiff, type Ask, ask, rrsetsWithoutRrsig, type Section } from "../_answer_diff.ts";
import { type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { needsTools, type Nsd, withNsd } from "../_nsd.ts";
import { type Denial, type SignedZone, signZone } from "../_signed_zone.ts";
import { typeFromText } from "../../lib/proto/types.ts";

const TOOLS = ["nsd", "ldns-keygen", "ldns-signzone"];
/** dnsd sends minimal responses (no apex NS and glue on positive answers), as NSD does when asked. */
const NSD_SERVER = ["minimal-responses: yes"];
const ZONES: readonly { readonly origin: string; readonly denial: Denial }[] = [
  { origin: "nsec.example.", denial: "nsec" },
  { origin: "nsec3.example.", denial: "nsec3" },
  { origin: "optout.example.", denial: "nsec3-optout" },
];

/**
 * One query per row, relative to the zone's origin (`@` is the apex). `%hashed` is the owner of
 * an NSEC3 record (in the NSEC zone: `www`), `%denial` the zone's NSEC or NSEC3 type.
 */
interface Row {
  readonly what: string;
  readonly name: string;
  readonly type: string;
  readonly tcp?: boolean;
  /**
   * Sections where dnsd may send more than NSD, provided each RRset there is signed (DO=1):
   * NSD answers ANY with one RRset (RFC 8482 section 4.1) where dnsd sends them all, and with
   * `minimal-responses` leaves out the address of an MX target, which dnsd adds.
   */
  readonly more?: readonly Section[];
}

/** NSD answers ANY with one RRset (RFC 8482 section 4.1), dnsd with them all. */
const ANY_MORE: readonly Section[] = ["answers", "additionals"];

// deno-fmt-ignore
const ROWS: readonly Row[] = [
  { what: "positive SOA",                name: "@",            type: "SOA" },
  { what: "positive NS (glue)",          name: "@",            type: "NS" },
  { what: "positive MX (additional)",    name: "@",            type: "MX",   more: ["additionals"] },
  { what: "positive A",                  name: "www",          type: "A" },
  { what: "positive AAAA",               name: "www",          type: "AAAA" },
  { what: "positive TXT",                name: "txt",          type: "TXT" },
  { what: "CNAME to www",                name: "alias",        type: "A" },
  { what: "CNAME asked by type",         name: "alias",        type: "CNAME" },
  { what: "NODATA",                      name: "www",          type: "MX" },
  { what: "NODATA at the apex",          name: "@",            type: "AAAA" },
  { what: "NXDOMAIN",                    name: "nope",         type: "A" },
  { what: "NXDOMAIN two labels down",    name: "x.nope",       type: "A" },
  { what: "wildcard answer",             name: "host.wild",    type: "A" },
  { what: "wildcard answer, deeper",     name: "a.host.wild",  type: "A" },
  { what: "wildcard NODATA",             name: "host.wild",    type: "AAAA" },
  { what: "wildcard owner asked",        name: "*.wild",       type: "A" },
  { what: "ENT NODATA",                  name: "b.deep",       type: "A" },
  { what: "NXDOMAIN below an ENT",       name: "c.b.deep",     type: "A" },
  { what: "referral, signed",            name: "host.sub",     type: "A" },
  { what: "referral, signed, at the cut", name: "sub",         type: "NS" },
  { what: "referral for glue",           name: "ns.sub",       type: "A" },
  { what: "referral, unsigned",          name: "host.unsigned", type: "A" },
  { what: "referral, unsigned, at cut",  name: "unsigned",     type: "A" },
  { what: "DS at the signed delegation", name: "sub",          type: "DS" },
  { what: "DS NODATA, unsigned deleg.",  name: "unsigned",     type: "DS" },
  { what: "DS at the apex (NODATA)",     name: "@",            type: "DS" },
  { what: "DS below a delegation",       name: "host.sub",     type: "DS" },
  { what: "DNSKEY",                      name: "@",            type: "DNSKEY" },
  { what: "NSEC3PARAM",                  name: "@",            type: "NSEC3PARAM" },
  { what: "RRSIG asked by type",         name: "www",          type: "RRSIG" },
  { what: "RRSIG at the apex",           name: "@",            type: "RRSIG" },
  { what: "NSEC asked by type",          name: "www",          type: "NSEC" },
  { what: "NSEC3 asked by type",         name: "www",          type: "NSEC3" },
  { what: "denial record at its owner",  name: "%hashed",      type: "%denial" },
  { what: "big TXT (fits only w/o DO)",  name: "big",          type: "TXT" },
  { what: "ANY at the apex",             name: "@",            type: "ANY",  tcp: true, more: ANY_MORE },
  { what: "ANY at www",                  name: "www",          type: "ANY",  tcp: true, more: ANY_MORE },
  { what: "positive A over TCP",         name: "www",          type: "A",    tcp: true },
  { what: "NXDOMAIN over TCP",           name: "nope",         type: "A",    tcp: true },
  { what: "wildcard answer over TCP",    name: "host.wild",    type: "A",    tcp: true },
  { what: "DNSKEY over TCP",             name: "@",            type: "DNSKEY", tcp: true },
];

/** Queries whose signed answer does not fit small buffers, asked with DO=1 over UDP. */
// deno-fmt-ignore
const TRUNCATION_ROWS: readonly (Row & { readonly bufferSize: number })[] = [
  { what: "big TXT",             name: "big",      type: "TXT",    bufferSize: 1232 },
  { what: "big TXT",             name: "big",      type: "TXT",    bufferSize: 512 },
  { what: "DNSKEY",              name: "@",        type: "DNSKEY", bufferSize: 512 },
  { what: "NXDOMAIN",            name: "nope",     type: "A",      bufferSize: 512 },
  { what: "wildcard answer",     name: "host.wild", type: "A",     bufferSize: 512 },
  { what: "NS with glue",        name: "@",        type: "NS",     bufferSize: 512 },
  { what: "MX with additional",  name: "@",        type: "MX",     bufferSize: 512 },
  { what: "referral, signed",    name: "host.sub", type: "A",      bufferSize: 512 },
  { what: "referral, unsigned",  name: "host.unsigned", type: "A", bufferSize: 512 },
];

/** The first NSEC3 owner in the signed file (lower case), or `www` in an NSEC zone. */
function hashedOwner(zone: SignedZone): string {
  const found = /^(\S+)\s+\d+\s+IN\s+NSEC3\s/m.exec(zone.text);
  return found ? found[1]!.toLowerCase() : `www.${zone.origin}`;
}

/** The row's absolute query name and type code in `zone`. */
function question(row: Row, zone: SignedZone): { name: string; type: number } {
  const name = row.name === "%hashed"
    ? hashedOwner(zone)
    : row.name === "@"
    ? zone.origin
    : `${row.name}.${zone.origin}`;
  const typeText = row.type === "%denial" ? (zone.denial === "nsec" ? "NSEC" : "NSEC3") : row.type;
  const type = typeFromText(typeText);
  if (type === null) throw new Error(`Unknown type ${typeText}`);
  return { name, type };
}

/** Signs the three zones in a temporary folder and runs `fn` with NSD and dnsd serving them. */
async function withSignedServers(
  fn: (zones: readonly SignedZone[], nsd: Nsd, dnsd: RunningDnsd) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_dnssec_serving_" });
  try {
    const zones: SignedZone[] = [];
    for (const { origin, denial } of ZONES) zones.push(await signZone(dir, origin, denial));
    const nsdZones = zones.map((zone) => ({ name: zone.origin, file: zone.file }));
    await withNsd({ zones: nsdZones, zonesDir: dir, server: NSD_SERVER }, async (nsd) => {
      const dnsd = await startDnsd((port) => [
        ...["--port", String(port), "--no-mappings", "--no-recursion", "--udp-io", "deno"],
        ...zones.flatMap((zone) => ["--zone", `${zone.origin}=${zone.file}`]),
      ]);
      try {
        await fn(zones, nsd, dnsd);
      } finally {
        await dnsd.stop();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function label(row: Row, how: Ask): string {
  const transport = how.tcp ? "TCP" : `UDP/${how.bufferSize}`;
  return `${row.what}: ${row.name} ${row.type} DO=${how.dnssecOk ? 1 : 0} ${transport}`;
}

/** Every row of {@link ROWS} in `zone`, asked of both servers with DO=1 and DO=0: the mismatches. */
async function mismatches(zone: SignedZone, reference: number, port: number): Promise<string[]> {
  const found: string[] = [];
  for (const row of ROWS) {
    const { name, type } = question(row, zone);
    for (const dnssecOk of [true, false]) {
      const how: Ask = { tcp: row.tcp ?? false, dnssecOk, bufferSize: 4096 };
      const [expected, actual] = [await ask(reference, name, type, how), await ask(port, name, type, how)];
      const diff = answerDiff(expected, actual, { loose: row.more ?? [] });
      if (dnssecOk && row.more) {
        const unsigned = rrsetsWithoutRrsig(actual, row.more);
        if (unsigned.length > 0) diff.push(`  dnsd sent without RRSIG: ${unsigned.join(", ")}`);
      }
      if (diff.length > 0) found.push(`${label(row, how)}\n${diff.join("\n")}`);
    }
  }
  return found;
}

test({
  ...needsTools(TOOLS, "dnsd answers queries on NSEC, NSEC3 and opt-out signed zones with NSD's records"),
  timeoutMs: 60_000,
  async fn(t) {
    await withSignedServers(async (zones, nsd, dnsd) => {
      await t.step("the harness: a second NSD on the same files answers as the first", async () => {
        const nsdZones = zones.map((zone) => ({ name: zone.origin, file: zone.file }));
        await withNsd({ zones: nsdZones, server: NSD_SERVER }, async (other) => {
          for (const zone of zones) {
            const found = await mismatches(zone, nsd.port, other.port);
            ok(found.length === 0, `Two NSDs differ (a nondeterministic row?):\n${found.join("\n")}`);
          }
        });
      });
      for (const zone of zones) {
        await t.step(`${zone.denial} zone ${zone.origin}`, async () => {
          const found = await mismatches(zone, nsd.port, dnsd.port);
          ok(found.length === 0, `${found.length} answers differ from NSD's:\n${found.join("\n")}`);
        });
      }
    });
  },
});

test({
  ...needsTools(TOOLS, "dnsd sets TC as NSD does when a signed answer does not fit (RFC 4035 section 3.1.1)"),
  timeoutMs: 60_000,
  async fn(t) {
    await withSignedServers(async (zones, nsd, dnsd) => {
      // The fixture itself: NSD must truncate the signed big TXT at 1232 and send it whole without DO.
      const nsec = zones[0]!;
      const big = question(TRUNCATION_ROWS[0]!, nsec);
      const signed = await ask(nsd.port, big.name, big.type, { dnssecOk: true, bufferSize: 1232 });
      const plain = await ask(nsd.port, big.name, big.type, { dnssecOk: false, bufferSize: 1232 });
      ok(signed.truncated && !plain.truncated, "NSD truncates the big TXT only with its RRSIG");
      for (const zone of zones) {
        await t.step(`${zone.denial} zone ${zone.origin}`, async () => {
          const problems: string[] = [];
          for (const row of TRUNCATION_ROWS) {
            const { name, type } = question(row, zone);
            const how: Ask = { dnssecOk: true, bufferSize: row.bufferSize };
            const [expected, actual] = [
              await ask(nsd.port, name, type, how),
              await ask(dnsd.port, name, type, how),
            ];
            const where = label(row, how);
            if (expected.truncated !== actual.truncated) {
              problems.push(`${where}\n  tc: nsd ${expected.truncated}, dnsd ${actual.truncated}`);
            }
            for (const [server, reply] of [["nsd", expected], ["dnsd", actual]] as const) {
              if (reply.truncated) continue; // a truncated reply is retried over TCP, and may be cut anywhere
              const unsigned = rrsetsWithoutRrsig(reply);
              if (unsigned.length > 0) {
                problems.push(`${where}\n  ${server} sent without RRSIG: ${unsigned.join(", ")}`);
              }
            }
          }
          if (problems.some((line) => line.includes("  nsd sent"))) {
            fail(`The fixture is wrong:\n${problems.join("\n")}`);
          }
          ok(problems.length === 0, `${problems.length} problems:\n${problems.join("\n")}`);
        });
      }
    });
  },
});
