/**
 * The transfer client against a scripted primary on 127.0.0.1: AXFR in several messages, IXFR,
 * and the answers that must be refused (wrong ID, another zone, no closing SOA, an RCODE, TSIG
 * missing or wrong, too large, too slow, nobody listening), each with its reason.
 * @module
 */
import assert from "node:assert/strict";
import { encodeMessage, type Message, Rcode, reply } from "../../lib/proto/mod.ts";
import { Hmacs, parseTsigKey, type TsigKey } from "../../lib/tsig/mod.ts";
import {
  connectTcp,
  querySoa,
  requestTransfer,
  type Transfer,
  type TransferClientOptions,
  TransferError,
  type TransferReason,
} from "../../lib/xfr/mod.ts";
import { test } from "../_limit.ts";
import { FakePrimary, type Script, type Versions, zonePrimary } from "./_fake_primary.ts";
import { answersTo, recordsOf, soaAt } from "./_xfr.ts";

const KEY = parseTsigKey("xfr.example:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
const OTHER_SECRET = parseTsigKey("xfr.example:hmac-sha256:b3RoZXJvdGhlcm90aGVyb3RoZXI=");

async function versions(): Promise<Versions> {
  return new Map([
    [1, await recordsOf("@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\nmail MX 10 mail\nmail A 192.0.2.25")],
    [2, await recordsOf("@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.2\nmail MX 10 mail\nmail A 192.0.2.25")],
  ]);
}

/** Runs `fn` with client options whose deadline is `ms` away, cleared afterwards. */
async function withClient<T>(
  fn: (options: TransferClientOptions) => Promise<T>,
  extra: { key?: TsigKey; ms?: number; maxBytes?: number } = {},
): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), extra.ms ?? 5000);
  try {
    return await fn({
      connect: connectTcp,
      signal: deadline.signal,
      hmacs: new Hmacs(),
      unixClock: () => Math.floor(Date.now() / 1000),
      maxBytes: extra.maxBytes ?? 1 << 20,
      id: 0x4242,
      ...(extra.key ? { key: extra.key } : {}),
    });
  } finally {
    clearTimeout(timer);
  }
}

async function withPrimary<T>(script: Script, fn: (primary: FakePrimary) => Promise<T>): Promise<T> {
  const primary = new FakePrimary(script);
  try {
    return await fn(primary);
  } finally {
    await primary.close();
  }
}

function kindOf(transfer: Transfer): string {
  return `${transfer.kind} ${transfer.soa.data.serial}`;
}

test("requestTransfer() reads an AXFR sent two records a message", async () => {
  const state = { serial: 1, versions: await versions(), perMessage: 2 };
  await withPrimary(zonePrimary(state), async (primary) => {
    const transfer = await withClient((o) =>
      requestTransfer(primary.addr, "example.com", { kind: "axfr" }, o)
    );
    assert.equal(kindOf(transfer), "full 1");
    assert.equal(transfer.kind === "full" && transfer.records.length, 6);
    assert.deepEqual(primary.asked, ["AXFR"]);
  });
});

test("requestTransfer() reads an incremental IXFR, the SOA held in the authority section", async () => {
  const state = { serial: 2, versions: await versions() };
  await withPrimary(zonePrimary(state), async (primary) => {
    const transfer = await withClient((o) =>
      requestTransfer(primary.addr, "example.com", { kind: "ixfr", soa: soaAt(1) }, o)
    );
    assert.equal(kindOf(transfer), "incremental 2");
    assert.equal(transfer.kind === "incremental" && transfer.diffs.length, 1);
    assert.deepEqual(primary.asked, ["IXFR 1"]);
  });
});

test("querySoa() and requestTransfer() sign with a key and check the signed answers", async () => {
  const state = { serial: 2, versions: await versions(), key: KEY };
  await withPrimary(zonePrimary(state), async (primary) => {
    const soa = await withClient((o) => querySoa(primary.addr, "example.com", o), { key: KEY });
    assert.equal(soa.data.serial, 2);
    const transfer = await withClient(
      (o) => requestTransfer(primary.addr, "example.com", { kind: "axfr" }, o),
      { key: KEY },
    );
    assert.equal(kindOf(transfer), "full 2");
  });
});

/** A script answering every request with the answers `make` builds from it. */
function answering(make: (request: Message) => Uint8Array[], cut = false): Script {
  return (request) => ({ messages: make(request), cut });
}

const soa1 = soaAt(1);
const refusals: {
  name: string;
  script: () => Promise<Script>;
  reason: TransferReason;
  key?: TsigKey;
  ms?: number;
  maxBytes?: number;
}[] = [
  {
    name: "an answer with another ID",
    script: () => Promise.resolve(answering((r) => answersTo({ ...r, id: r.id ^ 1 }, [[soa1, soa1]]))),
    reason: "malformed",
  },
  {
    name: "an answer about another zone",
    script: () =>
      Promise.resolve(answering((r) => answersTo(r, [[soaAt(1, "example.org"), soaAt(1, "example.org")]]))),
    reason: "malformed",
  },
  {
    name: "an answer echoing another question",
    script: () =>
      Promise.resolve(
        answering((r) => answersTo({ ...r, questions: [{ ...r.questions[0]!, type: 6 }] }, [[soa1, soa1]])),
      ),
    reason: "malformed",
  },
  {
    name: "a query echoed back (QR=0)",
    script: () => Promise.resolve((_r: Message, wire: Uint8Array) => ({ messages: [wire] })),
    reason: "malformed",
  },
  {
    name: "undecodable bytes",
    script: () => Promise.resolve(answering(() => [new Uint8Array([0x42, 0x42, 0x84, 0x00, 0, 1])])),
    reason: "malformed",
  },
  {
    name: "a transfer cut before its closing SOA",
    script: async () => {
      const www = await recordsOf("www A 192.0.2.1");
      return answering((r) => answersTo(r, [[soa1, ...www]]), true);
    },
    reason: "incomplete",
  },
  {
    name: "REFUSED",
    script: () =>
      Promise.resolve(answering((r) => [encodeMessage(reply(r, { rcode: Rcode.REFUSED, edns: null }))])),
    reason: "rcode",
  },
  {
    name: "an unsigned answer to a signed request",
    script: async () => zonePrimary({ serial: 1, versions: await versions() }),
    key: KEY,
    reason: "tsig",
  },
  {
    name: "an answer signed with another secret",
    script: async () => zonePrimary({ serial: 1, versions: await versions(), key: OTHER_SECRET }),
    key: KEY,
    reason: "tsig",
  },
  {
    name: "an answer over the size limit",
    script: async () => zonePrimary({ serial: 1, versions: await versions(), perMessage: 1 }),
    maxBytes: 200,
    reason: "too-large",
  },
  // The script is replaced by a stalled answer the test can release (see below).
  {
    name: "a primary that never answers",
    script: () => Promise.resolve(answering(() => [])),
    ms: 200,
    reason: "timeout",
  },
];

for (const row of refusals) {
  test(`requestTransfer() refuses ${row.name}`, async () => {
    let script = await row.script();
    let release = () => {};
    if (row.reason === "timeout") {
      // Keep the stalled answer cancellable, so the test stops everything it starts.
      const stalled = new Promise<never>((_, reject) => (release = () => reject(new Error("released"))));
      script = () => stalled;
    }
    await withPrimary(script, async (primary) => {
      try {
        await assert.rejects(
          withClient((o) => requestTransfer(primary.addr, "example.com", { kind: "axfr" }, o), row),
          (error) => error instanceof TransferError && error.reason === row.reason,
        );
      } finally {
        release();
      }
    });
  });
}

test("requestTransfer() says `network` when nobody listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const addr = listener.addr;
  listener.close();
  await assert.rejects(
    withClient((o) => requestTransfer(addr, "example.com", { kind: "axfr" }, o)),
    (error) => error instanceof TransferError && error.reason === "network",
  );
});
