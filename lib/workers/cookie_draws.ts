/**
 * Server cookie secrets that every worker draws alike. Without `--cookie-secret` each server draws
 * a secret at start and a new one each day (lib/policy/cookie_server.ts); with `--workers`, a
 * client whose next query lands on another worker must find its cookie valid there too. So the
 * main thread draws one random seed, and every worker's k-th secret is SipHash-2-4 of k (and k
 * with its top bit set, for the second 8 octets) under that seed: the same secrets, in the same
 * order, drawn at the same moments (start, then each day).
 * @module
 */
import { siphash24 } from "../policy/mod.ts";

/** A drawing function for `ServerCookies` (its `random`): the k-th call fills the k-th secret of `seed`. */
export function seededDraws(seed: Uint8Array): (octets: Uint8Array) => void {
  let drawn = 0;
  return (octets) => {
    const counter = new DataView(new ArrayBuffer(8));
    for (let at = 0, half = 0; at < octets.length; at += 8, half++) {
      counter.setUint32(0, half << 31 >>> 0);
      counter.setUint32(4, drawn);
      const block = siphash24(seed, new Uint8Array(counter.buffer));
      octets.set(block.subarray(0, Math.min(8, octets.length - at)), at);
    }
    drawn++;
  };
}
