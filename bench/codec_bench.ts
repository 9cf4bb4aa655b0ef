/**
 * Codec and query-path benchmarks: `deno task bench`. Target: the whole query -> response path
 * for a mapped name at 500,000 ops/s or more (issue 2). Also the JavaScript share of an uncached
 * forwarded query (the cost the load benchmark's uncached scenario adds socket work to).
 * @module
 */
import type { QueryContext } from "../lib/resolve/mod.ts";
import { ByteArena } from "../lib/proto/arena.ts";
import { answerCache } from "../lib/cache/cache_stage.ts";
import { forward } from "../lib/upstream/forward.ts";
import { query } from "../lib/proto/message.ts";
import { ResponseMemo } from "../lib/resolve/response_memo.ts";
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { authoritative } from "../lib/resolve/authority.ts";
import { fixedData } from "../lib/zone/local_data.ts";
import { chain, logQueries, requireRecursion } from "../lib/resolve/resolver.ts";
import { respond } from "../lib/server/respond.ts";
import { mappingRecords } from "../lib/zone/static_map.ts";
import { UpstreamError } from "../lib/proto/errors.ts";
import mappings from "../mappings.ts";
import { readVector } from "../tests/_hex.ts";

/** A UDP client on loopback, as the server would describe it. */
const context: QueryContext = {
  client: { transport: "udp", hostname: "127.0.0.1", port: 53000 },
  transport: "udp",
  receivedAt: 0,
  size: 0,
};

// dig @127.0.0.1 -p 35353 example.com (DiG 9.18), the capture in tests/testdata/
const digQuery = await readVector("dig_query_example_com.hex");
const arena = new ByteArena();
const localData = fixedData({ mappings: mappingRecords(mappings) });
const resolve = chain([logQueries(), authoritative(localData), requireRecursion()], () => {
  throw new UpstreamError("no upstream in the benchmark");
});
const response = decodeMessage(
  await respond(digQuery, context, { resolve: resolve, report: () => {} }) ?? new Uint8Array(),
);
const request = decodeMessage(digQuery);

Deno.bench("decodeMessage() of a dig query", { group: "codec" }, () => {
  decodeMessage(digQuery);
});

Deno.bench("encodeMessage() of a local answer", { group: "codec" }, () => {
  encodeMessage(response, arena);
});

Deno.bench("respond(): query -> response for a mapped name", { group: "path", baseline: true }, async () => {
  await respond(digQuery, context, { resolve: resolve, report: () => {}, arena });
});

Deno.bench("resolve() alone for a mapped name", { group: "path" }, async () => {
  await resolve({ ...context, message: request });
});

/** Where the upstream pool keeps replies: small slabs (lib/udp_pool.ts). */
const replies = new ByteArena(8 * 1024);

/** An upstream in memory: the query back with QR, RA and one A record, and no OPT. */
function upstreamReply(sent: Uint8Array): Uint8Array {
  let end = 12;
  while (sent[end] !== 0) end += sent[end]! + 1;
  end += 5; // root, QTYPE, QCLASS
  const reply = replies.take(end + 16);
  reply.set(sent.subarray(0, end));
  reply.set([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0], 2); // QR RD RA, one question, one answer
  reply.set([0xc0, 0x0c, 0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4, 192, 0, 2, 1], end); // A 192.0.2.1, TTL 86400
  return reply;
}

const memo = new ResponseMemo();
const cache = answerCache({
  limits: { maxEntries: 100_000, minTtl: 0, maxTtl: 86_400, servfailTtl: 5, staleMax: 0 },
  memo,
});
const forwarding = chain([
  logQueries(),
  authoritative(localData, { memo }),
  cache.stage,
  requireRecursion(),
  forward([{ name: "memory", exchange: (sent) => Promise.resolve(upstreamReply(sent)) }], {
    timeoutMs: 2000,
  }),
]);
const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };
let unique = 0;

Deno.bench("respond(): an uncached name, through the cache, forwarded (upstream in memory)", {
  group: "forwarded",
}, async () => {
  const name = `n${unique++}.bench.test`;
  const bytes = encodeMessage(
    query({ name, type: 1 }, { id: unique & 0xffff, recursionDesired: true, edns }),
    arena,
  );
  await respond(bytes, context, { resolve: forwarding, report: () => {}, arena, memo });
});
