/**
 * A burst of bad packets makes a running server write at most a couple of lines (issue 12,
 * defect 3): junk, responses, undecodable bodies, and queries that reach a bug (a NOTIFY handler
 * that throws), sent over real UDP. The bug is still logged once, with its stack, and the count
 * of those held back comes with the next line of its kind.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { captureLogs } from "../_log_capture.ts";
import { startServer } from "../../lib/server/app.ts";
import { Opcode, Rcode } from "../../lib/proto/types.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { header, idOf, query } from "../_tcp_client.ts";
import { hex } from "../_hex.ts";
import { openUdpClient } from "../_udp_client.ts";

const BUGGY = 2_000;
const JUNK = 2_000;
/** Packets sent before their answers are awaited: well within a UDP receive buffer. */
const BATCH = 100;

const junk = [
  hex`abcd 01`, // shorter than a header: no answer
  hex`abcd 8180 0001 0000 0000 0000 03 777777 00 0001 0001`, // a response (QR=1): no answer
  hex`abcd 0100 0001 0000 0000 0000 c00c 0001 0001`, // a pointer to itself: FORMERR
  hex`abcd 0100 0005 0000 0000 0000 03 777777`, // counts beyond the message: FORMERR
];

test(`${BUGGY} queries that reach a bug and ${JUNK} junk datagrams write at most two lines`, async () => {
  const capture = captureLogs();
  const lines = capture.lines;
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
    timeoutMs: 500,
    localData: fixedData({}),
    handlers: { notify: () => Promise.reject(new TypeError("a bug a NOTIFY reaches")) },
  });
  const client = openUdpClient(server.address);
  try {
    let servfail = 0;
    for (let sent = 0; sent < BUGGY; sent += BATCH) {
      for (let i = 0; i < BATCH; i++) {
        await client.send(query("example.test", { id: sent + i, opcode: Opcode.NOTIFY }));
        await client.send(junk[(sent + i) % junk.length]!);
      }
      // Each NOTIFY gets SERVFAIL; each FORMERR comes back too (with ID 0xabcd).
      for (let answered = 0; answered < BATCH;) {
        const reply = await client.receive();
        if (idOf(reply) === 0xabcd) continue;
        equal(header(reply).rcode, Rcode.SERVFAIL);
        answered++;
        servfail++;
      }
    }
    equal(servfail, BUGGY);
    ok(
      lines.length >= 1 && lines.length <= 2,
      `${lines.length} lines; the first two:\n${lines.slice(0, 2).join("")}`,
    );
    ok(
      /Error handling query from 127\.0\.0\.1:\d+: TypeError: a bug a NOTIFY reaches\n\s+at /.test(lines[0]!),
    );
  } finally {
    client.close();
    server.close();
    await server.finished;
    capture.stop();
  }
});
