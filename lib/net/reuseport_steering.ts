/**
 * Which of a port's SO_REUSEPORT sockets takes a query, chosen by its question's name rather than
 * by the sender's address and port (the kernel's own choice): a classic BPF program attached with
 * SO_ATTACH_REUSEPORT_CBPF (Linux 4.5) hashes the name's octets as the datagram holds them, ASCII
 * capitals folded, so every query for a name lands on the same worker (lib/workers), whatever its
 * source port. Each worker has a cache of its own: this way a name is cached, forwarded and
 * counted down in one of them, as with one cache, not once in each. The hash is FNV-1a over the
 * octets after the 12-octet header up to the name's end (its zero octet), at most
 * {@link STEERED_OCTETS} of them, each OR 0x20, then mixed (FNV-1a's low bits alone follow the
 * octets' low bits); the socket is that modulo the group's size. A datagram with no name (12
 * octets or fewer) hashes as the empty name. Pure: the bytes of the program, and the same choice
 * computed here ({@link steeredIndex}), for tests.
 * @module
 */

/** How many octets of a name are hashed: names longer than this are told apart by their start. */
export const STEERED_OCTETS = 64;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** The final mix's multiplier (h ^= h >> 16; h *= MIX; h ^= h >> 16): a well-spread 32-bit odd constant. */
const MIX = 0x045d9f3b;
/** The DNS header's length: the question's name starts after it. */
const HEADER = 12;
/** Scratch memory cells of the program: the hash, and the datagram's length. */
const HASH_CELL = 0;
const LENGTH_CELL = 1;

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const LD_W_LEN = 0x80; // A = datagram length
const LD_IMM = 0x00; // A = k
const LD_MEM = 0x60; // A = M[k]
const LD_B_ABS = 0x30; // A = octet at k
const ST = 0x02; // M[k] = A
const TAX = 0x07; // X = A
const OR_K = 0x44; // A |= k
const XOR_X = 0xac; // A ^= X
const MUL_K = 0x24; // A *= k
const MOD_K = 0x94; // A %= k
const RSH_K = 0x74; // A >>= k
const JA = 0x05; // jump k forward
const JGT_K = 0x25; // A > k ? jt : jf
const JEQ_K = 0x15; // A == k ? jt : jf
const RET_A = 0x16; // return A

/** The instructions of one octet's step, and how far its last (the jump to the end) is from its first. */
const STEP = 12;

/**
 * The program for a group of `count` sockets, as `struct sock_filter` entries (8 octets each:
 * code, jt, jf, k; little-endian, as on every CPU batched UDP runs on).
 */
export function steeringProgram(count: number): Uint8Array {
  const program: [number, number, number, number][] = [
    [LD_W_LEN, 0, 0, 0],
    [ST, 0, 0, LENGTH_CELL],
    [LD_IMM, 0, 0, FNV_OFFSET],
    [ST, 0, 0, HASH_CELL],
  ];
  const end = program.length + STEP * STEERED_OCTETS;
  for (let i = 0; i < STEERED_OCTETS; i++) {
    const at = HEADER + i;
    const first = program.length;
    // Jumps count from the next instruction; each step's last one jumps to the end (a conditional
    // jump reaches 255 instructions at most).
    const toLast = (from: number) => first + STEP - 1 - from - 1;
    program.push(
      [LD_MEM, 0, 0, LENGTH_CELL],
      [JGT_K, 0, toLast(first + 1), at], // past the datagram's end: done
      [LD_B_ABS, 0, 0, at],
      [JEQ_K, toLast(first + 3), 0, 0], // the root's zero octet: the name has ended
      [OR_K, 0, 0, 0x20],
      [TAX, 0, 0, 0],
      [LD_MEM, 0, 0, HASH_CELL],
      [XOR_X, 0, 0, 0],
      [MUL_K, 0, 0, FNV_PRIME],
      [ST, 0, 0, HASH_CELL],
      [JA, 0, 0, 1],
      [JA, 0, 0, end - (first + STEP - 1) - 1],
    );
  }
  // FNV-1a's low bits hang on the octets' low bits alone (its prime is odd): mixed before the modulo.
  program.push(
    [LD_MEM, 0, 0, HASH_CELL],
    [TAX, 0, 0, 0],
    [RSH_K, 0, 0, 16],
    [XOR_X, 0, 0, 0],
    [MUL_K, 0, 0, MIX],
    [TAX, 0, 0, 0],
    [RSH_K, 0, 0, 16],
    [XOR_X, 0, 0, 0],
    [MOD_K, 0, 0, count],
    [RET_A, 0, 0, 0],
  );
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach(([code, jt, jf, k], index) => {
    view.setUint16(index * 8, code, true);
    view.setUint8(index * 8 + 2, jt);
    view.setUint8(index * 8 + 3, jf);
    view.setUint32(index * 8 + 4, k >>> 0, true);
  });
  return bytes;
}

/** The socket {@link steeringProgram} picks for `datagram` in a group of `count`: the same hash, here. */
export function steeredIndex(datagram: Uint8Array, count: number): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < STEERED_OCTETS && HEADER + i < datagram.length; i++) {
    const octet = datagram[HEADER + i]!;
    if (octet === 0) break;
    hash = Math.imul((hash ^ (octet | 0x20)) >>> 0, FNV_PRIME) >>> 0;
  }
  const mixed = Math.imul((hash ^ (hash >>> 16)) >>> 0, MIX) >>> 0;
  return ((mixed ^ (mixed >>> 16)) >>> 0) % count;
}
