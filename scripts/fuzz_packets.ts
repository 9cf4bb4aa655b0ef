/**
 * The packets of the wire fuzz run (`deno task fuzz:wire`): mutations of real queries and
 * responses, random octets, truncations, bad section counts and compression loops, from a seeded
 * generator so a run can be repeated exactly. Pure: no sockets here.
 * @module
 */
import { encodeMessage } from "../lib/proto/codec.ts";
import { query } from "../lib/proto/message.ts";
import { RRType } from "../lib/proto/types.ts";

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same run. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** `length` random octets. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** The names the seeds ask for: local ones (mappings.ts), forwarded ones, and odd ones. */
const NAMES = ["example.com", "Test.COM", "random.org", "fwd.fuzz.invalid", "a.b.c.d.e.f.g", "x", "."];
const TYPES = [RRType.A, RRType.AAAA, RRType.MX, RRType.TXT, RRType.ANY, RRType.AXFR, RRType.IXFR, 0xff00];

/** Real queries to mutate: every name and type, with and without RD and EDNS. */
export function seedQueries(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of NAMES) {
    for (const type of TYPES) {
      for (const recursionDesired of [true, false]) {
        for (const withEdns of [true, false]) {
          const edns = withEdns
            ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] }
            : null;
          out.push(encodeMessage(query({ name, type }, { id: out.length, recursionDesired, edns })).slice());
        }
      }
    }
  }
  return out;
}

/** Values a mutation writes: counts, label lengths and pointer octets come up often. */
const SPECIAL = [0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0, 0xc0, 0xff];

/** One to eight edits of a copy of `bytes`: flip, overwrite, insert, delete, truncate, duplicate. */
export function mutate(random: Random, bytes: Uint8Array): Uint8Array {
  let out = Array.from(bytes);
  const edits = 1 + random.below(8);
  for (let e = 0; e < edits; e++) {
    const at = out.length === 0 ? 0 : random.below(out.length);
    switch (random.below(6)) {
      case 0:
        if (out.length > 0) out[at] = out[at]! ^ (1 << random.below(8));
        break;
      case 1:
        if (out.length > 0) out[at] = random.below(2) ? random.pick(SPECIAL) : random.below(256);
        break;
      case 2:
        out.splice(at, 0, random.below(256));
        break;
      case 3:
        out.splice(at, 1);
        break;
      case 4:
        out = out.slice(0, at);
        break;
      default:
        out.splice(at, 0, ...out.slice(at, at + 1 + random.below(32)));
    }
  }
  return Uint8Array.from(out);
}

/** The question's name replaced by a pointer loop, a forward pointer, or a pointer into the header. */
function compressionLoop(random: Random, seed: Uint8Array): Uint8Array {
  const tail = seed.subarray(12);
  const end = tail.indexOf(0); // the end of the question name (seeds have plain names)
  const rest = tail.subarray(end + 1);
  const loops = [
    [0xc0, 0x0c], // a pointer to itself
    [0x01, 0x61, 0xc0, 0x0c], // a label, then back to the start: a loop through a label
    [0xc0, 0x0e, 0xc0, 0x0c], // two pointers to each other
    [0xc0, 0x20 + random.below(64)], // a forward pointer
    [0xc0, random.below(12)], // into the header
    [0xc0 | random.below(64), random.below(256)], // anywhere
  ];
  const name = random.pick(loops);
  const out = new Uint8Array(12 + name.length + rest.length);
  out.set(seed.subarray(0, 12));
  out.set(name, 12);
  out.set(rest, 12 + name.length);
  return out;
}

/** A seed with one section count set to anything (up to 65,535): counts beyond the message. */
function badCounts(random: Random, seed: Uint8Array): Uint8Array {
  const out = seed.slice();
  const field = 4 + 2 * random.below(4);
  const count = random.below(2) ? random.below(8) : random.below(0x10000);
  out[field] = count >>> 8;
  out[field + 1] = count & 0xff;
  return out;
}

/** The kinds of fuzzed packet, in the order {@link fuzzPacket} draws them. */
export const KINDS = ["random", "mutated", "truncated", "counts", "compression", "valid"] as const;

/**
 * One fuzzed packet: random octets (0 to 600), a mutated seed, a seed cut short, a seed with a bad
 * count, a compression loop, or a valid seed (so the real paths run too).
 */
export function fuzzPacket(random: Random, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = random.pick(seeds);
  switch (random.below(KINDS.length)) {
    case 0:
      return random.bytes(random.below(601));
    case 1:
      return mutate(random, seed);
    case 2:
      return seed.slice(0, random.below(seed.length));
    case 3:
      return badCounts(random, seed);
    case 4:
      return seed.length > 12 && seed[12] !== 0 ? compressionLoop(random, seed) : mutate(random, seed);
    default:
      return seed.slice();
  }
}

/** `packet` with QR=1 (a response, which must get no answer); packets under 3 octets have no QR bit. */
export function asResponse(packet: Uint8Array): Uint8Array {
  const out = packet.length >= 3 ? packet.slice() : new Uint8Array([...packet, 0, 0, 0]).subarray(0, 3);
  out[2] = out[2]! | 0x80;
  return out;
}
