/**
 * Local data at scale: loading a zone of 1,000,000 records, and the query -> response cost for a
 * name in it next to the 4-name mappings.ts case. Targets (issue 3): the load under 10 seconds,
 * the per-query cost within 10% of the 4-name case. Run with `deno task bench`.
 * @module
 */
import type { QueryContext } from "../lib/resolve/mod.ts";
import { ByteArena } from "../lib/proto/arena.ts";
import { authoritative } from "../lib/resolve/authority.ts";
import { encodeMessage } from "../lib/proto/codec.ts";
import { UpstreamError } from "../lib/proto/errors.ts";
import { buildLocalData, fixedData } from "../lib/zone/local_data.ts";
import { query } from "../lib/proto/message.ts";
import { chain, logQueries, requireRecursion } from "../lib/resolve/resolver.ts";
import { respond } from "../lib/server/respond.ts";
import { mappingRecords } from "../lib/zone/static_map.ts";
import { buildZone } from "../lib/zone/zone.ts";
import { parseZoneFile } from "../lib/zone/zone_parser.ts";
import mappings from "../mappings.ts";

/** A UDP client on loopback, as the server would describe it. */
const context: QueryContext = {
  client: { transport: "udp", hostname: "127.0.0.1", port: 53000 },
  transport: "udp",
  receivedAt: 0,
  size: 0,
};

const RECORDS = 1_000_000;

function zoneText(records: number): string {
  const lines = [
    "$ORIGIN big.test.",
    "$TTL 3600",
    "@ SOA ns1 hostmaster 1 7200 3600 1209600 300",
    "@ NS ns1",
  ];
  for (let i = 0; i < records; i++) {
    lines.push(`host${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  return lines.join("\n") + "\n";
}

const text = zoneText(RECORDS);
const read = () => Promise.resolve(text);

async function loadBigZone() {
  return buildZone(await parseZoneFile("big.zone", { read }), "big.zone");
}

const bigZone = await loadBigZone();
// The same query name against 4 names and against 1,000,000: only the data size differs.
const smallZone = buildZone(
  await parseZoneFile("small.zone", {
    read: () => Promise.resolve(zoneText(4).replace("host3 ", "host765432 ")),
  }),
  "small.zone",
);
const noUpstream = () => Promise.reject(new UpstreamError("no upstream in the benchmark"));
const mapped = chain(
  [logQueries(), authoritative(fixedData({ mappings: mappingRecords(mappings) })), requireRecursion()],
  noUpstream,
);
const smallData = buildLocalData({ zones: [smallZone], hosts: [], mappings: mappingRecords(mappings) });
const small = chain([logQueries(), authoritative(() => smallData), requireRecursion()], noUpstream);
const bigData = buildLocalData({ zones: [bigZone], hosts: [], mappings: mappingRecords(mappings) });
const big = chain([logQueries(), authoritative(() => bigData), requireRecursion()], noUpstream);
const arena = new ByteArena();

function queryBytes(name: string): Uint8Array {
  return encodeMessage(query({ name }, { id: 0x1234 }));
}

const mappedQuery = queryBytes("example.com");
const zoneQuery = queryBytes("host765432.big.test");

Deno.bench(`load a zone of ${RECORDS.toLocaleString("en")} records (parse + index)`, {
  group: "load",
  n: 1,
  warmup: 0,
}, async () => {
  await loadBigZone();
});

Deno.bench("respond(): a mapped name from mappings.ts", { group: "query" }, async () => {
  await respond(mappedQuery, context, { resolve: mapped, report: () => {}, arena });
});

Deno.bench("respond(): a name in a 4-record zone", { group: "query", baseline: true }, async () => {
  await respond(zoneQuery, context, { resolve: small, report: () => {}, arena });
});

Deno.bench(
  `respond(): a name in a ${RECORDS.toLocaleString("en")}-record zone`,
  { group: "query" },
  async () => {
    await respond(zoneQuery, context, { resolve: big, report: () => {}, arena });
  },
);
