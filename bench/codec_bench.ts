/**
 * Codec and query-path benchmarks: `deno task bench`. Target: the whole query -> response path
 * for a mapped name at 500,000 ops/s or more (issue 2).
 * @module
 */
import { ByteArena } from "../lib/arena.ts";
import { decodeMessage, encodeMessage } from "../lib/codec.ts";
import { authoritative } from "../lib/authority.ts";
import { fixedData } from "../lib/local_data.ts";
import { chain, logQueries, requireRecursion } from "../lib/resolver.ts";
import { respond } from "../lib/respond.ts";
import { mappingRecords } from "../lib/static_map.ts";
import { UpstreamError } from "../lib/errors.ts";
import mappings from "../mappings.ts";
import { readVector } from "../tests/_hex.ts";

// dig @127.0.0.1 -p 35353 example.com (DiG 9.18), the capture in tests/testdata/
const digQuery = await readVector("dig_query_example_com.hex");
const arena = new ByteArena();
const localData = fixedData({ mappings: mappingRecords(mappings) });
const resolve = chain([logQueries(), authoritative(localData), requireRecursion()], () => {
  throw new UpstreamError("no upstream in the benchmark");
});
const response = decodeMessage(await respond(digQuery, resolve, () => {}) ?? new Uint8Array());
const request = decodeMessage(digQuery);

Deno.bench("decodeMessage() of a dig query", { group: "codec" }, () => {
  decodeMessage(digQuery);
});

Deno.bench("encodeMessage() of a local answer", { group: "codec" }, () => {
  encodeMessage(response, arena);
});

Deno.bench("respond(): query -> response for a mapped name", { group: "path", baseline: true }, async () => {
  await respond(digQuery, resolve, () => {}, { arena });
});

Deno.bench("resolve() alone for a mapped name", { group: "path" }, async () => {
  await resolve(request);
});
