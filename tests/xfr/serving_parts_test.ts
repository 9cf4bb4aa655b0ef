/**
 * The primary's parts one by one: the journal's bound and chain, the transfer handler's message
 * packing (a zone of 60,000 records in messages under 64 KiB, the SOA first and last) and its
 * incremental answers, and NOTIFY out (retries until acknowledged, then nothing; at most five
 * retries; signed with the first key).
 * @module
 */
import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  Opcode,
  query,
  type ResourceRecord,
  RRType,
} from "../../lib/proto/mod.ts";
import { parseTsigKey, TsigKeyring, verifyRequest } from "../../lib/tsig/mod.ts";
import { differenceOf, Journal, Notifier, transferHandler } from "../../lib/xfr/mod.ts";
import { buildZone, type Zone } from "../../lib/zone/mod.ts";
import { test } from "../_limit.ts";
import { requestOf } from "../_request.ts";
import { recordsOf, soaAt } from "./_xfr.ts";

async function zoneOf(serial: number, text: string): Promise<Zone> {
  const records = [soaAt(serial), ...await recordsOf(text)];
  return buildZone({ records, locations: [] }, "test.zone");
}

test("Journal: differences chain, the oldest go past the bound, a gap starts a new chain", async () => {
  const v1 = await zoneOf(1, "a A 192.0.2.1\n");
  const v2 = await zoneOf(2, "a A 192.0.2.2\n");
  const v3 = await zoneOf(3, "a A 192.0.2.2\nb A 192.0.2.3\n");
  const journal = new Journal(7);
  journal.add("example.com", differenceOf(v1, v2)); // 4 records
  journal.add("example.com", differenceOf(v2, v3)); // 3 records: 7 in all
  assert.deepEqual(journal.since("example.com", 1)?.map((step) => step.to.data.serial), [2, 3]);
  assert.deepEqual(differenceOf(v1, v2).removed.map((record) => record.data), [{
    type: "A",
    address: "192.0.2.1",
  }]);
  const v4 = await zoneOf(4, "b A 192.0.2.3\n");
  journal.add("example.com", differenceOf(v3, v4)); // 3 more: 1 -> 2 goes
  assert.equal(journal.since("example.com", 1), null);
  assert.deepEqual(journal.since("example.com", 2)?.map((step) => step.to.data.serial), [3, 4]);
  journal.add("example.com", differenceOf(v1, v2)); // does not follow 4: the chain starts again
  assert.equal(journal.since("example.com", 3), null);
  assert.deepEqual(journal.since("example.com", 1)?.map((step) => step.to.data.serial), [2]);
});

function axfrRequest(type: number, authority: ResourceRecord[] = []) {
  const message = {
    ...query({ name: "example.com", type }, { id: 99, recursionDesired: false }),
    authorities: authority,
  };
  return requestOf(message, {
    client: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
    transport: "tcp",
  });
}

test("transfer: a large zone goes in messages under 64 KiB, every record once, the SOA first and last", async () => {
  const lines: string[] = [];
  for (let n = 0; n < 60_000; n++) lines.push(`host-number-${n} A 10.0.${(n >> 8) & 255}.${n & 255}`);
  lines.push(`big TXT ${Array.from({ length: 200 }, () => `"${"x".repeat(250)}"`).join(" ")}`);
  const zone = await zoneOf(5, lines.join("\n") + "\n");
  const handler = transferHandler({
    zone: (key) => (key === "example.com" ? zone : undefined),
    journal: new Journal(0),
    allowed: () => true,
    signatureRequired: () => false,
  });
  const messages: Uint8Array[] = [];
  assert.equal(
    await handler(axfrRequest(RRType.AXFR), (bytes) => Promise.resolve(void messages.push(bytes))),
    null,
  );
  assert.ok(messages.length > 10, `${messages.length} messages`);
  const records: ResourceRecord[] = [];
  for (const bytes of messages) {
    assert.ok(bytes.length <= 65_535, `${bytes.length} octets`);
    const message = decodeMessage(bytes);
    assert.ok(message.response && message.authoritative && message.id === 99);
    records.push(...message.answers);
  }
  assert.equal(records.length, zone.size + 1);
  assert.equal(records[0]!.data.type, "SOA");
  assert.equal(records.at(-1)!.data.type, "SOA");
  assert.equal(records.filter((record) => record.data.type === "TXT").length, 1);
});

test("transfer: IXFR from the journal is incremental; from a serial it lacks, the whole zone", async () => {
  const v1 = await zoneOf(1, "a A 192.0.2.1\nkeep1 A 192.0.2.9\nkeep2 A 192.0.2.9\nkeep3 A 192.0.2.9\n");
  const v2 = await zoneOf(2, "a A 192.0.2.2\nkeep1 A 192.0.2.9\nkeep2 A 192.0.2.9\nkeep3 A 192.0.2.9\n");
  const journal = new Journal(100);
  journal.add("example.com", differenceOf(v1, v2));
  const handler = transferHandler({
    zone: () => v2,
    journal,
    allowed: () => true,
    signatureRequired: () => false,
  });
  const collect = async (serial: number) => {
    const messages: Uint8Array[] = [];
    await handler(
      axfrRequest(RRType.IXFR, [soaAt(serial)]),
      (bytes) => Promise.resolve(void messages.push(bytes)),
    );
    return messages.flatMap((bytes) => decodeMessage(bytes).answers).map((record) =>
      record.data.type === "SOA"
        ? `SOA ${record.data.serial}`
        : `${record.name} ${JSON.stringify(record.data)}`
    );
  };
  assert.deepEqual(await collect(1), [
    "SOA 2",
    "SOA 1",
    'a.example.com {"type":"A","address":"192.0.2.1"}',
    "SOA 2",
    'a.example.com {"type":"A","address":"192.0.2.2"}',
    "SOA 2",
  ]);
  assert.equal((await collect(0)).length, v2.size + 1);
  // Up to date, over UDP: the SOA alone; behind over UDP: TC.
  const udp = (serial: number) => requestOf({ ...axfrRequest(RRType.IXFR, [soaAt(serial)]).message });
  assert.equal((await handler(udp(2), null))?.answers.length, 1);
  assert.equal((await handler(udp(1), null))?.truncated, true);
});

test("Notifier retries until acknowledged and then sends nothing more; it signs with the first key", async () => {
  const target = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const address = target.addr as Deno.NetAddr;
  const keyring = new TsigKeyring([parseTsigKey("notify-key:hmac-sha256:c2VjcmV0c2VjcmV0")]);
  const notifier = new Notifier({
    targets: [{ transport: "udp", hostname: "127.0.0.1", port: address.port }],
    keyring,
    unixClock: () => Math.floor(Date.now() / 1000),
    retryMs: 100,
  });
  const zone = await zoneOf(7, "a A 192.0.2.1\n");
  const received: number[] = [];
  const serve = (async () => {
    try {
      while (true) {
        const [bytes, from] = await target.receive();
        const message = decodeMessage(bytes);
        received.push(Date.now());
        assert.equal(message.opcode, Opcode.NOTIFY);
        assert.equal((await verifyRequest(bytes, keyring, Math.floor(Date.now() / 1000))).kind, "signed");
        // The third try is answered.
        if (received.length === 3) {
          await target.send(encodeMessage({ ...message, response: true, additionals: [] }), from);
        }
      }
    } catch {
      // closed
    }
  })();
  try {
    await notifier.notify(zone);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(received.length, 3);
  } finally {
    notifier.close();
    target.close();
    await serve;
  }
});

test("Notifier gives up after five retries when nobody answers", async () => {
  const target = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const notifier = new Notifier({
    targets: [{ transport: "udp", hostname: "127.0.0.1", port: (target.addr as Deno.NetAddr).port }],
    keyring: new TsigKeyring([]),
    unixClock: () => 0,
    retryMs: 30,
  });
  let count = 0;
  const serve = (async () => {
    try {
      while (true) {
        await target.receive();
        count++;
      }
    } catch {
      // closed
    }
  })();
  try {
    await notifier.notify(await zoneOf(1, ""));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(count, 6);
  } finally {
    notifier.close();
    target.close();
    await serve;
  }
});
