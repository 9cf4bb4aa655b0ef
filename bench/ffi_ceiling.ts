/**
 * An experiment, not part of dnsd: the raw socket ceiling again, but receiving and sending in
 * batches with recvmmsg(2) and sendmmsg(2) through FFI instead of one `Deno.DatagramConn` op per
 * packet. It measures how far a batched transport could take dnsd past the op-per-packet ceiling
 * (see the README's Benchmarks). Linux x86_64/aarch64 only (struct mmsghdr is 64 octets there).
 *
 * `deno run --allow-ffi bench/ffi_ceiling.ts 5410`, then dnsperf against 127.0.0.1:5410.
 * @module
 */

const libc = Deno.dlopen("libc.so.6", {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // Runs on a worker thread and resolves when at least one datagram is in (MSG_WAITFORONE).
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32", nonblocking: true },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
});

const AF_INET = 2;
const SOCK_DGRAM = 2;
const MSG_WAITFORONE = 0x10000;
const BATCH = 64;
const SLOT = 512;
const MMSGHDR = 64; // struct msghdr (56) + msg_len (4) + padding (4)

const port = Number(Deno.args[0] ?? "5410");
const fd = libc.symbols.socket(AF_INET, SOCK_DGRAM, 0);
const address = new Uint8Array(16); // struct sockaddr_in
const view = new DataView(address.buffer);
view.setUint16(0, AF_INET, true);
view.setUint16(2, port, false);
address.set([127, 0, 0, 1], 4);
if (libc.symbols.bind(fd, address, address.length) !== 0) throw new Error(`cannot bind 127.0.0.1:${port}`);

const slots = new Uint8Array(BATCH * SLOT);
const names = new Uint8Array(BATCH * 16);
const iovecs = new BigUint64Array(BATCH * 2);
const headers = new Uint8Array(BATCH * MMSGHDR);
const headerView = new DataView(headers.buffer);
const pointer = (bytes: ArrayBufferView) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
const [slotBase, nameBase, iovecBase] = [pointer(slots), pointer(names), pointer(iovecs)];
for (let i = 0; i < BATCH; i++) {
  const at = i * MMSGHDR;
  headerView.setBigUint64(at, nameBase + BigInt(i * 16), true); // msg_name: the peer, reused to reply
  headerView.setBigUint64(at + 16, iovecBase + BigInt(i * 16), true); // msg_iov
  headerView.setBigUint64(at + 24, 1n, true); // msg_iovlen
  iovecs[2 * i] = slotBase + BigInt(i * SLOT);
}

// A pointer to the question's name, A, IN, TTL 300, RDLENGTH 4, 8.8.8.8.
const ANSWER = [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 8, 8, 8, 8];

while (true) {
  for (let i = 0; i < BATCH; i++) {
    iovecs[2 * i + 1] = BigInt(SLOT);
    headerView.setUint32(i * MMSGHDR + 8, 16, true); // msg_namelen
  }
  const count = await libc.symbols.recvmmsg(fd, headers, BATCH, MSG_WAITFORONE, null);
  if (count <= 0) continue;
  for (let i = 0; i < count; i++) {
    const length = headerView.getUint32(i * MMSGHDR + 56, true);
    const slot = slots.subarray(i * SLOT, (i + 1) * SLOT);
    let end = 12;
    while (end < length && slot[end] !== 0) end += slot[end]! + 1;
    end += 5;
    slot[2] = slot[2]! | 0x80; // QR
    slot[3] = 0x80; // RA, NOERROR
    slot.set([0, 1, 0, 1, 0, 0, 0, 0], 4);
    slot.set(ANSWER, end);
    iovecs[2 * i + 1] = BigInt(end + ANSWER.length);
  }
  libc.symbols.sendmmsg(fd, headers, count, 0);
}
