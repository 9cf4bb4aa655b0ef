/**
 * A transfer's record stream classified message by message (RFC 5936 section 2.2, RFC 1995
 * section 4): AXFR, IXFR up to date, AXFR-style and incremental, and the malformed streams that
 * must change nothing.
 * @module
 */
import assert from "node:assert/strict";
import type { ResourceRecord } from "../../lib/proto/mod.ts";
import { type Transfer, TransferCollector, TransferError, type TransferReason } from "../../lib/xfr/mod.ts";
import { test } from "../_limit.ts";
import { soaAt } from "./_xfr.ts";

function a(name: string, address = "192.0.2.1"): ResourceRecord {
  return { name, class: 1, ttl: 3600, data: { type: "A", address } };
}
const S = soaAt;
const WWW = a("www.example.com");
const MAIL = a("mail.example.com", "192.0.2.25");
const APEX = a("example.com", "192.0.2.80");

type Ask = { readonly kind: "axfr" } | { readonly kind: "ixfr"; readonly serial: number };
const AXFR: Ask = { kind: "axfr" };
const IXFR_FROM_1: Ask = { kind: "ixfr", serial: 1 };

/** What a complete stream comes to, in a line: its kind, serial and record or step counts. */
function summary(transfer: Transfer): string {
  switch (transfer.kind) {
    case "up-to-date":
      return `up-to-date ${transfer.soa.data.serial}`;
    case "full":
      return `full ${transfer.soa.data.serial} ${transfer.records.length} records`;
    case "incremental":
      return `incremental ${transfer.soa.data.serial} ` +
        transfer.diffs.map((d) =>
          `${d.from.data.serial}>${d.to.data.serial} -${d.deleted.length}+${d.added.length}`
        )
          .join(" ");
  }
}

const complete: { name: string; ask: Ask; messages: ResourceRecord[][]; expected: string }[] = [
  {
    name: "an AXFR in one message",
    ask: AXFR,
    messages: [[S(5), APEX, WWW, S(5)]],
    expected: "full 5 3 records",
  },
  {
    name: "an AXFR in three messages, the closing SOA alone",
    ask: AXFR,
    messages: [[S(5), APEX], [WWW, MAIL], [S(5)]],
    expected: "full 5 4 records",
  },
  {
    name: "an AXFR of a zone that is only its SOA",
    ask: AXFR,
    messages: [[S(5), S(5)]],
    expected: "full 5 1 records",
  },
  {
    name: "an AXFR with a record at the apex named in another case",
    ask: AXFR,
    messages: [[S(5), a("EXAMPLE.com"), S(5)]],
    expected: "full 5 2 records",
  },
  {
    name: "an IXFR answered with the SOA we hold",
    ask: IXFR_FROM_1,
    messages: [[S(1)]],
    expected: "up-to-date 1",
  },
  {
    name: "an IXFR answered with an older SOA (RFC 1982)",
    ask: { kind: "ixfr", serial: 10 },
    messages: [[S(9)]],
    expected: "up-to-date 9",
  },
  {
    name: "an IXFR answered AXFR-style",
    ask: IXFR_FROM_1,
    messages: [[S(3), APEX], [WWW, S(3)]],
    expected: "full 3 3 records",
  },
  {
    name: "an incremental IXFR of one step",
    ask: IXFR_FROM_1,
    messages: [[S(2), S(1), WWW, S(2), MAIL, S(2)]],
    expected: "incremental 2 1>2 -1+1",
  },
  {
    name: "an incremental IXFR of two steps over four messages, empty parts included",
    ask: IXFR_FROM_1,
    messages: [[S(3), S(1)], [S(2), WWW], [S(2), MAIL, S(3)], [S(3)]],
    expected: "incremental 3 1>2 -0+1 2>3 -1+0",
  },
  {
    name: "an IXFR whose newest SOA comes alone in the first message",
    ask: IXFR_FROM_1,
    messages: [[S(2)], [S(1), S(2), WWW, S(2)]],
    expected: "incremental 2 1>2 -0+1",
  },
];

for (const row of complete) {
  test(`TransferCollector reads ${row.name}`, () => {
    const collector = new TransferCollector("example.com", row.ask);
    row.messages.forEach((records, index) => {
      assert.equal(collector.done, false, `done before message ${index + 1}`);
      collector.add(records);
    });
    assert.equal(collector.done, true);
    assert.equal(summary(collector.result()), row.expected);
  });
}

const malformed: { name: string; ask: Ask; messages: ResourceRecord[][]; reason: TransferReason }[] = [
  { name: "an empty first message", ask: IXFR_FROM_1, messages: [[]], reason: "malformed" },
  { name: "a first record that is not an SOA", ask: AXFR, messages: [[WWW, S(5)]], reason: "malformed" },
  {
    name: "another zone's SOA",
    ask: AXFR,
    messages: [[S(5, "example.org"), S(5, "example.org")]],
    reason: "malformed",
  },
  {
    name: "a record out of the zone",
    ask: AXFR,
    messages: [[S(5), a("www.example.org"), S(5)]],
    reason: "malformed",
  },
  {
    name: "a zone's sibling sharing its suffix",
    ask: AXFR,
    messages: [[S(5), a("badexample.com"), S(5)]],
    reason: "malformed",
  },
  {
    name: "an SOA below the apex",
    ask: AXFR,
    messages: [[S(5), S(5, "sub.example.com"), S(5)]],
    reason: "malformed",
  },
  {
    name: "a record of class CH",
    ask: AXFR,
    messages: [[S(5), { ...WWW, class: 3 }, S(5)]],
    reason: "malformed",
  },
  { name: "a closing SOA of another serial", ask: AXFR, messages: [[S(5), WWW, S(6)]], reason: "malformed" },
  {
    name: "records after the closing SOA",
    ask: AXFR,
    messages: [[S(5), WWW, S(5), MAIL]],
    reason: "malformed",
  },
  {
    name: "a message after the closing SOA",
    ask: AXFR,
    messages: [[S(5), WWW, S(5)], [MAIL]],
    reason: "malformed",
  },
  {
    name: "an AXFR without its closing SOA",
    ask: AXFR,
    messages: [[S(5), WWW], [MAIL]],
    reason: "incomplete",
  },
  {
    name: "an IXFR cut before its final SOA",
    ask: IXFR_FROM_1,
    messages: [[S(2), S(1), WWW, S(2), MAIL]],
    reason: "incomplete",
  },
  {
    name: "an IXFR of a newer SOA alone, then nothing",
    ask: IXFR_FROM_1,
    messages: [[S(2)]],
    reason: "incomplete",
  },
];

for (const row of malformed) {
  test(`TransferCollector refuses ${row.name}`, () => {
    const collector = new TransferCollector("example.com", row.ask);
    assert.throws(
      () => {
        for (const records of row.messages) collector.add(records);
        collector.result();
      },
      (error) => error instanceof TransferError && error.reason === row.reason,
    );
  });
}
