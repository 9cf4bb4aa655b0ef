/**
 * The raw socket ceiling for the load benchmark: the least a Deno UDP server can do per query.
 * It answers every query with one fixed A record (8.8.8.8, TTL 300): it copies the header and
 * question, sets QR and the counts, and appends the answer. No decoding, no allocation per query.
 *
 * `deno run --allow-net --unstable-net bench/ceiling.ts --port 5300`
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "5300" } } });
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: Number(values.port) });
// A pointer to the question's name (offset 12), A, IN, TTL 300, RDLENGTH 4, 8.8.8.8.
const ANSWER = [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 8, 8, 8, 8];
const query = new Uint8Array(4096);
const reply = new Uint8Array(4096 + ANSWER.length);

while (true) {
  const [bytes, peer] = await conn.receive(query);
  let end = 12;
  while (end < bytes.length && bytes[end] !== 0) end += bytes[end]! + 1; // the question name's labels
  end += 5; // the root label, QTYPE and QCLASS; anything after (EDNS) is dropped
  if (end > bytes.length) continue;
  reply.set(bytes.subarray(0, end));
  reply[2] = bytes[2]! | 0x80; // QR, keeping the opcode and RD
  reply[3] = 0x80; // RA, NOERROR
  reply.set([0, 1, 0, 1, 0, 0, 0, 0], 4); // one question, one answer, no other records
  reply.set(ANSWER, end);
  await conn.send(reply.subarray(0, end + ANSWER.length), peer);
}
