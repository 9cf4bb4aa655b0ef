/**
 * An IXFR diff applied to a zone's records: deletions, additions, TTL changes and several steps in
 * a row; a diff that deletes what is not there or whose serials do not chain is refused whole.
 * @module
 */
import assert from "node:assert/strict";
import { formatRData, type ResourceRecord } from "../../lib/proto/mod.ts";
import { applyIxfr, type IxfrDiff, TransferError } from "../../lib/xfr/mod.ts";
import { test } from "../_limit.ts";
import { recordsOf, soaAt } from "./_xfr.ts";

const ZONE = `
@    NS    ns1
ns1  A     192.0.2.53
www  A     192.0.2.1
www  A     192.0.2.2
mail MX    10 mx.example.net.
txt  TXT   "Hello" "World"
`;

/** One record per line, as `name ttl TYPE rdata`, sorted: the set a zone holds. */
function lines(records: readonly ResourceRecord[]): string[] {
  return records.map((r) => `${r.name} ${r.ttl} ${r.data.type} ${formatRData(r.data)}`).sort();
}

async function diff(from: number, to: number, deleted: string, added: string): Promise<IxfrDiff> {
  return {
    from: soaAt(from),
    to: soaAt(to),
    deleted: await recordsOf(deleted),
    added: await recordsOf(added),
  };
}

interface Applied {
  readonly name: string;
  readonly diffs: () => Promise<IxfrDiff[]>;
  readonly newest: number;
  readonly gone: readonly string[];
  readonly came: readonly string[];
}

const applied: Applied[] = [
  {
    name: "a deletion and an addition",
    diffs: () => Promise.all([diff(1, 2, "www A 192.0.2.2", "ftp A 192.0.2.9")]),
    newest: 2,
    gone: ["www.example.com 3600 A 192.0.2.2"],
    came: ["ftp.example.com 3600 A 192.0.2.9"],
  },
  {
    name: "a TTL change (delete, then add at the new TTL)",
    diffs: () => Promise.all([diff(1, 2, "www A 192.0.2.1", "www 60 A 192.0.2.1")]),
    newest: 2,
    gone: ["www.example.com 3600 A 192.0.2.1"],
    came: ["www.example.com 60 A 192.0.2.1"],
  },
  {
    name: "names compared without case, in owners and RDATA",
    diffs: () => Promise.all([diff(1, 2, "WWW A 192.0.2.1\nMail MX 10 MX.Example.NET.", "")]),
    newest: 2,
    gone: ["www.example.com 3600 A 192.0.2.1", "mail.example.com 3600 MX 10 mx.example.net."],
    came: [],
  },
  {
    name: "three steps, the last deleting what the first added",
    diffs: () =>
      Promise.all([
        diff(1, 2, "", "new A 192.0.2.7"),
        diff(2, 5, 'txt TXT "Hello" "World"', ""),
        diff(5, 6, "new A 192.0.2.7", "new AAAA 2001:db8::7"),
      ]),
    newest: 6,
    gone: ['txt.example.com 3600 TXT "Hello" "World"'],
    came: ["new.example.com 3600 AAAA 2001:db8::7"],
  },
  {
    name: "serials across the 2^32 wrap",
    diffs: () => Promise.all([diff(1, 0xffff_fff0, "", ""), diff(0xffff_fff0, 3, "", "x A 192.0.2.3")]),
    newest: 3,
    gone: [],
    came: ["x.example.com 3600 A 192.0.2.3"],
  },
];

for (const row of applied) {
  test(`applyIxfr() applies ${row.name}`, async () => {
    const held = [soaAt(1), ...await recordsOf(ZONE)];
    const before = lines(held.slice(1));
    const result = applyIxfr(held, soaAt(1), { diffs: await row.diffs(), newest: soaAt(row.newest) });
    assert.equal(result[0]!.data.type === "SOA" && result[0]!.data.serial, row.newest);
    const expected = [...before.filter((line) => !row.gone.includes(line)), ...row.came].sort();
    assert.deepEqual(lines(result.slice(1)), expected);
    assert.deepEqual(lines(held.slice(1)), before, "the records held are not changed");
  });
}

const refused = [
  {
    name: "a deletion of a record not held",
    diffs: () => Promise.all([diff(1, 2, "www A 192.0.2.99", "")]),
    newest: 2,
  },
  {
    name: "a deletion of a record with other RDATA case in TXT (TXT is case-sensitive)",
    diffs: () => Promise.all([diff(1, 2, 'txt TXT "hello" "world"', "")]),
    newest: 2,
  },
  { name: "a first step from another serial", diffs: () => Promise.all([diff(7, 8, "", "")]), newest: 8 },
  {
    name: "steps that do not chain",
    diffs: () => Promise.all([diff(1, 2, "", ""), diff(3, 4, "", "")]),
    newest: 4,
  },
  { name: "steps ending short of the newest SOA", diffs: () => Promise.all([diff(1, 2, "", "")]), newest: 3 },
  {
    name: "a record deleted twice",
    diffs: () => Promise.all([diff(1, 2, "www A 192.0.2.1", ""), diff(2, 3, "www A 192.0.2.1", "")]),
    newest: 3,
  },
];

for (const row of refused) {
  test(`applyIxfr() refuses ${row.name}`, async () => {
    const held = [soaAt(1), ...await recordsOf(ZONE)];
    const diffs = await row.diffs();
    assert.throws(
      () => applyIxfr(held, soaAt(1), { diffs, newest: soaAt(row.newest) }),
      (error) => error instanceof TransferError && error.reason === "diff",
    );
  });
}
