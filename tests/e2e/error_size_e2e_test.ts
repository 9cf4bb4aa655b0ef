/**
 * Error answers from a running server stay about the size of their query (issue 12, defect 11):
 * REFUSED to an RD=0 query, NOTIMP, and a refused transfer over UDP and TCP, each the query plus
 * the six octets of an Extended DNS Error with no EXTRA-TEXT.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { startServer } from "../../lib/server/app.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { edeOf } from "../../lib/proto/ede.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { connectTcp, query } from "../_tcp_client.ts";
import { udpAsk } from "../_udp_client.ts";

const cases = [
  {
    label: "REFUSED to an RD=0 query",
    bytes: query("www.example.test", { id: 0x0b01, rd: false, edns: {} }),
    rcode: Rcode.REFUSED,
    ede: 18,
  },
  {
    label: "NOTIMP to opcode 4 (NOTIFY, with no handler)",
    bytes: query("www.example.test", { id: 0x0b02, opcode: 4, edns: {} }),
    rcode: Rcode.NOTIMP,
    ede: 21,
  },
  {
    label: "a refused transfer (AXFR)",
    bytes: query("example.test", { id: 0x0b03, type: RRType.AXFR, edns: {} }),
    rcode: Rcode.REFUSED,
    ede: 18,
  },
] as const;

test("dnsd's error answers are their query plus six octets, over UDP and TCP", async (t) => {
  // Nothing here is forwarded: the upstream address is never used.
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
    timeoutMs: 500,
    localData: fixedData({}),
  });
  try {
    for (const { label, bytes, rcode, ede } of cases) {
      await t.step(`${label}: ${bytes.length} + 6 octets`, async () => {
        const overUdp = await udpAsk(server.address, bytes);
        const tcp = await connectTcp(server.address);
        let overTcp: Uint8Array;
        try {
          overTcp = await tcp.ask(bytes);
        } finally {
          tcp.close();
        }
        for (const reply of [overUdp, overTcp]) {
          const message = decodeMessage(reply);
          equal(message.rcode, rcode);
          deepEqual(edeOf(message.edns), [{ code: ede, text: "" }]);
          equal(reply.length, bytes.length + 6);
        }
      });
    }
  } finally {
    server.close();
    await server.finished;
  }
});
