/**
 * The forwarder's warnings through the real server (issue 12, defect 3): an upstream that answers
 * SERVFAIL to every query, or says nothing, used to write one WARNING per query; now each kind
 * of line goes out at most once per 10 s, and every event is still counted.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { startServer } from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { formatLogRecord } from "../../lib/observe/log_format.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { query } from "../../lib/proto/message.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { openUdpClient } from "../_udp_client.ts";
import { rcodeOnly, startScripted } from "./_scripted_upstream.ts";

const SERVFAILS = 1_000;
const SILENT = 50;
/** Queries sent before their answers are awaited: well within a UDP receive buffer. */
const BATCH = 50;

test({
  name: `${SERVFAILS} upstream SERVFAILs and ${SILENT} upstream timeouts write one line of each kind`,
  timeoutMs: 30_000,
}, async () => {
  const lines: string[] = [];
  configureSync({
    sinks: { memory: (record: LogRecord) => lines.push(formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd", "forward"], lowestLevel: "warning", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  const upstream = startScripted((m) =>
    m.questions[0]!.name.startsWith("sf.") ? rcodeOnly(m, Rcode.SERVFAIL) : null
  );
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream.address],
    timeoutMs: 200,
    localData: fixedData({}),
  });
  const client = openUdpClient(server.address);
  try {
    const ask = async (count: number, name: (i: number) => string) => {
      for (let sent = 0; sent < count; sent += BATCH) {
        const batch = Math.min(BATCH, count - sent);
        for (let i = 0; i < batch; i++) {
          await client.send(encodeMessage(query({ name: name(sent + i) }, { id: sent + i })));
        }
        for (let i = 0; i < batch; i++) equal(decodeMessage(await client.receive()).rcode, Rcode.SERVFAIL);
      }
    };
    await ask(SERVFAILS, (i) => `sf.n${i}.test`);
    await ask(SILENT, (i) => `quiet.n${i}.test`);
    equal(server.counters.failovers, SERVFAILS);
    ok(server.counters.timeouts >= SILENT);
    const refusedLines = lines.filter((line) => line.includes("answered SERVFAIL"));
    const timeoutLines = lines.filter((line) => line.includes("No upstream answered"));
    equal(refusedLines.length, 1, lines.join("\n"));
    equal(timeoutLines.length, 1, lines.join("\n"));
    ok(lines.length <= 2, lines.join("\n"));
    ok(lines.every((line) => line.includes(" - WARNING - ") && !line.includes("    at ")), "no stack traces");
  } finally {
    client.close();
    server.close();
    await server.finished;
    await upstream.close();
    resetSync();
  }
});
