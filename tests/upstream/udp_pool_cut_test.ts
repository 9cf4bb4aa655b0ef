/**
 * A reply cut short on reading (MSG_TRUNC) reaches the forwarder as a truncated one and is asked
 * again over TCP, instead of failing to decode (issue 12, defect 7). The reactor's shared upstream
 * buffers are made small here, since at their real size (65,535 octets) no datagram is ever cut.
 * @module
 */
import { test } from "../_limit.ts";
import { equal } from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { query as baseQuery } from "../../lib/proto/message.ts";
import { RRType } from "../../lib/proto/types.ts";
import { openReactorSocket, UdpReactor } from "../../lib/net/mod.ts";
import { createForwardCounters, forward, pooledUdpExchange, tcpExchange } from "../../lib/upstream/mod.ts";
import { needsFfi } from "../_batched.ts";
import { fakeTxt } from "../_fake_upstream.ts";
import { requestOf } from "../_request.ts";
import { replyTo, startScriptedUpstream } from "../_scripted_upstream.ts";

const RECORDS = 8; // about 1,750 octets: more than the 512-octet slots below

test(
  { ...needsFfi("a reply cut short on reading is asked again over TCP, whole"), timeoutMs: 15_000 },
  async () => {
    const upstream = startScriptedUpstream((query) => [
      replyTo(query, { answers: fakeTxt(query.questions[0]!.name, RECORDS) }),
    ]);
    const reactor = new UdpReactor({ upstreamSlotSize: 512 });
    const pool = pooledUdpExchange(upstream.address, { open: () => openReactorSocket(reactor) });
    const counters = createForwardCounters();
    const stage = forward([{ name: "upstream", exchange: pool, tcp: tcpExchange(upstream.address) }], {
      timeoutMs: 3_000,
      counters,
    });
    try {
      const request = baseQuery({ name: "cut.test", type: RRType.TXT }, { id: 7, recursionDesired: true });
      const answer = await stage(requestOf(request), () => Promise.reject(new Error("not reached")));
      equal(answer.truncated, false);
      equal(answer.answers.length, RECORDS);
      equal(counters.tcpFallbacks, 1);
      equal(counters.malformed, 0);
      // The stand-in the pool gave the forwarder: the query's own octets, with QR and TC.
      const stand = decodeMessage(await pool(upstreamQuery(), new AbortController().signal));
      equal(stand.response, true);
      equal(stand.truncated, true);
      equal(stand.answers.length, 0);
    } finally {
      await pool.close();
      await reactor.close();
      await upstream.close();
    }
  },
);

function upstreamQuery(): Uint8Array {
  return new Uint8Array([
    0x12,
    0x34,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0, // ID, RD, QDCOUNT=1
    3,
    0x63,
    0x75,
    0x74,
    4,
    0x74,
    0x65,
    0x73,
    0x74,
    0,
    0,
    16,
    0,
    1, // cut.test TXT IN
  ]);
}
