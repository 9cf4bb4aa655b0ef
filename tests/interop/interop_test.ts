/**
 * Interop with real DNS software: dig and kdig ask a dnsd started in-process, whose upstream is a
 * real NSD serving tests/testdata/nsd_example_test.zone on a loopback port. NSD is authoritative
 * only, which is enough: dnsd forwards the question as it is.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { RRType, typeName } from "../../lib/proto/types.ts";
import mappings from "../../mappings.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { mappingRecords } from "../../lib/zone/static_map.ts";
import { dig, kdig, needsTools, withNsd } from "../_nsd.ts";
import { needsTool } from "../_tools.ts";
import { exchange, queryBytes } from "../_udp_client.ts";

const ZONE = new URL("../testdata/nsd_example_test.zone", import.meta.url);
const QUERY_TIMEOUT_MS = 2_000;

// ---------------------------------------------------------------------------------------------
// Fixtures

interface Stack {
  /** NSD's port, for direct queries. */
  readonly nsd: number;
  /** dnsd's port. */
  readonly dnsd: number;
  readonly server: RunningServer;
}

/** Runs `fn` against a fresh NSD and a dnsd forwarding to it; always stops both. */
async function withStack(fn: (stack: Stack) => Promise<void>): Promise<void> {
  const zone = { name: "example.test", file: "example.test.zone", text: await Deno.readTextFile(ZONE) };
  await withNsd({ zones: [zone] }, async (nsd) => {
    const server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: [{ hostname: "127.0.0.1", port: nsd.port }],
      timeoutMs: 2000,
      localData: fixedData({ mappings: mappingRecords(mappings) }),
    });
    try {
      await fn({ nsd: nsd.port, dnsd: server.address.port, server });
    } finally {
      server.close();
      await server.finished;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// dig and kdig

const MAPPED_A = ["example.com. 300 IN A 8.8.8.8"];
const WWW_FROM_NSD = [
  "www.example.test. 3600 IN CNAME web.example.test.",
  "web.example.test. 3600 IN A 192.0.2.10",
];
const SOA_FROM_NSD = [
  "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026112601 7200 3600 1209600 300",
];

test(needsTools(["nsd", "dig"], "dig gets a mapped name from dnsd, authoritatively"), async () => {
  await withStack(async ({ dnsd }) => {
    const got = await dig(dnsd, "example.com");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr aa rd ra", got.text);
    assert.deepEqual(got.answer, MAPPED_A, got.text);
    assert.equal(got.edns, true, got.text);
  });
});

test(needsTools(["nsd", "dig"], "dig +norecurse still gets a mapped name"), async () => {
  await withStack(async ({ dnsd, server }) => {
    const got = await dig(dnsd, "+norecurse", "example.com");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr aa ra", got.text);
    assert.deepEqual(got.answer, MAPPED_A, got.text);
    assert.equal(server.counters.forwarded, 0);
  });
});

test(needsTools(["nsd", "dig"], "dig gets a forwarded name: the CNAME and A from NSD"), async () => {
  await withStack(async ({ dnsd, server }) => {
    const got = await dig(dnsd, "www.example.test");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr rd ra", got.text);
    assert.deepEqual(got.answer, WWW_FROM_NSD, got.text);
    assert.equal(server.counters.forwarded, 1);
    assert.equal(server.counters.answered, 1);
  });
});

test(needsTools(["nsd", "dig"], "dig gets NXDOMAIN passed through from NSD"), async () => {
  await withStack(async ({ dnsd }) => {
    const got = await dig(dnsd, "nope.example.test");
    assert.equal(got.status, "NXDOMAIN", got.text);
    assert.deepEqual(got.answer, [], got.text);
    assert.deepEqual(got.authority, SOA_FROM_NSD, got.text);
  });
});

test(
  needsTools(["nsd", "dig"], "dig +norecurse gets REFUSED for a name dnsd would forward"),
  async () => {
    await withStack(async ({ dnsd, server }) => {
      const got = await dig(dnsd, "+norecurse", "www.example.test");
      assert.equal(got.status, "REFUSED", got.text);
      assert.deepEqual(got.answer, [], got.text);
      assert.equal(server.counters.forwarded, 0, "no packet goes upstream for RD=0");
    });
  },
);

test(needsTools(["nsd", "dig"], "dig gets NODATA for AAAA of a name mapped to IPv4"), async () => {
  await withStack(async ({ dnsd }) => {
    const got = await dig(dnsd, "example.com", "AAAA");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr aa rd ra", got.text);
    assert.deepEqual(got.answer, [], got.text);
    assert.match(got.text, /ANSWER: 0,/);
  });
});

test(needsTools(["nsd", "dig"], "dig +noedns gets mapped and forwarded names without OPT"), async () => {
  await withStack(async ({ dnsd }) => {
    const mapped = await dig(dnsd, "+noedns", "example.com");
    assert.equal(mapped.status, "NOERROR", mapped.text);
    assert.deepEqual(mapped.answer, MAPPED_A, mapped.text);
    assert.equal(mapped.edns, false, mapped.text);
    const forwarded = await dig(dnsd, "+noedns", "www.example.test");
    assert.equal(forwarded.status, "NOERROR", forwarded.text);
    assert.deepEqual(forwarded.answer, WWW_FROM_NSD, forwarded.text);
    assert.equal(forwarded.edns, false, forwarded.text);
  });
});

test(needsTools(["nsd", "kdig"], "kdig gets a mapped name and a forwarded name"), async () => {
  await withStack(async ({ dnsd }) => {
    const mapped = await kdig(dnsd, "example.com");
    assert.equal(mapped.status, "NOERROR", mapped.text);
    assert.equal(mapped.flags, "qr aa rd ra", mapped.text);
    assert.deepEqual(mapped.answer, MAPPED_A, mapped.text);
    const forwarded = await kdig(dnsd, "www.example.test");
    assert.equal(forwarded.status, "NOERROR", forwarded.text);
    assert.deepEqual(forwarded.answer, WWW_FROM_NSD, forwarded.text);
  });
});

// ---------------------------------------------------------------------------------------------
// Raw bytes: dnsd against NSD asked directly

const compared: readonly { name: string; type: number; edns: boolean }[] = [
  { name: "www.example.test", type: RRType.A, edns: true },
  { name: "web.example.test", type: RRType.AAAA, edns: true },
  { name: "example.test", type: RRType.MX, edns: true },
  { name: "example.test", type: RRType.TXT, edns: true },
  { name: "example.test", type: RRType.NS, edns: false },
  { name: "example.test", type: RRType.SOA, edns: false },
  { name: "Web.Example.TEST", type: RRType.A, edns: false },
  { name: "nope.example.test", type: RRType.A, edns: true },
  { name: "mail.example.test", type: RRType.TXT, edns: true },
];

test(needsTool("nsd", "dnsd's forwarded answers carry NSD's rcode and RRsets"), async (t) => {
  await withStack(async ({ nsd, dnsd }) => {
    for (const { name, type, edns } of compared) {
      await t.step(`${name} ${typeName(type)}${edns ? " with EDNS" : ""}`, async () => {
        const query = queryBytes(name, type, { edns });
        const direct = await exchange(nsd, query, QUERY_TIMEOUT_MS);
        const relayed = await exchange(dnsd, query, QUERY_TIMEOUT_MS);
        assert.ok(direct && relayed, "both answer");
        const want = decodeMessage(direct);
        const got = decodeMessage(relayed);
        assert.equal(got.id, want.id);
        assert.deepEqual(got.questions, want.questions, "the question as asked");
        assert.equal(got.rcode, want.rcode);
        assert.deepEqual(got.answers, want.answers);
        assert.deepEqual(got.authorities, want.authorities);
        assert.deepEqual(got.additionals, want.additionals);
        assert.equal(got.edns !== null, edns, "OPT only for an EDNS query");
        assert.equal(got.authoritative, false, "dnsd is not the authority for forwarded names");
        assert.equal(got.recursionAvailable, true);
      });
    }
  });
});
