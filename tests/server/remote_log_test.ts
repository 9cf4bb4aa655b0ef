/**
 * No one outside can make the UDP server write a line per packet (issue 12, defect 3): answers the
 * kernel will not send, answers whose send fails, and a bug a packet can reach are counted and
 * logged at most once per interval, with no stack trace for what the client's address caused.
 * The socket is a fake that hands serveUdp() real query bytes in batches, as recvmmsg does.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { logged } from "../_log_capture.ts";
import { encodeMessage } from "../../lib/proto/codec.ts";
import { query, reply } from "../../lib/proto/message.ts";
import type { DatagramBatch, DatagramSocket } from "../../lib/net/datagram.ts";
import type { Resolve } from "../../lib/resolve/request.ts";
import { serveUdp } from "../../lib/server/udp_server.ts";

const PACKETS = 5_000;
const BATCH = 64;

/**
 * A socket that delivers `count` copies of `datagram` from 192.0.2.7:53000, `BATCH` at a time,
 * then waits to be closed; every send goes to `send`.
 */
function fakeSocket(
  datagram: Uint8Array,
  count: number,
  send: DatagramSocket["send"],
): DatagramSocket & { sends: () => number; delivered: Promise<void> } {
  let sends = 0;
  let allDelivered: () => void = () => {};
  const delivered = new Promise<void>((resolve) => allDelivered = resolve);
  let closed: () => void = () => {};
  const ended = new Promise<void>((resolve) => closed = resolve);
  const sender: Deno.NetAddr = { transport: "udp", hostname: "192.0.2.7", port: 53000 };
  return {
    addr: { transport: "udp", hostname: "127.0.0.1", port: 53 },
    async serve(handler) {
      for (let sent = 0; sent < count; sent += BATCH) {
        // Not annotated, so that this also runs against a DatagramBatch without `cut` (before issue 12).
        const batch = {
          count: Math.min(BATCH, count - sent),
          datagram: () => datagram,
          cut: () => false,
          sender: () => ({ ...sender }),
          senderNow: () => sender,
          replyTo: (_: number, bytes: Uint8Array) => {
            const sending = send(bytes, sender);
            if (sending instanceof Promise) sending.catch(() => {});
            return sending === true;
          },
        };
        handler(batch satisfies DatagramBatch);
        await new Promise((resolve) => setTimeout(resolve, 0)); // as a socket waits for the next batch
      }
      allDelivered();
      await ended;
    },
    send(data, to) {
      sends++;
      return send(data, to);
    },
    close: () => closed(),
    sends: () => sends,
    delivered,
  };
}

const QUERY = encodeMessage(query({ name: "www.example.test" }, { id: 0x5151 })).slice();
const answer: Resolve = (request) => Promise.resolve(reply(request.message));

const sendFailures = [
  { name: "the kernel refuses every answer (a full send buffer)", send: () => false },
  {
    name: "every send rejects (a source address no answer can go to)",
    send: () => Promise.reject(new Deno.errors.InvalidData("Invalid argument (os error 22)")),
  },
] as const;

for (const { name, send } of sendFailures) {
  test(`serveUdp() logs one line, with no stack, for ${PACKETS} queries when ${name}`, async () => {
    const socket = fakeSocket(QUERY, PACKETS, send);
    const lines = await logged(async () => {
      const server = serveUdp(socket, answer);
      await socket.delivered;
      await server.stop(2_000);
    });
    ok(socket.sends() >= PACKETS, `${socket.sends()} sends`);
    ok(lines.length <= 2, `${lines.length} lines, the first: ${lines.slice(0, 2).join("")}`);
    equal(lines.filter((line) => /\n\s+at /.test(line)).length, 0, "a stack trace");
  });
}

test(`serveUdp() logs a bug that ${PACKETS} queries reach at most twice, the first with its stack`, async () => {
  const socket = fakeSocket(QUERY, PACKETS, () => true);
  const buggy: Resolve = () => Promise.reject(new TypeError("Cannot read properties of undefined"));
  const lines = await logged(async () => {
    const server = serveUdp(socket, buggy);
    await socket.delivered;
    await server.stop(2_000);
  });
  ok(socket.sends() >= PACKETS, `${socket.sends()} SERVFAIL answers`);
  ok(lines.length >= 1 && lines.length <= 2, `${lines.length} lines`);
  ok(/Error handling query from 192\.0\.2\.7:53000: TypeError/.test(lines[0]!), lines[0]);
});
