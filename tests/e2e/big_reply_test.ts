/**
 * Upstream replies larger than the batched upstream sockets once read (issue 12, defect 7), end to
 * end through startServer() with Deno's sockets and with batched ones: a 5,000-octet reply over UDP
 * is read whole and reaches the client (over TCP, as it is too large for the client's UDP), and a
 * 5,000-octet truncated (TC=1) one is asked again over TCP. Neither becomes SERVFAIL.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { type RunningServer, startServer } from "../../lib/server/app.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { needsFfi } from "../_batched.ts";
import { fakeTxt } from "../_fake_upstream.ts";
import { connectTcp } from "../_tcp_client.ts";
import { openUdpClient, queryBytes } from "../_udp_client.ts";
import { replyTo, startScriptedUpstream } from "../_scripted_upstream.ts";

/** TXT records of 200 octets: 24 make a reply of about 5,150 octets. */
const RECORDS = 24;

type Kind = "deno" | "batched";

/**
 * `big.test`: the whole answer, over either transport, larger than the 1,232 octets asked for.
 * `cut.test`: over UDP, TC=1 with all but one record (still about 4,900 octets); over TCP, all.
 */
function upstreamFor() {
  return startScriptedUpstream((query, transport) => {
    const name = query.questions[0]!.name;
    const records = fakeTxt(name, RECORDS);
    if (name.toLowerCase().startsWith("cut.") && transport === "udp") {
      return [replyTo(query, { truncated: true, answers: records.slice(1) })];
    }
    return [replyTo(query, { answers: records })];
  });
}

function serverFor(upstream: Deno.NetAddr, udpIo: Kind): RunningServer {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [upstream],
    timeoutMs: 3_000,
    localData: fixedData({}),
    udpIo,
  });
}

async function bigReplies(udpIo: Kind): Promise<void> {
  const upstream = upstreamFor();
  const server = serverFor(upstream.address, udpIo);
  const udp = openUdpClient(server.address);
  const tcp = await connectTcp(server.address);
  try {
    for (const name of ["big.test", "cut.test"]) {
      // Over UDP the client gets what fits in its 1,232 octets: TC=1, never SERVFAIL.
      const short = decodeMessage(await udp.ask(queryBytes(name, RRType.TXT)));
      equal(short.rcode, Rcode.NOERROR, `${name} over UDP`);
      ok(short.truncated, `${name} over UDP is truncated for the client`);
      const whole = decodeMessage(await tcp.ask(queryBytes(name, RRType.TXT)));
      equal(whole.rcode, Rcode.NOERROR, `${name} over TCP`);
      equal(whole.answers.length, RECORDS, `${name} over TCP has every record`);
    }
    const overTcp = upstream.received.filter((query) => query.transport === "tcp").length;
    equal(overTcp, 2, "cut.test was asked again over TCP, once per client query");
    equal(server.counters.tcpFallbacks, 2);
  } finally {
    tcp.close();
    udp.close();
    server.close();
    await server.finished;
    await upstream.close();
  }
}

test("a 5,000-octet upstream reply, whole or truncated, ends in the full answer (Deno's sockets)", {
  timeoutMs: 20_000,
}, () => bigReplies("deno"));

test(
  {
    ...needsFfi(
      "a 5,000-octet upstream reply, whole or truncated, ends in the full answer (batched sockets)",
    ),
    timeoutMs: 20_000,
  },
  () => bigReplies("batched"),
);
