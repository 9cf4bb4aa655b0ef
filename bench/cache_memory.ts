/**
 * Heap bytes per answer-cache entry (for the README): fills an {@link AnswerCache} with N typical
 * entries, each an A answer of 1 or 2 records for a distinct name (host123456.example.com), built
 * the way the forwarder builds them (a decoded client query with EDNS; the upstream reply's bytes,
 * carved from small slabs as the upstream pool keeps them, walked and wrapped in a WireResponse),
 * and compares `Deno.memoryUsage().heapUsed` before and after, with a full GC before each reading.
 * Not a test: run it by hand.
 *
 * ```sh
 * deno run --allow-net --allow-read --v8-flags=--expose-gc bench/cache_memory.ts [N ...]
 * ```
 * @module
 */
import { ByteArena } from "../lib/proto/arena.ts";
import { AnswerCache, cacheKey } from "../lib/cache/cache.ts";
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { query, reply } from "../lib/proto/message.ts";
import { type Message, RRClass } from "../lib/proto/types.ts";
import { scanAnswer } from "../lib/proto/wire_answer.ts";
import { WireResponse } from "../lib/proto/wire_response.ts";

const encoder = new TextEncoder();

function print(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

/** The client query for `name`, as dig sends it by default (RD=1, EDNS 1232), through the codec. */
function clientQuery(name: string, id: number): Message {
  const edns = { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] };
  return decodeMessage(encodeMessage(query({ name }, { id, edns })));
}

/** What the forwarder hands the cache for entry `i`: the upstream's 1 or 2 A records, as bytes. */
function forwardedAnswer(i: number, replies: ByteArena): Message {
  const name = `host${i}.example.com`;
  const request = clientQuery(name, i & 0xffff);
  const records = Array.from({ length: 1 + (i % 2) }, (_, n) => ({
    name,
    class: RRClass.IN,
    ttl: 300,
    data: { type: "A" as const, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i + n) & 255}` },
  }));
  const bytes = replies.copy(encodeMessage(reply(request, { answers: records })));
  const scanned = scanAnswer(bytes);
  if (!scanned) throw new Error("the walk should take a plain A answer");
  return new WireResponse(request, scanned, false, null);
}

function measure(entries: number, gc: () => void): void {
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const started = performance.now();
  const cache = new AnswerCache({
    maxEntries: entries,
    minTtl: 0,
    maxTtl: 86400,
    servfailTtl: 5,
    staleMax: 0,
  });
  const replies = new ByteArena(8 * 1024); // as lib/udp_pool.ts keeps replies
  for (let i = 0; i < entries; i++) {
    const response = forwardedAnswer(i, replies);
    cache.putAnswer(cacheKey(response.questions[0]!, false, false), response, 0);
  }
  const fillMs = performance.now() - started;
  gc();
  const after = Deno.memoryUsage().heapUsed;
  // Keys whose slots collide share a place (lib/cache.ts): a few in a million.
  if (cache.size < entries * 0.999) throw new Error(`Expected ${entries} entries, found ${cache.size}`);
  const perEntry = (after - before) / cache.size;
  print(
    `${entries.toLocaleString("en")} entries: ${((after - before) / 2 ** 20).toFixed(1)} MiB of heap, ` +
      `${Math.round(perEntry)} bytes per entry (filled in ${(fillMs / 1000).toFixed(1)} s; ` +
      `${(entries - cache.size).toLocaleString("en")} keys lost to a slot collision)`,
  );
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  print("Run with --v8-flags=--expose-gc so the heap can be measured after a full GC.");
  Deno.exit(1);
}
const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [100_000, 1_000_000];
for (const entries of sizes) measure(entries, gc);
