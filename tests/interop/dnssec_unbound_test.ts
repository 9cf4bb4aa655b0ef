/**
 * Serving signed zones (issue 16), checked by a validator: unbound, with each zone's DS as its
 * trust anchor and a `stub-zone` pointing at the server under test, must give secure answers
 * (AD=1) for positive, NODATA, NXDOMAIN and wildcard queries on NSEC, NSEC3 and NSEC3 opt-out
 * zones signed in the test. The same run against NSD serving the same files shows the fixture is
 * right.
 * @module
 */
import { test } from "../_limit.ts";
import { ok } from "node:assert/strict";
import { type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { needsTools, withNsd } from "../_nsd.ts";
import { type Denial, type SignedZone, signZone } from "../_signed_zone.ts";
import { type UnboundStub, withUnboundStub } from "../_unbound_stub.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query } from "../../lib/proto/message.ts";
import { Rcode, rcodeName, typeFromText } from "../../lib/proto/types.ts";
import { udpAsk } from "../_udp_client.ts";

const TOOLS = ["nsd", "unbound", "ldns-keygen", "ldns-signzone"];
const ZONES: readonly { readonly origin: string; readonly denial: Denial }[] = [
  { origin: "nsec.example.", denial: "nsec" },
  { origin: "nsec3.example.", denial: "nsec3" },
  { origin: "optout.example.", denial: "nsec3-optout" },
];

/**
 * Each query's name relative to the zone's origin, and the rcode a secure answer has. In the
 * opt-out zone (every NSEC3 with the opt-out flag), a proof that rests on an NSEC3 covering the
 * next closer name is insecure (RFC 5155 section 6 and 8.8: an unsigned delegation might be
 * there), so unbound answers with AD=0: those rows say `optOut: "insecure"`.
 */
// deno-fmt-ignore
const ROWS: readonly Row[] = [
  { what: "positive",         name: "www",       type: "A",    rcode: Rcode.NOERROR },
  { what: "positive, apex",   name: "",          type: "SOA",  rcode: Rcode.NOERROR },
  { what: "CNAME",            name: "alias",     type: "A",    rcode: Rcode.NOERROR },
  { what: "NODATA",           name: "www",       type: "MX",   rcode: Rcode.NOERROR },
  { what: "ENT NODATA",       name: "b.deep",    type: "A",    rcode: Rcode.NOERROR },
  { what: "NXDOMAIN",         name: "nope",      type: "A",    rcode: Rcode.NXDOMAIN, optOut: "insecure" },
  { what: "wildcard",         name: "host.wild", type: "A",    rcode: Rcode.NOERROR,  optOut: "insecure" },
  { what: "wildcard NODATA",  name: "host.wild", type: "AAAA", rcode: Rcode.NOERROR,  optOut: "insecure" },
  { what: "no DS (NODATA)",   name: "unsigned",  type: "DS",   rcode: Rcode.NOERROR },
];

/** The rcode and AD bit unbound must answer with. */
interface Want {
  readonly rcode: number;
  readonly ad: boolean;
}

interface Row {
  readonly what: string;
  readonly name: string;
  readonly type: string;
  readonly rcode: number;
  readonly optOut?: "insecure";
}

/** Asks unbound (RD=1, DO=1); returns how the reply differs from `want`, or null. */
async function unexpected(
  unbound: UnboundStub,
  name: string,
  type: number,
  want: Want,
): Promise<string | null> {
  const bytes = encodeMessage(query({ name, type }, {
    id: Math.floor(Math.random() * 0x10000),
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: true, flags: 0, options: [] },
  }));
  const reply = decodeMessage(
    await udpAsk({ transport: "udp", hostname: "127.0.0.1", port: unbound.port }, bytes),
  );
  if (reply.authenticData === want.ad && reply.rcode === want.rcode) return null;
  const got = `${rcodeName(reply.rcode)} AD=${reply.authenticData ? 1 : 0}`;
  return `${got} (want ${rcodeName(want.rcode)} AD=${want.ad ? 1 : 0})`;
}

/** Every row asked through an unbound validating `zones` served on 127.0.0.1:`port`: the failures. */
async function validate(zones: readonly SignedZone[], port: number): Promise<string[]> {
  const failures: string[] = [];
  const stubs = zones.map((zone) => ({ name: zone.origin, port }));
  await withUnboundStub({ stubs, trustAnchors: zones.map((zone) => zone.ds) }, async (unbound) => {
    for (const zone of zones) {
      for (const row of ROWS) {
        const name = row.name ? `${row.name}.${zone.origin}` : zone.origin;
        const want = { rcode: row.rcode, ad: !(zone.denial === "nsec3-optout" && row.optOut === "insecure") };
        const problem = await unexpected(unbound, name, typeFromText(row.type)!, want);
        if (problem) failures.push(`${zone.denial} ${row.what}: ${name} ${row.type}: ${problem}`);
      }
    }
    if (failures.length > 0) {
      const reasons = (await unbound.log()).split("\n").filter((line) => /validat|bogus|failed/i.test(line));
      failures.push("unbound's reasons:", ...reasons.slice(0, 20));
    }
  });
  return failures;
}

test({
  ...needsTools(TOOLS, "unbound validates dnsd's answers from signed zones as secure (AD=1), as NSD's"),
  timeoutMs: 60_000,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_dnssec_unbound_" });
    try {
      const zones: SignedZone[] = [];
      for (const { origin, denial } of ZONES) zones.push(await signZone(dir, origin, denial));
      await t.step("NSD (the fixture)", async () => {
        await withNsd(
          { zones: zones.map((zone) => ({ name: zone.origin, file: zone.file })), zonesDir: dir },
          async (nsd) => {
            const failures = await validate(zones, nsd.port);
            ok(failures.length === 0, `Not secure through NSD:\n${failures.join("\n")}`);
          },
        );
      });
      await t.step("dnsd", async () => {
        const dnsd: RunningDnsd = await startDnsd((port) => [
          ...["--port", String(port), "--no-mappings", "--no-recursion", "--udp-io", "deno"],
          ...zones.flatMap((zone) => ["--zone", `${zone.origin}=${zone.file}`]),
        ]);
        try {
          const failures = await validate(zones, dnsd.port);
          ok(failures.length === 0, `Not secure through dnsd:\n${failures.join("\n")}`);
        } finally {
          await dnsd.stop();
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
