/**
 * The small parts of `--workers`: how many run (table), the cookie secrets every worker draws
 * alike from one seed, and a relayed request's error made again as the class `respond` maps.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { seededDraws, workersWanted } from "../../lib/workers/mod.ts";
import { RelayedCalls, replyOfError } from "../../lib/workers/relay.ts";
import { query, QueryFailure, Refused } from "../../lib/proto/mod.ts";
import type { RelayedRequest } from "../../lib/workers/messages.ts";

const counts: readonly {
  requested: number;
  udpIo: "deno" | "batched";
  cpus: number;
  count: number;
  why: boolean;
}[] = [
  { requested: 1, udpIo: "batched", cpus: 8, count: 1, why: false },
  { requested: 4, udpIo: "batched", cpus: 2, count: 4, why: false },
  { requested: 0, udpIo: "batched", cpus: 2, count: 2, why: false },
  { requested: 0, udpIo: "batched", cpus: 1, count: 1, why: false },
  { requested: 2, udpIo: "deno", cpus: 2, count: 1, why: true },
  { requested: 0, udpIo: "deno", cpus: 2, count: 1, why: true },
  { requested: 1, udpIo: "deno", cpus: 2, count: 1, why: false },
];

for (const row of counts) {
  test(`workersWanted(${row.requested}, ${row.udpIo}) on ${row.cpus} CPUs: ${row.count}`, () => {
    const wanted = workersWanted(row.requested, row.udpIo, row.cpus);
    assert.equal(wanted.count, row.count);
    assert.equal(wanted.why !== undefined, row.why);
  });
}

test("seededDraws: one seed draws the same secrets in the same order; another seed others", () => {
  const seed = Uint8Array.from({ length: 16 }, (_, i) => i);
  const [a, b] = [seededDraws(seed), seededDraws(seed)];
  const draw = (random: (octets: Uint8Array) => void) => {
    const secret = new Uint8Array(16);
    random(secret);
    return secret;
  };
  const first = draw(a);
  assert.deepEqual(draw(b), first);
  const second = draw(a);
  assert.notDeepEqual(second, first);
  assert.deepEqual(draw(b), second);
  assert.notDeepEqual(first.subarray(0, 8), first.subarray(8));
  assert.notDeepEqual(draw(seededDraws(new Uint8Array(16))), first);
});

test("RelayedCalls: the answer settles its call; an error comes back as its class", async () => {
  const sent: { seq: number; handler: string; request: RelayedRequest }[] = [];
  const calls = new RelayedCalls((seq, handler, request) => sent.push({ seq, handler, request }));
  // A batched socket's peer: its address read through getters, which a structured clone drops.
  class Peer {
    readonly transport = "udp" as const;
    get hostname() {
      return "127.0.0.1";
    }
    get port() {
      return 5300;
    }
  }
  const request = {
    message: query({ name: "example.test", type: 6 }),
    client: new Peer(),
    transport: "udp" as const,
    receivedAt: 0,
    size: 29,
    trace: { source: 0 } as never,
  };
  const answered = calls.call("notify", request);
  const refused = calls.call("notify", request);
  const unknown = calls.call("transfer", request);
  assert.equal(sent.length, 3);
  assert.deepEqual(sent.map((call) => call.handler), ["notify", "notify", "transfer"]);
  assert.equal("trace" in sent[0]!.request, false);
  assert.deepEqual(structuredClone(sent[0]!.request).client, {
    transport: "udp",
    hostname: "127.0.0.1",
    port: 5300,
  });
  calls.settle(sent[0]!.seq, { ok: true, message: request.message });
  calls.settle(sent[1]!.seq, replyOfError(new Refused("NOTIFY needs a TSIG signature")));
  calls.settle(sent[2]!.seq, replyOfError(new TypeError("boom")));
  assert.deepEqual(await answered, request.message);
  await assert.rejects(refused, (error) => error instanceof Refused && /TSIG/.test(error.message));
  await assert.rejects(
    unknown,
    (error) => error instanceof Error && !(error instanceof QueryFailure) && error.message === "boom",
  );
});
