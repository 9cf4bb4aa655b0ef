/**
 * EDNS (RFC 6891), truncation and Extended DNS Errors (RFC 8914) end to end, over UDP to
 * startServer() on 127.0.0.1 with a fake upstream; dig where it shows what users see.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match, notDeepEqual, ok } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { type Edns, Rcode, RRType } from "../../lib/proto/types.ts";
import type { Behaviour } from "../_fake_upstream.ts";
import { toHex } from "../_hex.ts";
import { dig } from "../_nsd.ts";
import { header, idOf, query, withDnsd } from "../_tcp_client.ts";
import { needsTool } from "../_tools.ts";
import { udpAsk } from "../_udp_client.ts";

const behaviours: Readonly<Record<string, Behaviour>> = {
  "fwd.dnsd.test": { kind: "answer", address: "192.0.2.1" },
  "silent.dnsd.test": { kind: "silent" },
};

/** The forwarding deadline: short, since one test waits it out. */
const TIMEOUT_MS = 300;

const options = { behaviours, timeoutMs: TIMEOUT_MS } as const;

/** The OPT record dnsd sends back, whatever the client offered. */
function ourOpt(dnssecOk: boolean): Edns {
  return { udpPayloadSize: 1232, version: 0, dnssecOk, flags: 0, options: [] };
}

test("dnsd answers with an OPT of payload 1232, version 0 and the client's DO bit", async (t) => {
  await withDnsd(options, async ({ server }) => {
    for (const name of ["local.dnsd.test", "fwd.dnsd.test"]) {
      for (const dnssecOk of [false, true]) {
        for (const udpPayloadSize of [512, 1232, 4096]) {
          await t.step(`${name}, DO=${dnssecOk ? 1 : 0}, size ${udpPayloadSize}`, async () => {
            const reply = decodeMessage(
              await udpAsk(server.address, query(name, { edns: { dnssecOk, udpPayloadSize } })),
            );
            equal(reply.rcode, Rcode.NOERROR);
            equal(reply.answers.length, 1);
            deepEqual(reply.edns, ourOpt(dnssecOk));
          });
        }
      }
    }
  });
});

test("dnsd caps a client's UDP size at 1232 and raises one under 512 to 512", async (t) => {
  await withDnsd(options, async ({ server, upstream }) => {
    const cases = [
      { size: 4096, name: "medium.dnsd.test", tc: 0 }, // ~770 octets: fits 1232
      { size: 4096, name: "big.dnsd.test", tc: 1 }, // ~2,950 octets: 4096 would fit it, 1232 does not
      { size: 100, name: "small.dnsd.test", tc: 0 }, // ~330 octets: over 100, but 512 is the floor
      { size: 100, name: "medium.dnsd.test", tc: 1 }, // over 512
    ];
    for (const { size, name, tc } of cases) {
      await t.step(`size ${size}: ${name} ${tc ? "is truncated" : "comes whole"}`, async () => {
        const bytes = await udpAsk(
          server.address,
          query(name, { type: RRType.TXT, edns: { udpPayloadSize: size } }),
        );
        equal(header(bytes).tc, tc);
        ok(bytes.length <= Math.min(1232, Math.max(512, size)), `${bytes.length} octets`);
        if (!tc) ok(bytes.length > Math.min(size, 512), `${bytes.length} octets`);
      });
    }
    await t.step("the upstream is offered the capped size", async () => {
      await udpAsk(server.address, query("fwd.dnsd.test", { edns: { udpPayloadSize: 4096 } }));
      await udpAsk(server.address, query("fwd.dnsd.test", { edns: { udpPayloadSize: 100 } }));
      deepEqual(upstream.received.map((r) => r.message?.edns?.udpPayloadSize), [1232, 512]);
    });
  });
});

test("dnsd answers BADVERS, with an OPT of version 0, to EDNS version 1", async () => {
  await withDnsd(options, async ({ server, upstream }) => {
    const bytes = await udpAsk(
      server.address,
      query("local.dnsd.test", { id: 0x0e0e, edns: { version: 1 } }),
    );
    const reply = decodeMessage(bytes);
    equal(reply.id, 0x0e0e);
    equal(reply.rcode, Rcode.BADVERS);
    equal(header(bytes).rcode, 0); // 16: the low four bits in the header...
    equal(toHex(bytes.subarray(-11)), "00" + "0029" + "04d0" + "01" + "00" + "0000" + "0000"); // ...1 in the OPT
    deepEqual(reply.edns, ourOpt(false));
    equal(reply.answers.length, 0);
    equal(upstream.received.length, 0);
  });
});

test(needsTool("dig", "dig +edns=1 shows status BADVERS"), async (t) => {
  await withDnsd(options, async ({ server }) => {
    const { port } = server.address;
    await t.step("without negotiation", async () => {
      match((await dig(port, "+edns=1", "+noednsnegotiation", "local.dnsd.test")).text, /status: BADVERS/);
    });
    await t.step("with negotiation (dig's default), it retries with version 0", async () => {
      const { text: out } = await dig(port, "+edns=1", "local.dnsd.test");
      match(out, /^;; BADVERS, retrying with EDNS version 0\.$/m);
      match(out, /status: NOERROR/);
    });
  });
});

test("dnsd ignores an unknown EDNS option and does not echo it", async () => {
  await withDnsd(options, async ({ server }) => {
    const unknown = { code: 65001, data: Uint8Array.from([1, 2, 3]) };
    const reply = decodeMessage(
      await udpAsk(server.address, query("local.dnsd.test", { edns: { options: [unknown] } })),
    );
    equal(reply.rcode, Rcode.NOERROR);
    deepEqual(reply.answers.map((r) => r.data), [{ type: "A", address: "192.0.2.53" }]);
    deepEqual(reply.edns, ourOpt(false));
  });
});

test("dnsd answers FORMERR to a query with two OPT records", async () => {
  await withDnsd(options, async ({ server }) => {
    const one = query("local.dnsd.test", { id: 0x0202, edns: {} });
    const two = new Uint8Array(one.length + 11);
    two.set(one);
    two.set(one.subarray(-11), one.length); // the same OPT again
    two[11] = 2; // ARCOUNT
    const bytes = await udpAsk(server.address, two);
    deepEqual(header(bytes), {
      id: 0x0202,
      qr: 1,
      opcode: 0,
      aa: 0,
      tc: 0,
      rd: 1,
      ra: 1,
      z: 0,
      ad: 0,
      cd: 0,
      rcode: Rcode.FORMERR,
      qdcount: 0,
      ancount: 0,
      nscount: 0,
      arcount: 0,
    });
  });
});

test("dnsd answers FORMERR to a query with an OPT record in the answer section too", async () => {
  await withDnsd(options, async ({ server }) => {
    const one = query("local.dnsd.test", { id: 0x0303, edns: {} });
    // The question, then the same OPT record as an answer and again as the one in additional.
    const question = one.subarray(0, one.length - 11);
    const opt = one.subarray(-11);
    const bytes = Uint8Array.from([...question, ...opt, ...opt]);
    bytes[7] = 1; // ANCOUNT
    const reply = await udpAsk(server.address, bytes);
    equal(header(reply).rcode, Rcode.FORMERR);
    equal(header(reply).id, 0x0303);
  });
});

test("dnsd carries the DO bit to the upstream but not the client's cookie, and answers the cookie itself", async () => {
  await withDnsd(options, async ({ server, upstream }) => {
    const cookie = { code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }; // RFC 7873 client cookie
    for (const dnssecOk of [true, false]) {
      const reply = decodeMessage(
        await udpAsk(server.address, query("fwd.dnsd.test", { edns: { dnssecOk, options: [cookie] } })),
      );
      equal(reply.rcode, Rcode.NOERROR);
      // Its own COOKIE option (RFC 7873): the client cookie and a 16-octet server cookie of dnsd's.
      const { options: answered = [], ...rest } = reply.edns ?? {};
      deepEqual(rest, { udpPayloadSize: 1232, version: 0, dnssecOk, flags: 0 });
      equal(answered.length, 1);
      equal(answered[0]!.code, 10);
      deepEqual(answered[0]!.data.subarray(0, 8), cookie.data);
      equal(answered[0]!.data.length, 24);
    }
    deepEqual(upstream.received.map((r) => r.message?.edns?.dnssecOk), [true, false]);
    // The upstream gets dnsd's own client cookie (RFC 7873), the same both times, never the client's.
    const sent = upstream.received.map((r) => r.message?.edns?.options ?? []);
    deepEqual(sent.map((options) => options.map((option) => option.code)), [[10], [10]]);
    equal(sent[0]![0]!.data.length, 8, "a client cookie alone: this upstream gave no server cookie");
    deepEqual(sent[0]![0]!.data, sent[1]![0]!.data);
    notDeepEqual(sent[0]![0]!.data, cookie.data);
  });
});

test("dnsd truncates a UDP answer to the client's limit: TC=1 and the question only", async (t) => {
  await withDnsd(options, async ({ server }) => {
    const cases = [
      { label: "without EDNS", edns: undefined, limit: 512, arcount: 0 },
      { label: "with EDNS 512", edns: { udpPayloadSize: 512 }, limit: 512, arcount: 1 },
      { label: "with EDNS 1232", edns: { udpPayloadSize: 1232 }, limit: 1232, arcount: 1 },
    ];
    for (const { label, edns, limit, arcount } of cases) {
      await t.step(label, async () => {
        const asked = query("big.dnsd.test", { id: 0x7c7c, type: RRType.TXT, ...(edns ? { edns } : {}) });
        const bytes = await udpAsk(server.address, asked);
        ok(bytes.length <= limit, `${bytes.length} octets`);
        deepEqual(header(bytes), {
          id: 0x7c7c,
          qr: 1,
          opcode: 0,
          aa: 1,
          tc: 1,
          rd: 1,
          ra: 1,
          z: 0,
          ad: 0,
          cd: 0,
          rcode: Rcode.NOERROR,
          qdcount: 1,
          ancount: 0, // never part of an RRset
          nscount: 0,
          arcount,
        });
        // The question as asked, then at most our OPT.
        const questionEnd = query("big.dnsd.test", { type: RRType.TXT }).length;
        equal(bytes.length, questionEnd + 11 * arcount);
        equal(toHex(bytes.subarray(12, questionEnd)), toHex(asked.subarray(12, questionEnd)));
        if (arcount) deepEqual(decodeMessage(bytes).edns, ourOpt(false));
      });
    }
  });
});

test(
  needsTool("dig", "dig +bufsize=512 retries a truncated answer over TCP and gets it whole"),
  async () => {
    await withDnsd(options, async ({ server }) => {
      const { port } = server.address;
      const { text: out } = await dig(port, "+bufsize=512", "big.dnsd.test", "TXT");
      match(out, /^;; Truncated, retrying in TCP mode\.$/m);
      match(out, /ANSWER: 40,/);
      equal(out.match(/^big\.dnsd\.test\.\s+300\s+IN\s+TXT\s+"/gm)?.length, 40);
      match(out, new RegExp(String.raw`^;; SERVER: 127\.0\.0\.1#${port}\(127\.0\.0\.1\) \(TCP\)$`, "m"));
    });
  },
);

test("dnsd explains failures with an Extended DNS Error when the client speaks EDNS", async (t) => {
  await withDnsd(options, async ({ server, upstream }) => {
    // RFC 8914 section 4: 22 No Reachable Authority, 18 Prohibited, 21 Not Supported.
    const cases = [
      { label: "an upstream timeout", name: "silent.dnsd.test", rcode: Rcode.SERVFAIL, ede: 22 },
      { label: "RD=0 for a name not held", name: "fwd.dnsd.test", rd: false, rcode: Rcode.REFUSED, ede: 18 },
      { label: "opcode 4 (NOTIFY)", name: "local.dnsd.test", opcode: 4, rcode: Rcode.NOTIMP, ede: 21 },
    ];
    for (const { label, name, rd = true, opcode = 0, rcode, ede } of cases) {
      await t.step(`${label}: rcode ${rcode}, EDE ${ede}`, async () => {
        const bytes = await udpAsk(server.address, query(name, { id: 0x0e0d, rd, opcode, edns: {} }));
        const reply = decodeMessage(bytes);
        equal(reply.id, 0x0e0d);
        equal(reply.opcode, opcode);
        equal(reply.rcode, rcode);
        equal(reply.answers.length, 0);
        deepEqual(edeOf(reply.edns).map((e) => e.code), [ede]);
        // EXTRA-TEXT only where it explains an upstream failure; REFUSED and NOTIMP stay small (defect 11).
        equal(edeOf(reply.edns)[0]!.text.length > 0, rcode === Rcode.SERVFAIL, "EXTRA-TEXT");
      });
      await t.step(`${label}, without EDNS: rcode ${rcode} and no OPT`, async () => {
        const bytes = await udpAsk(server.address, query(name, { id: 0x0e0e, rd, opcode }));
        equal(idOf(bytes), 0x0e0e);
        equal(header(bytes).rcode, rcode);
        equal(header(bytes).arcount, 0);
        equal(decodeMessage(bytes).edns, null);
      });
    }
    // RD=0 and NOTIMP never reach the upstream; the two timeouts do.
    deepEqual(upstream.received.map((r) => r.message?.questions[0]?.name), [
      "silent.dnsd.test",
      "silent.dnsd.test",
    ]);
  });
});

test(needsTool("dig", "dig shows the Extended DNS Error of an upstream timeout"), async () => {
  await withDnsd(options, async ({ server }) => {
    const { text: out } = await dig(server.address.port, "silent.dnsd.test");
    match(out, /status: SERVFAIL/);
    match(out, /^; EDE: 22 \(No Reachable Authority\)/m);
  });
});
