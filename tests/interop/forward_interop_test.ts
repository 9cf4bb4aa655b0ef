/**
 * Forwarding checked against a real server: NSD serves tests/testdata/zones/example.org.zone on a
 * loopback port, dnsd forwards every question to it, and each of dnsd's answers (the forwarded one,
 * then the cached one) must hold what NSD answers directly: the same rcode and the same records in
 * every section, with no TTL above NSD's, for every record type of the zone, with and
 * without EDNS and DO, in the case the client asked. Most answers go out as NSD's own bytes, patched
 * (lib/wire_response.ts); DNSSEC and newer types go through the decoder and encoder.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query } from "../../lib/proto/message.ts";
import { nameKey } from "../../lib/proto/name.ts";
import { type Message, type ResourceRecord, typeFromText } from "../../lib/proto/types.ts";
import { needsTools, withNsd } from "../_nsd.ts";
import { exchange } from "../_udp_client.ts";

const ZONES = new URL("../testdata/zones/", import.meta.url);
const WAIT_MS = 2_000;

/** Every RRset of the zone by its name and type, a few names it lacks, and a delegation. */
const QUESTIONS: readonly (readonly [string, string])[] = [
  ["example.org", "SOA"],
  ["example.org", "NS"],
  ["example.org", "MX"],
  ["example.org", "TXT"],
  ["example.org", "CAA"],
  ["example.org", "DNSKEY"],
  ["example.org", "HTTPS"],
  ["www.example.org", "A"],
  ["www.example.org", "AAAA"],
  ["alias.example.org", "A"],
  ["loop1.example.org", "A"],
  ["dangling.example.org", "A"],
  ["after.example.org", "A"],
  ["www.inc.example.org", "A"],
  ["sub.example.org", "DS"],
  ["sub.example.org", "A"],
  ["ns.sub.example.org", "A"],
  ["_sip._tcp.example.org", "SRV"],
  ["nope.example.org", "A"],
  ["example.org", "AAAA"],
  ["hinfo.example.org", "HINFO"],
  ["loc.example.org", "LOC"],
  ["rp.example.org", "RP"],
  ["afsdb.example.org", "AFSDB"],
  ["naptr.example.org", "NAPTR"],
  ["sshfp.example.org", "SSHFP"],
  ["_443._tcp.tlsa.example.org", "TLSA"],
  ["smimea.example.org", "SMIMEA"],
  ["pgp.example.org", "OPENPGPKEY"],
  ["example.org", "CDS"],
  ["example.org", "CDNSKEY"],
  ["spf.example.org", "SPF"],
  ["_ftp._tcp.example.org", "URI"],
  ["moved.example.org", "DNAME"],
  ["host.moved.example.org", "A"], // NSD's DNAME and the CNAME it makes, forwarded and cached
];

const EDNS = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };

/** A record as compared: owner without case, the data, the TTL apart. */
function key(record: ResourceRecord): string {
  const data = JSON.stringify(record.data, (_, value) => value instanceof Uint8Array ? [...value] : value);
  return `${nameKey(record.name)} ${record.class} ${data.toLowerCase()}`;
}

function records(section: readonly ResourceRecord[]): string[] {
  return section.map(key).sort();
}

/**
 * Checks that `got` (dnsd) holds what `direct` (NSD) does. Every answer passes through the cache,
 * which serves the answer and authority records with the entry's TTL (the least of them, or for a
 * negative answer the SOA's), counted down: so no TTL may be above NSD's.
 */
function assertSame(got: Message, direct: Message, what: string): void {
  assert.equal(got.rcode, direct.rcode, `${what}: rcode`);
  assert.equal(got.authoritative, false, `${what}: AA`);
  assert.equal(got.recursionAvailable, true, `${what}: RA`);
  for (const section of ["answers", "authorities", "additionals"] as const) {
    assert.deepEqual(records(got[section]), records(direct[section]), `${what}: ${section}`);
    const ttls = new Map(direct[section].map((record) => [key(record), record.ttl]));
    for (const record of got[section]) {
      assert.ok(record.ttl <= ttls.get(key(record))!, `${what}: TTL of ${key(record)}`);
    }
  }
}

test(
  needsTools(["nsd"], "dnsd forwards every record type of a zone as NSD answers it, then from its cache"),
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_forward_interop_" });
    try {
      for (const file of ["example.org.zone", "included.zone"]) {
        await Deno.copyFile(new URL(file, ZONES), `${dir}/${file}`);
      }
      const zones = [{ name: "example.org", file: "example.org.zone" }];
      await withNsd({ zones, zonesDir: dir }, async (nsd) => {
        const server = startServer({
          host: "127.0.0.1",
          port: 0,
          upstreams: [{ hostname: "127.0.0.1", port: nsd.port }],
          timeoutMs: WAIT_MS,
          localData: fixedData({}),
          cache: { limits: { maxEntries: 1000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 } },
        });
        try {
          const ask = async (port: number, message: Message) => {
            const reply = await exchange(port, encodeMessage(message), WAIT_MS);
            assert.ok(reply, `no reply from port ${port}`);
            return decodeMessage(reply);
          };
          let id = 1;
          for (const [name, type] of QUESTIONS) {
            const code = typeFromText(type);
            assert.ok(code !== null, type);
            for (const edns of [null, EDNS, { ...EDNS, dnssecOk: true }]) {
              const asked = edns === null ? "no EDNS" : edns.dnssecOk ? "DO" : "EDNS";
              await t.step(`${name} ${type}, ${asked}`, async () => {
                const direct = await ask(nsd.port, query({ name, type: code }, { id: id++, edns }));
                // In another case each time, so the cached answer is served to a new spelling.
                for (
                  const [spelling, from] of [[name.toUpperCase(), "forwarded"], [name, "cached"]] as const
                ) {
                  const got = await ask(
                    server.address.port,
                    query({ name: spelling, type: code }, { id: id++, edns }),
                  );
                  assert.equal(got.questions[0]!.name, spelling, "the question as asked");
                  assert.equal(got.edns !== null, edns !== null, "an OPT record exactly when asked with one");
                  assert.equal(got.edns?.dnssecOk ?? false, edns?.dnssecOk ?? false, "DO echoed");
                  assertSame(got, direct, `${spelling} ${type} (${from})`);
                }
              });
            }
          }
        } finally {
          server.close();
          await server.finished;
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
