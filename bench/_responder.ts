/**
 * A fake upstream for the memory and soak benchmarks, run inside the benchmark script: it answers
 * every query with one A record (a long TTL, so nothing expires during a run) and counts the
 * queries that reach it, which tells how many answers dnsd has had to fetch, and so cached.
 * Like ceiling.ts: no decoding, no allocation per query. Listens on 127.0.0.1 only.
 * @module
 */

/** A running responder. */
export interface Responder {
  readonly port: number;
  /** Queries answered so far. */
  queries(): number;
  /** Stops it; safe to call more than once. */
  close(): void;
}

/**
 * Starts answering on a free port of 127.0.0.1.
 * @param ttl the TTL of every answer, in seconds
 */
export function startResponder(ttl = 86_400): Responder {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const query = new Uint8Array(4096);
  const reply = new Uint8Array(4096 + 16);
  let count = 0;
  let closed = false;
  const loop = async () => {
    while (true) {
      const [bytes, peer] = await conn.receive(query);
      let end = 12;
      while (end < bytes.length && bytes[end] !== 0) end += bytes[end]! + 1; // the question name's labels
      end += 5; // the root label, QTYPE and QCLASS; anything after (EDNS) is dropped
      if (bytes.length < 12 || end > bytes.length) continue;
      count++;
      reply.set(bytes.subarray(0, end));
      reply[2] = bytes[2]! | 0x80; // QR, keeping the opcode and RD
      reply[3] = 0x80; // RA, NOERROR
      reply.set([0, 1, 0, 1, 0, 0, 0, 0], 4); // one question, one answer, no other records
      // A pointer to the question's name, A, IN, the TTL, RDLENGTH 4, and 10.x.y.z from the count.
      reply.set([0xc0, 0x0c, 0, 1, 0, 1, ttl >>> 24, (ttl >> 16) & 255, (ttl >> 8) & 255, ttl & 255], end);
      reply.set([0, 4, 10, (count >> 16) & 255, (count >> 8) & 255, count & 255], end + 10);
      await conn.send(reply.subarray(0, end + 16), peer);
    }
  };
  loop().catch((error) => {
    if (!closed) throw error; // closing the socket rejects the pending receive(): expected
  });
  return {
    port: (conn.addr as Deno.NetAddr).port,
    queries: () => count,
    close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}
