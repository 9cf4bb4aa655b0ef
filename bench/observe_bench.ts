/**
 * What observing a query costs (`deno bench bench/observe_bench.ts`): the memo-hit path's own
 * work (the memo's answer, copied with the ID patched in) against what an observer adds to it,
 * none (one null check), the metrics (two typed-array increments and a scan of the question's
 * name for its type) and the query log (a line made and buffered, written off the path); and the
 * trace a query that goes through the stages gets.
 * @module
 */
import { ByteArena, decodeMessage, encodeMessage, type Message, query } from "../lib/proto/mod.ts";
import { Metrics, newTrace, QueryLog, type QueryObserver, Source } from "../lib/observe/mod.ts";
import { ResponseMemo } from "../lib/resolve/mod.ts";

const wire = encodeMessage(query({ name: "www.example.com", type: 1 }, { id: 1 }));
const asked = decodeMessage(wire);
const answer: Message = {
  ...asked,
  response: true,
  authoritative: true,
  recursionAvailable: true,
  answers: [{ name: "www.example.com", class: 1, ttl: 300, data: { type: "A", address: "192.0.2.1" } }],
};
const bytes = encodeMessage(answer);
const memo = new ResponseMemo();
memo.remember(wire, memo.mark(answer, Infinity), bytes, Source.LOCAL);
const arena = new ByteArena();
const client: Deno.NetAddr = { transport: "udp", hostname: "192.0.2.7", port: 5300 };
const metrics = new Metrics();
// The log's writes go nowhere: the cost measured is the answer path's, not the disk's.
const log = new QueryLog({
  open: () => Promise.resolve({ write: () => Promise.resolve(), close() {} }),
  maxLines: 1_000_000,
});
const none: QueryObserver | null = null as QueryObserver | null;

function memoHit(observer: QueryObserver | null): void {
  const response = memo.answer(wire, arena)!;
  if (observer !== null) {
    observer.observe(wire, response, client, "udp", 0, memo.lastSource, null, false);
  }
}

Deno.bench("memo hit, no observer", { group: "memo", baseline: true }, () => memoHit(none));
Deno.bench("memo hit, metrics on", { group: "memo" }, () => memoHit(metrics));
Deno.bench("memo hit, query log on", { group: "memo" }, () => memoHit(log));
Deno.bench("a query's trace (the stages' path, observed)", { group: "trace" }, () => {
  newTrace().source = Source.CACHE;
});
